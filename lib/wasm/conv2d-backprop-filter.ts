/**
 * Conv2DBackpropFilter for wasm (the gradient of a 2-D convolution with respect to its filter),
 * which @tensorflow/tfjs-backend-wasm 4.22 does not ship.
 *
 * Identity used: with x [B,H,W,Ci], dy [B,OH,OW,Co], stride s, padding (pT, pL),
 *
 *   dW[kh,kw,ci,co] = sum_{b,i,j} x[b, i*sH + kh - pT, j*sW + kw - pL, ci] * dy[b,i,j,co]
 *
 * is itself a convolution with the batch axis playing the role of the channels:
 *
 *   input  x^T  = transpose(x,  [3,1,2,0])  : [Ci, H, W, B]      ("batch" Ci, "channels" B)
 *   filter dy^T = transpose(dy, [1,2,0,3])  : [OH, OW, B, Co]
 *   stride 1, dilation (sH, sW), same top/left padding  ->  [Ci, KH, KW, Co]
 *
 * followed by transpose([1,2,0,3]) to [KH, KW, Ci, Co]. The bottom/right padding is chosen so
 * that exactly KH x KW outputs are produced (rows of x that no output touched are left out),
 * and the convolution runs on XNNPACK like any forward conv.
 */
import * as tf from '@tensorflow/tfjs';
import { explicitPad, padToNHWC, KernelScope, TensorInfo, withScope } from './ops';

type Shape4 = [number, number, number, number];

export interface Conv2DBackpropFilterArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}

/** dW for NHWC tensors inside a scope. Exported for the tests and the other kernels. */
export function conv2dBackpropFilterNHWC(
  s: KernelScope,
  x: TensorInfo,
  dy: TensorInfo,
  filterShape: Shape4,
  strides: number | [number, number],
  pad: tf.backend_util.ExplicitPadding | 'same' | 'valid' | number,
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): TensorInfo {
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as Shape4, filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  const { inHeight: H, inWidth: W, inChannels: Ci, outChannels: Co, outHeight: OH, outWidth: OW } = info;
  const { strideHeight: sH, strideWidth: sW, filterHeight: KH, filterWidth: KW } = info;
  const { top: pT, left: pL } = info.padInfo;
  if (dy.shape[1] !== OH || dy.shape[2] !== OW || dy.shape[3] !== Co) {
    throw new Error(`Conv2DBackpropFilter(wasm): dy shape ${dy.shape} does not match the conv output ${info.outShape}`);
  }
  // Bottom/right padding that yields exactly KH (KW) rows (cols) of output; when x has rows no
  // output window reached, the value is negative: pad 0 and slice the surplus off afterwards.
  const pB = Math.max(0, KH + (OH - 1) * sH - H - pT);
  const pR = Math.max(0, KW + (OW - 1) * sW - W - pL);
  const xT = s.transpose(x, [3, 1, 2, 0]);
  const dyT = s.transpose(dy, [1, 2, 0, 3]);
  let out = s.run('Conv2D', { x: xT, filter: dyT }, {
    strides: [1, 1],
    pad: explicitPad(pT, pB, pL, pR),
    dataFormat: 'NHWC',
    dilations: [sH, sW],
  });
  if (out.shape[1] !== KH || out.shape[2] !== KW) {
    out = s.slice(out, [0, 0, 0, 0], [Ci, KH, KW, Co]);
  }
  return s.transpose(out, [1, 2, 0, 3]);
}

export function conv2DBackpropFilterKernel({ inputs, backend, attrs }: Conv2DBackpropFilterArgs): TensorInfo {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const a = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  if (x.dtype !== 'float32' || dy.dtype !== 'float32') {
    throw new Error('Conv2DBackpropFilter(wasm): only float32 is supported');
  }
  return withScope(backend, (s) => {
    let xh = x;
    let dyh = dy;
    if (a.dataFormat === 'NCHW') {
      xh = s.transpose(x, [0, 2, 3, 1]);
      dyh = s.transpose(dy, [0, 2, 3, 1]);
    }
    return conv2dBackpropFilterNHWC(s, xh, dyh, a.filterShape as Shape4, a.strides, padToNHWC(a.pad, a.dataFormat), a.dimRoundingMode);
  });
}

export const conv2DBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilterKernel as unknown as tf.KernelFunc,
};
