// Stands in for sharp inside the GPU check kit's bundle: the check decodes no image files, and sharp's native
// addon cannot load from a bundle.
export default function sharp() {
  throw new Error('sharp is not part of the GPU check kit');
}
