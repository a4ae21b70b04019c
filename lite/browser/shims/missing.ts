/** A Node-only package (e.g. @tensorflow/tfjs-node): loading it fails as a missing package does. */
throw new Error("Cannot find module '@tensorflow/tfjs-node' (native TensorFlow does not run in the browser)");
export {};
