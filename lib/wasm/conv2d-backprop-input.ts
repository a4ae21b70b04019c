/**
 * A fast Conv2DBackpropInput for wasm (the gradient of a conv with respect to its input, which
 * is also the forward pass of conv2dTranspose). wasm ships one written as plain nested loops;
 * this one runs on XNNPACK's convolution.
 *
 * Sub-pixel (phase) decomposition, per spatial axis with stride s and filter size K:
 * writing h + pT = q*s + r (0 <= r < s),
 *
 *   dx[h] = sum_m dy[q - m] * W[r + m*s]        (m = 0 .. M-1, M = ceil(K/s), W = 0 past K)
 *
 * so for every phase r the gradient is an ordinary stride-1 correlation of dy with the flipped
 * sub-filter W[r::s]. All s_H*s_W phases are computed by ONE convolution whose output channels
 * are (phase, ci):
 *
 *   G[tH, tW, co, (rH*sW + rW)*Ci + ci] = W[rH + (MH-1-tH)*sH, rW + (MW-1-tW)*sW, ci, co]
 *   Z = conv2d(dy, G, stride 1, pad (MH-1 - q0H, ...))          : [B, QH, QW, sH*sW*Ci]
 *
 * and the phases are interleaved back (depth-to-space) and cropped by pT mod s in one pass.
 * No multiply touches an inserted zero (unlike the textbook "dilate dy then convolve", which
 * wastes s_H*s_W of the work), and for stride 1 it is a plain conv with the flipped filter.
 */
import * as tf from '@tensorflow/tfjs';
import { explicitPad, padToNHWC, heapF32, KernelScope, TensorInfo, withScope } from './ops';

type Shape4 = [number, number, number, number];

export interface Conv2DBackpropInputArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}

/** The phase filter G (see file comment), built on the JS side: filters are small. */
function phaseFilter(s: KernelScope, filter: TensorInfo, sH: number, sW: number): TensorInfo {
  const [KH, KW, Ci, Co] = filter.shape;
  const MH = Math.ceil(KH / sH);
  const MW = Math.ceil(KW / sW);
  const C2 = sH * sW * Ci;
  const g = s.make([MH, MW, Co, C2]);
  const G = heapF32(s.backend, g);
  const Wt = heapF32(s.backend, filter);
  G.fill(0);
  for (let tH = 0; tH < MH; tH++) {
    for (let tW = 0; tW < MW; tW++) {
      for (let rH = 0; rH < sH; rH++) {
        const kh = rH + (MH - 1 - tH) * sH;
        if (kh >= KH) continue;
        for (let rW = 0; rW < sW; rW++) {
          const kw = rW + (MW - 1 - tW) * sW;
          if (kw >= KW) continue;
          const phaseOff = (rH * sW + rW) * Ci;
          const wBase = (kh * KW + kw) * Ci * Co;
          for (let co = 0; co < Co; co++) {
            const gBase = ((tH * MW + tW) * Co + co) * C2 + phaseOff;
            for (let ci = 0; ci < Ci; ci++) G[gBase + ci] = Wt[wBase + ci * Co + co];
          }
        }
      }
    }
  }
  return g;
}

/** dx for NHWC tensors inside a scope. */
export function conv2dBackpropInputNHWC(
  s: KernelScope,
  dy: TensorInfo,
  filter: TensorInfo,
  inputShape: Shape4,
  strides: number | [number, number],
  pad: tf.backend_util.ExplicitPadding | 'same' | 'valid' | number,
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): TensorInfo {
  const info = tf.backend_util.computeConv2DInfo(
    inputShape, filter.shape as Shape4, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: Ci, outChannels: Co, outHeight: OH, outWidth: OW } = info;
  const { strideHeight: sH, strideWidth: sW, filterHeight: KH, filterWidth: KW } = info;
  const { top: pT, left: pL } = info.padInfo;
  if (dy.shape[0] !== B || dy.shape[1] !== OH || dy.shape[2] !== OW || dy.shape[3] !== Co) {
    throw new Error(`Conv2DBackpropInput(wasm): dy shape ${dy.shape} does not match the conv output ${info.outShape}`);
  }
  if ((sH > 1 || sW > 1) && Ci >= SPLIT_MIN_CHANNELS) {
    return perPhase(s, dy, filter, B, H, W, Ci, Co, OH, OW, sH, sW, KH, KW, pT, pL);
  }
  const MH = Math.ceil(KH / sH);
  const MW = Math.ceil(KW / sW);
  // Output phase rows q in [q0, q1] cover h + pT for h in [0, H).
  const q0H = Math.floor(pT / sH);
  const q1H = Math.floor((H - 1 + pT) / sH);
  const q0W = Math.floor(pL / sW);
  const q1W = Math.floor((W - 1 + pL) / sW);
  // Rows of dy they read: [q0 - M + 1, q1]; pad where that leaves dy, slice where it is inside.
  const loH = q0H - MH + 1;
  const loW = q0W - MW + 1;
  const startH = Math.max(0, loH);
  const endH = Math.min(OH - 1, q1H);
  const startW = Math.max(0, loW);
  const endW = Math.min(OW - 1, q1W);
  if (startH > endH || startW > endW) {
    // Every dy element lands in the padding: the gradient is all zeros.
    return s.zeros([B, H, W, Ci]);
  }
  let dyIn = dy;
  if (startH > 0 || startW > 0 || endH < OH - 1 || endW < OW - 1) {
    dyIn = s.slice(dy, [0, startH, startW, 0], [B, endH - startH + 1, endW - startW + 1, Co]);
  }
  const g = phaseFilter(s, filter, sH, sW);
  const z = s.run('Conv2D', { x: dyIn, filter: g }, {
    strides: [1, 1],
    pad: explicitPad(Math.max(0, -loH), Math.max(0, q1H - (OH - 1)), Math.max(0, -loW), Math.max(0, q1W - (OW - 1))),
    dataFormat: 'NHWC',
    dilations: [1, 1],
  });
  const QH = q1H - q0H + 1;
  const QW = q1W - q0W + 1;
  if (z.shape[1] !== QH || z.shape[2] !== QW) {
    throw new Error(`Conv2DBackpropInput(wasm): internal shape mismatch ${z.shape} vs ${[B, QH, QW]}`);
  }
  if (sH === 1 && sW === 1) return z; // q = h + pT - q0 = h: nothing to interleave or crop
  return interleavePhases(s, z, B, H, W, Ci, sH, sW, pT, pL, q0H, q0W);
}

/**
 * With >= this many input channels, each phase gets a convolution of its own (exact work);
 * below it the single combined convolution is used, whose extra border rows cost less than
 * XNNPACK's padding of a narrow output to its 8-wide tiles.
 */
const SPLIT_MIN_CHANNELS = 8;

/** One axis of one phase r: output rows h = q*s + r - p for q in [qlo, qhi], taps m < M. */
interface Phase1D {
  r: number;
  qlo: number;
  n: number; // number of output rows (qhi - qlo + 1), may be 0
  M: number; // taps r + m*s < K
  start: number; // dy rows [start, end] are read; padF/padB zero rows around them
  end: number;
  padF: number;
  padB: number;
}

function phases1D(s: number, K: number, p: number, H: number, OH: number): Phase1D[] {
  const out: Phase1D[] = [];
  for (let r = 0; r < s; r++) {
    const qlo = Math.ceil((p - r) / s);
    const qhi = Math.floor((H - 1 + p - r) / s);
    const M = Math.max(0, Math.ceil((K - r) / s));
    const lo = qlo - M + 1;
    out.push({
      r, qlo, n: Math.max(0, qhi - qlo + 1), M,
      start: Math.max(0, lo), end: Math.min(OH - 1, qhi), padF: Math.max(0, -lo), padB: Math.max(0, qhi - (OH - 1)),
    });
  }
  return out;
}

/**
 * dx phase by phase: for (rH, rW), the rows h = qH*sH + rH - pT and columns likewise are a
 * stride-1 correlation of dy with the flipped sub-filter W[rH::sH, rW::sW] (exact sizes, no
 * border rows), scattered into dx.
 */
function perPhase(
  s: KernelScope, dy: TensorInfo, filter: TensorInfo, B: number, H: number, W: number, Ci: number, Co: number,
  OH: number, OW: number, sH: number, sW: number, KH: number, KW: number, pT: number, pL: number,
): TensorInfo {
  const out = s.zeros([B, H, W, Ci]);
  for (const ph of phases1D(sH, KH, pT, H, OH)) {
    for (const pw of phases1D(sW, KW, pL, W, OW)) {
      // Empty phase, no taps, or every dy row it would read lies outside dy: stays zero.
      if (ph.n === 0 || pw.n === 0 || ph.M === 0 || pw.M === 0 || ph.start > ph.end || pw.start > pw.end) continue;
      // G[tH, tW, co, ci] = W[rH + (MH-1-tH)*sH, rW + (MW-1-tW)*sW, ci, co]
      const g = s.make([ph.M, pw.M, Co, Ci]);
      const G = heapF32(s.backend, g);
      const Wt = heapF32(s.backend, filter);
      for (let tH = 0; tH < ph.M; tH++) {
        const kh = ph.r + (ph.M - 1 - tH) * sH;
        for (let tW = 0; tW < pw.M; tW++) {
          const kw = pw.r + (pw.M - 1 - tW) * sW;
          const wBase = (kh * KW + kw) * Ci * Co;
          const gBase = (tH * pw.M + tW) * Co * Ci;
          for (let co = 0; co < Co; co++) {
            for (let ci = 0; ci < Ci; ci++) G[gBase + co * Ci + ci] = Wt[wBase + ci * Co + co];
          }
        }
      }
      let dyIn = dy;
      if (ph.start > 0 || pw.start > 0 || ph.end < OH - 1 || pw.end < OW - 1) {
        dyIn = s.slice(dy, [0, ph.start, pw.start, 0], [B, ph.end - ph.start + 1, pw.end - pw.start + 1, Co]);
      }
      const z = s.run('Conv2D', { x: dyIn, filter: g }, {
        strides: [1, 1], pad: explicitPad(ph.padF, ph.padB, pw.padF, pw.padB), dataFormat: 'NHWC', dilations: [1, 1],
      });
      if (z.shape[1] !== ph.n || z.shape[2] !== pw.n) {
        throw new Error(`Conv2DBackpropInput(wasm): internal phase shape ${z.shape} vs ${[B, ph.n, pw.n]}`);
      }
      // Scatter: z[b, i, j, :] -> out[b, (qlo_h + i)*sH + rH - pT, (qlo_w + j)*sW + rW - pL, :]
      const Z = heapF32(s.backend, z);
      const O = heapF32(s.backend, out);
      const h0 = ph.qlo * sH + ph.r - pT;
      const w0 = pw.qlo * sW + pw.r - pL;
      let src = 0;
      for (let b = 0; b < B; b++) {
        for (let i = 0; i < ph.n; i++) {
          let dst = ((b * H + h0 + i * sH) * W + w0) * Ci;
          const step = sW * Ci;
          for (let j = 0; j < pw.n; j++, dst += step) {
            for (let c = 0; c < Ci; c++) O[dst + c] = Z[src++];
          }
        }
      }
      s.dispose1(z);
      s.dispose1(g);
      if (dyIn !== dy) s.dispose1(dyIn);
    }
  }
  return out;
}

/** out[b,h,w,ci] = z[b, (h+pT)/sH - q0H, (w+pL)/sW - q0W, (((h+pT)%sH)*sW + (w+pL)%sW)*Ci + ci]. */
function interleavePhases(
  s: KernelScope, z: TensorInfo, B: number, H: number, W: number, Ci: number,
  sH: number, sW: number, pT: number, pL: number, q0H: number, q0W: number,
): TensorInfo {
  const QH = z.shape[1];
  const QW = z.shape[2];
  const Cz = z.shape[3];
  const out = s.make([B, H, W, Ci]);
  const Z = heapF32(s.backend, z);
  const O = heapF32(s.backend, out);
  // Precompute per-column source offsets (within a z row) once.
  const colOff = new Int32Array(W);
  for (let w = 0; w < W; w++) {
    const pw = w + pL;
    colOff[w] = (Math.floor(pw / sW) - q0W) * Cz + (pw % sW) * Ci;
  }
  let dst = 0;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const ph = h + pT;
      const rowBase = ((b * QH + (Math.floor(ph / sH) - q0H)) * QW) * Cz + (ph % sH) * sW * Ci;
      if (Ci === 1) {
        for (let w = 0; w < W; w++) O[dst++] = Z[rowBase + colOff[w]];
      } else {
        for (let w = 0; w < W; w++) {
          const src = rowBase + colOff[w];
          for (let c = 0; c < Ci; c++) O[dst + c] = Z[src + c];
          dst += Ci;
        }
      }
    }
  }
  return out;
}

export function conv2DBackpropInputKernel({ inputs, backend, attrs }: Conv2DBackpropInputArgs): TensorInfo {
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const a = attrs as unknown as tf.Conv2DBackpropInputAttrs;
  if (dy.dtype !== 'float32' || filter.dtype !== 'float32') {
    throw new Error('Conv2DBackpropInput(wasm): only float32 is supported');
  }
  return withScope(backend, (s) => {
    if (a.dataFormat === 'NCHW') {
      const [b, c, h, w] = a.inputShape;
      const dyh = s.transpose(dy, [0, 2, 3, 1]);
      const dx = conv2dBackpropInputNHWC(s, dyh, filter, [b, h, w, c], a.strides, padToNHWC(a.pad, a.dataFormat), a.dimRoundingMode);
      return s.transpose(dx, [0, 3, 1, 2]);
    }
    return conv2dBackpropInputNHWC(s, dy, filter, a.inputShape as Shape4, a.strides, a.pad, a.dimRoundingMode);
  });
}

export const conv2DBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropInput,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropInputKernel as unknown as tf.KernelFunc,
};
