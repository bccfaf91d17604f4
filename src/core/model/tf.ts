// The one TensorFlow.js instance the engine uses: the union package's Node build registers every op's gradient
// against tfjs-core's CommonJS build (tfjs-core's own register_all_gradients is ESM only and would load a
// second, inconsistent copy of the core under Node). Engine code imports tf from here.
export * from '@tensorflow/tfjs';
