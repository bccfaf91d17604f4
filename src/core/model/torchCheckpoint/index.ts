// Reading PyTorch checkpoints (torch.save, zip and legacy formats) without Python: a restricted unpickler that
// rebuilds tensors and plain containers only, and the state-dict helpers to match them to a network.
export { readTorchCheckpoint, readTorchCheckpointFile, type CheckpointFormat, type TorchCheckpoint } from './read';
export { allTensors, matchReport, stateDictOf, type MatchReport, type StateDict, type StateDictSource } from './stateDict';
export { isDict, isTensor, type PyDict, type PyKey, type PyValue, type TorchDtype, type TorchTensor } from './values';
