/**
 * What the notebooks use on top of the library: checkpoints by name under data/checkpoints/,
 * loadOrTrain, MNIST from data/mnist/, training with a log and live progress, figures of a
 * VQ-VAE's work, claims, summary statistics (mean, median, mean ± sd). The only layer that
 * combines quantizer/, vqvae/, prior/ and display/.
 */
export { checkpointPath, checkpointExists, saveCheckpoint, loadCheckpoint, loadOrTrain, SAVE_OPTIONS, LOAD_OR_TRAIN_OPTIONS } from './checkpoints';
export { repoRoot, defaultCheckpointDir, defaultMnistDir } from './paths';
export { loadMnist } from './mnist';
export { fitWithLog, readTrainLog, DLDEMOS_MNIST, LOGGED_FIT_OPTIONS, TRAINER_LOG_OPTIONS } from './trainlog';
export type { TrainLog, RunLog, EpochScore, LoggedFitOptions, TrainerLogOptions, FittableTrainer } from './trainlog';
export { reconstructionPng, RECONSTRUCTION_PNG_OPTIONS } from './figures';
export * from './claims';
export { mean, median, meanSd, formatMeanSd } from './stats';
export type { MeanSd } from './stats';
export { codecRates, CODEC_OPTIONS } from './codecs';
export type { CodecPoint } from './codecs';
export { readStudy, readGaussianStudy } from './study';
export type { StudyResults, StudyMethod, StudyRun, StudyEpoch, StudyPrior, GaussianStudyRun, GaussianStudyPoint } from './study';
