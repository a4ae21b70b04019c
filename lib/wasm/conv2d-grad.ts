/**
 * Gradient of Conv2D with dilations > 1 (tfjs 4.22 refuses: "dilation rates greater than 1 are
 * not yet supported in gradients"), for every backend.
 *
 * A convolution with dilation d is exactly the convolution (dilation 1) with the zero-inserted
 * filter W_d of size (k−1)·d + 1 (same strides, same padding: tfjs derives 'same' padding from
 * that effective size too). Hence
 *   dx = Conv2DBackpropInput(dy, W_d)        dW = Conv2DBackpropFilter(x, dy)[::d_h, ::d_w]
 * With dilation 1 this is the stock gradient, kernel for kernel. (tfjs only accepts dilation > 1
 * together with stride 1.)
 */
import * as tf from '@tensorflow/tfjs';

function pair(v: number | [number, number]): [number, number] {
  return typeof v === 'number' ? [v, v] : v;
}

/** Zero-inserted filter: [KH, KW, Ci, Co] → [(KH−1)·dh + 1, (KW−1)·dw + 1, Ci, Co]. */
export function dilateFilter(w: tf.Tensor4D, dh: number, dw: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [KH, KW, Ci, Co] = w.shape;
    let f: tf.Tensor = w;
    if (dh > 1) {
      f = tf.pad(tf.reshape(f, [KH, 1, KW * Ci * Co]), [[0, 0], [0, dh - 1], [0, 0]]);
      f = tf.slice(tf.reshape(f, [KH * dh, KW, Ci, Co]), [0, 0, 0, 0], [(KH - 1) * dh + 1, KW, Ci, Co]);
    }
    const H = f.shape[0];
    if (dw > 1) {
      f = tf.pad(tf.reshape(f, [H, KW, 1, Ci * Co]), [[0, 0], [0, 0], [0, dw - 1], [0, 0]]);
      f = tf.slice(tf.reshape(f, [H, KW * dw, Ci, Co]), [0, 0, 0, 0], [H, (KW - 1) * dw + 1, Ci, Co]);
    }
    return f as tf.Tensor4D;
  });
}

export const conv2DGradConfig: tf.GradConfig = {
  kernelName: tf.Conv2D,
  inputsToSave: ['x', 'filter'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap) => {
    const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
    const g = dy as tf.Tensor4D;
    const a = attrs as unknown as tf.Conv2DAttrs;
    const [dh, dw] = pair(a.dilations);
    const common = { strides: a.strides, pad: a.pad, dataFormat: a.dataFormat, dimRoundingMode: a.dimRoundingMode };
    const run = (name: string, inputs: tf.NamedTensorMap, extra: tf.NamedAttrMap): tf.Tensor4D =>
      tf.engine().runKernel(name, inputs, { ...common, ...extra } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
    if (dh === 1 && dw === 1) {
      return {
        x: () => run(tf.Conv2DBackpropInput, { dy: g, filter }, { inputShape: x.shape }),
        filter: () => run(tf.Conv2DBackpropFilter, { x, dy: g }, { filterShape: filter.shape }),
      };
    }
    return {
      x: () => tf.tidy(() => run(tf.Conv2DBackpropInput, { dy: g, filter: dilateFilter(filter, dh, dw) }, { inputShape: x.shape })),
      filter: () => tf.tidy(() => {
        const [KH, KW, Ci, Co] = filter.shape;
        const shape = [(KH - 1) * dh + 1, (KW - 1) * dw + 1, Ci, Co];
        const full = run(tf.Conv2DBackpropFilter, { x, dy: g }, { filterShape: shape });
        return tf.stridedSlice(full, [0, 0, 0, 0], shape, [dh, dw, 1, 1]);
      }),
    };
  },
};

let registered = false;

/** Install the Conv2D gradient above (all backends). Safe to call more than once. */
export function registerDilatedConv2DGradient(): void {
  if (registered) return;
  tf.registerGradient(conv2DGradConfig);
  registered = true;
}
