/** A gated PixelCNN prior over code grids (DL-Demos layout) and its trainer. */
export { GatedPixelCNN, GatedBlock, causalMask, PIXELCNN_OPTIONS, SAMPLE_OPTIONS, PIXELCNN_INIT_STREAM } from './pixelcnn';
export type { PixelCNNOptions, PixelCNNConfig, MaskType } from './pixelcnn';
export { PixelCNNTrainer, PRIOR_TRAINER_OPTIONS } from './trainer';
export type { PriorStepMetrics, PixelCNNTrainerOptions } from './trainer';
