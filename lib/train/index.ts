/** The training room: batches (one shuffle), Adam steps, the loop with interrupts, progress and per-epoch evaluation. */
export { Batches, epochBatches, permutationOf, rngSampleOf } from './batches';
export type { ShuffleFn } from './batches';
export {
  TrainerBase, TrainingDivergedError, TRAINER_OPTIONS, FIT_OPTIONS, adamStep, variableGradsOrThrow, takeRows, nextTick,
} from './trainer';
export type { TrainProgress, TrainerOptions, FitOptions, StepResult } from './trainer';
