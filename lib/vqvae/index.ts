/** The VQ-VAE of DL-Demos (github.com/SingleZombie/DL-Demos) with a pluggable bottleneck: model and training loop. */
export { VQVAE, ResidualBlock, VQVAE_OPTIONS, VQVAE_FORWARD_OPTIONS, VQVAE_INIT_STREAM } from './model';
export type { VQVAEOptions, VQVAEConfig, VQVAEForward, VQVAELoss } from './model';
export { checkBottleneck, bottleneckVariables, describeBottleneck } from './bottleneck';
export type { Bottleneck, BottleneckOutput } from './bottleneck';
export {
  VQVAETrainer, TrainerBase, evaluateVQVAE, encodeDataset, epochBatches, codeStats, TRAINER_OPTIONS, FIT_OPTIONS, BATCHED_OPTIONS,
} from './train';
export type { StepMetrics, TrainProgress, TrainerOptions, FitOptions } from './train';
