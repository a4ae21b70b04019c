/** Every study, declared once. `npm run study -- <name>` runs one; `npm run study -- --list` lists them. */
import { FSQ } from '../lib/index';
import type { StudySpec } from './spec';

const K = 32;
const BETA = 0.25;
/**
 * The rule every study uses: stop once the best validation MSE improved by < 1% over 5 epochs, at most 150 epochs.
 * (A pilot with a 60-epoch cap stopped every run at the cap, validation still falling ~2% per 5 epochs:
 * results/vq-vs-fsq/pilot-cap60/.)
 */
const CONVERGED = { maxEpochs: 150, patience: 5, minImprovement: 0.01, batchSize: 256 };
/**
 * Learning rates tried per method (seed 0), the best on validation then gets the other seeds. The grid starts at two
 * rates and grows by half-decade steps while its best rate is on an edge (`extendLearningRates`). It starts above 3e-4
 * because of the pilot (plain VQ at 60 epochs: validation 0.0079 at 3e-4 against 0.0057 at 1e-3); the grid is cut,
 * not the epochs.
 */
const LRS = [1e-3, 3e-3];

/*
 * The studies of notebooks 09–11 (docs/studies.md has the compute budget and why each grid is cut so). 09 and 10 train
 * the recipes whose rate vq-vs-fsq tuned on validation at K = 32: the EMA recipe and FSQ both chose 1e-3 (over 3e-3,
 * and 3e-4 lost in the pilot), and residual stages are those same quantizers, so they train at 1e-3. 11's codebook
 * methods (plain VQ, at SimVQ's scale, the rotation trick, SimVQ) tune {1e-3, 3e-3} themselves: plain VQ chose 3e-3 at
 * K = 32, and nothing says which rate a 256-code codebook or a reparameterised one wants.
 */
const RATE_LR = [1e-3];
/** 11's codebook methods: the grid vq-vs-fsq used (grown one half-decade step if its best rate is on an edge). */
const NC_LRS = LRS;
/** The VQ recipe practitioners use (vector-quantize-pytorch's default, Sonnet, Jukebox, EnCodec): as vq-vs-fsq's vq-ema. */
const VQ_EMA = { commitmentWeight: BETA, init: 'kmeans', ema: { decay: 0.99 }, deadCodeThreshold: 2 };
/** Notebook 09's sizes were 8 … 256 (six); kept: both ends and 64, and 32 comes from vq-vs-fsq. */
const RD_KS = [8, 64, 256];
/** A residual VQ stage: 32 codes, the EMA recipe. */
const RVQ_STAGE = { ...VQ_EMA, codebookSize: 32 };
/** A residual FSQ stage: 32 codes (as an RVQ stage and 08's FSQ [8, 4]), the symmetric bound (vector-quantize-pytorch's ResidualFSQ keeps FSQ symmetric). */
const RFSQ_STAGE = { levels: [8, 4], bound: 'symmetric' };
/** Notebook 07's prior, unconditional: 32 channels, 5 blocks, Adam 3e-3, batch 64, 4 epochs (studies/priors.ts). */
const PRIOR_07 = { channels: 32, blocks: 5, epochs: 4, batchSize: 64, learningRate: 3e-3 };
const NC_K = 256;
/** SimVQ's initial codes: rows of C·W, C ~ N(0, 1/d), W ~ U(±1/√d), so ‖code‖² ≈ 1/3. */
const SIMVQ_CODE_NORM = 1 / Math.sqrt(3);
/** LFQ's entropy weight, tuned on validation: vector-quantize-pytorch's 0.1, and two decades down toward the MSE's scale. */
const LFQ_ENTROPY_WEIGHTS = [0.1, 0.01, 0.001];
/**
 * LFQ's commitment weight, tuned with the entropy weight: vector-quantize-pytorch's default 0 (the first three runs,
 * ids lfq-ew…), and MAGVIT-v2's 0.25 (ids lfq-c0.25-ew…), added after every commitment-0 run collapsed to one code;
 * then the inverse temperature (ids …-t10, …-t1), added when the commitment-0.25 runs kept only 2–4 codes.
 */
const LFQ_VARIANTS: { id: string; commitment: number; entropy: number; inverseTemperature?: number }[] = [
  ...LFQ_ENTROPY_WEIGHTS.map((w) => ({ id: `lfq-ew${w}`, commitment: 0, entropy: w })),
  ...LFQ_ENTROPY_WEIGHTS.map((w) => ({ id: `lfq-c0.25-ew${w}`, commitment: 0.25, entropy: w })),
  // With codes at ±1 and 1/τ = 100 (vector-quantize-pytorch's default) the soft assignment is one-hot, so the entropy
  // term has no gradient: the temperature too, at 10 and 1.
  ...[10, 1].map((t) => ({ id: `lfq-c0.25-ew0.1-t${t}`, commitment: 0.25, entropy: 0.1, inverseTemperature: t })),
];

export const STUDIES: Record<string, StudySpec> = {
  'vq-vs-fsq': {
    name: 'vq-vs-fsq',
    title: 'VQ recipes vs FSQ at 32 codes, trained to convergence',
    question: 'At the same rate (32 codes, 5 bits per position), does FSQ beat the VQ recipe practitioners use (EMA codebook, k-means init, dead-code restarts) once every model has converged?',
    dim: 32,
    methods: [
      { id: 'vq', label: 'plain VQ', quantizer: { type: 'vq', options: { codebookSize: K, commitmentWeight: BETA } }, learningRates: LRS },
      {
        id: 'vq-ema', label: 'VQ, EMA + k-means + restarts',
        quantizer: { type: 'vq', options: { codebookSize: K, commitmentWeight: BETA, init: 'kmeans', ema: { decay: 0.99 }, deadCodeThreshold: 2 } },
        learningRates: LRS,
      },
      {
        id: 'vq-factorized', label: 'factorized ℓ2 VQ (8-d codes)',
        quantizer: { type: 'factorized', options: { codebookSize: K, codeDim: 8, vq: { commitmentWeight: BETA } } }, learningRates: LRS,
      },
      { id: 'fsq', label: `FSQ [${FSQ.levelsFor(K).join(', ')}]`, quantizer: { type: 'fsq', levels: FSQ.levelsFor(K) }, learningRates: LRS },
    ],
    seeds: [0, 1, 2],
    budget: CONVERGED,
    extendLearningRates: 2,
    validationPerClass: 100,
    keepCheckpoints: ['vq', 'vq-ema', 'vq-factorized', 'fsq'],
    prior: PRIOR_07,
  },
  'rate-distortion': {
    name: 'rate-distortion',
    title: 'Rate–distortion of the MNIST VQ-VAE: VQ (EMA + k-means + restarts) and FSQ at K = 8, 64, 256, trained to convergence',
    question: 'How does test MSE fall with the rate (log2 K raw; entropy-coded on test codes with training-code frequencies) once every model has converged? (Notebook 09; K = 32 is vq-vs-fsq\'s seed-0 runs at lr 1e-3.)',
    dim: 32,
    methods: RD_KS.flatMap((k) => [
      { id: `vq-ema-k${k}`, label: `VQ, EMA + k-means + restarts, K = ${k}`, quantizer: { type: 'vq' as const, options: { ...VQ_EMA, codebookSize: k } }, learningRates: RATE_LR },
      { id: `fsq-k${k}`, label: `FSQ [${FSQ.levelsFor(k).join(', ')}]`, quantizer: { type: 'fsq' as const, levels: FSQ.levelsFor(k) }, learningRates: RATE_LR },
    ]),
    seeds: [0],
    budget: CONVERGED,
    validationPerClass: 100,
    keepCheckpoints: RD_KS.flatMap((k) => [`vq-ema-k${k}`, `fsq-k${k}`]),
    prior: PRIOR_07,
  },
  'residual-vq': {
    name: 'residual-vq',
    title: 'Residual VQ and residual FSQ (symmetric bound) in the MNIST VQ-VAE at 1–4 stages, trained to convergence',
    question: 'What does each residual stage (5 bits per position) buy once converged, in-sample and held out; does one model trained with quantizer dropout match models trained per rate? (Notebook 10; RVQ with 1 stage is vq-vs-fsq\'s vq-ema at lr 1e-3, seed 0.)',
    dim: 32,
    methods: [
      ...[2, 4].map((n) => ({ id: `rvq-${n}`, label: `residual VQ, ${n} stages of 32 codes`, quantizer: { type: 'rvq' as const, options: { numQuantizers: n, vq: RVQ_STAGE } }, learningRates: RATE_LR })),
      {
        id: 'rvq-4-dropout', label: 'residual VQ, 4 stages of 32 codes, quantizer dropout',
        quantizer: { type: 'rvq', options: { numQuantizers: 4, vq: RVQ_STAGE, quantizeDropout: true } }, learningRates: RATE_LR,
      },
      ...[1, 2, 4].map((n) => ({
        id: `rfsq-${n}`, label: `residual FSQ [8, 4] symmetric, ${n} stage${n > 1 ? 's' : ''}`,
        quantizer: { type: 'rvq' as const, options: { numQuantizers: n, fsq: RFSQ_STAGE } }, learningRates: RATE_LR,
      })),
    ],
    seeds: [0],
    budget: CONVERGED,
    validationPerClass: 100,
    keepCheckpoints: ['rvq-2', 'rvq-4', 'rvq-4-dropout', 'rfsq-1', 'rfsq-2', 'rfsq-4'],
  },
  'no-collapse': {
    name: 'no-collapse',
    title: 'Codebooks that do not collapse, in the MNIST VQ-VAE at K = 256, trained to convergence',
    question: 'At 256 codes, do SimVQ, the rotation trick (codes at a usable scale), LFQ (entropy weight tuned on validation) and FSQ keep their codes alive and reconstruct better than plain VQ, and is SimVQ\'s gain its parameterisation or its larger initial codes? (Notebook 11.)',
    dim: 32,
    methods: [
      { id: 'vq', label: 'plain VQ (STE), codes U(±1/K)', quantizer: { type: 'vq', options: { codebookSize: NC_K, commitmentWeight: BETA } }, learningRates: NC_LRS },
      {
        id: 'vq-simscale', label: 'plain VQ (STE), codes at SimVQ\'s initial scale (norm ≈ 0.58)',
        quantizer: { type: 'vq', options: { codebookSize: NC_K, commitmentWeight: BETA, init: 'normal' }, codeNorm: SIMVQ_CODE_NORM }, learningRates: NC_LRS,
      },
      {
        id: 'rotation-simscale', label: 'rotation trick, codes at SimVQ\'s initial scale (norm ≈ 0.58)',
        quantizer: { type: 'vq', options: { codebookSize: NC_K, commitmentWeight: BETA, init: 'normal', gradient: 'rotation' }, codeNorm: SIMVQ_CODE_NORM }, learningRates: NC_LRS,
      },
      { id: 'simvq', label: 'SimVQ (STE)', quantizer: { type: 'simvq', options: { codebookSize: NC_K, commitmentWeight: BETA, gradient: 'ste' } }, learningRates: NC_LRS },
      ...LFQ_VARIANTS.map((v) => ({
        id: v.id, label: `LFQ, 8 bits, entropy weight ${v.entropy}, commitment weight ${v.commitment}${v.inverseTemperature ? `, 1/τ = ${v.inverseTemperature}` : ''}`,
        quantizer: {
          type: 'lfq' as const,
          options: {
            codebookSize: NC_K, entropyWeight: v.entropy, ...(v.commitment ? { commitmentWeight: v.commitment } : {}),
            ...(v.inverseTemperature ? { inverseTemperature: v.inverseTemperature } : {}),
          },
        },
        learningRates: RATE_LR, tuneGroup: 'lfq',
      })),
      { id: 'fsq', label: `FSQ [${FSQ.levelsFor(NC_K).join(', ')}] (240 codes)`, quantizer: { type: 'fsq', levels: FSQ.levelsFor(NC_K) }, learningRates: RATE_LR },
    ],
    seeds: [0, 1, 2],
    extraSeeds: [3, 4],
    extendLearningRates: 1,
    budget: CONVERGED,
    validationPerClass: 100,
    keepCheckpoints: ['vq', 'vq-simscale', 'rotation-simscale', 'simvq', ...LFQ_VARIANTS.map((v) => v.id), 'fsq'],
  },
  tiny: {
    name: 'tiny',
    title: 'A tiny study that keeps the runner tested (CI)',
    question: 'Does the runner train, stop, resume and record?',
    dim: 8,
    methods: [
      { id: 'vq', label: 'plain VQ', quantizer: { type: 'vq', options: { codebookSize: 8 } }, learningRates: [1e-3, 3e-3] },
      { id: 'fsq', label: 'FSQ [3, 3]', quantizer: { type: 'fsq', levels: [3, 3] }, learningRates: [3e-3] },
    ],
    seeds: [0, 1],
    budget: { maxEpochs: 3, patience: 1, minImprovement: 0.5, batchSize: 64 },
    validationPerClass: 10,
    trainLimit: 256,
    keepCheckpoints: ['fsq'],
    prior: { channels: 4, blocks: 1, epochs: 2, batchSize: 64, learningRate: 3e-3 },
  },
};
