/** VQ-VAE on MNIST (seed 004): model, training loop, data, checkpoints and a PixelCNN prior. */
export { VQVAE, ResidualBlock } from './model';
export type { VQVAEOptions, VQVAEConfig, VQVAEForward, VQVAELoss } from './model';
export { checkBottleneck, bottleneckVariables, describeBottleneck } from './bottleneck';
export type { Bottleneck, BottleneckOutput } from './bottleneck';
export { Conv2D, ConvTranspose2D } from './layers';
export { VQVAETrainer, TrainerBase, evaluateVQVAE, encodeDataset, epochBatches, codeStats } from './train';
export type { StepMetrics, TrainProgress, TrainerOptions, FitOptions } from './train';
export { reconstructionPng } from './figures';
export { fitWithLog, readTrainLog, DLDEMOS_MNIST } from './trainlog';
export type { TrainLog, EpochScore, LoggedFitOptions } from './trainlog';
export { GatedPixelCNN, GatedBlock, causalMask } from './pixelcnn';
export type { PixelCNNOptions, PixelCNNConfig, MaskType } from './pixelcnn';
export { PixelCNNTrainer } from './prior';
export type { PriorStepMetrics } from './prior';
export { loadMnist, npmMnistArrays, idxMnistArrays, parseIdx, IDX_FILES, NPM_TEST_PER_CLASS } from './data';
export type { MnistData, MnistSplit, MnistArrays, MnistOptions } from './data';
export {
  saveCheckpoint, loadCheckpoint, loadOrTrain, checkpointExists, checkpointPath, fileCheckpointHandler, defaultCheckpointDir,
} from './checkpoint';
export type { Checkpointable, SaveOptions, HandlerOptions } from './checkpoint';
