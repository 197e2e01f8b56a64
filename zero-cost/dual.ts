// Double-precision tensors with one forward-mode tangent (dual numbers), and the operations synflow's network needs.
// A feature map is H x W x C (batch 1), row-major as NHWC. `d` is the derivative of `v` along the direction in which
// every weight tensor moves by itself (theta -> t * theta at t = 1), so a layer with weight W adds op(x, W) to its
// output's tangent: d(op(x, tW))/dt = op(dx, W) + op(x, W) = op(x + dx, W) for an op linear in x and in W.

export interface Dual {
  readonly v: Float64Array;
  readonly d: Float64Array;
  readonly h: number;
  readonly w: number;
  readonly c: number;
}

/** Convolution geometry: stride and the padding before the first row / column ('same' pads less there at stride 2). */
export interface ConvGeometry {
  readonly kernel: number;
  readonly stride: number;
  readonly padding: 'symmetric' | 'same';
}

export function dual(h: number, w: number, c: number): Dual {
  return { v: new Float64Array(h * w * c), d: new Float64Array(h * w * c), h, w, c };
}

/** Padding before the first row of a stride-s, k x k convolution (output ceil(in / s) either way). */
export function padBefore(size: number, g: ConvGeometry): number {
  if (g.padding === 'symmetric') return Math.floor(g.kernel / 2);
  const out = Math.ceil(size / g.stride);
  return Math.floor(Math.max((out - 1) * g.stride + g.kernel - size, 0) / 2);
}

/**
 * y = conv(x, W) (regular: W is [k, k, cin, cout]; depthwise: [k, k, C, 1]); the tangent is conv(x + dx, W). The
 * caller passes the sum x + dx as `xd` so that both convolutions share this loop.
 */
export function conv(
  x: Float64Array,
  xd: Float64Array,
  inShape: readonly [number, number, number],
  weights: Float64Array,
  cout: number,
  g: ConvGeometry,
  depthwise: boolean,
): Dual {
  const [h, w, cin] = inShape;
  const oh = Math.ceil(h / g.stride);
  const ow = Math.ceil(w / g.stride);
  const out = dual(oh, ow, cout);
  const top = padBefore(h, g);
  const left = padBefore(w, g);
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      const o = (oy * ow + ox) * cout;
      for (let ky = 0; ky < g.kernel; ky++) {
        const iy = oy * g.stride - top + ky;
        if (iy < 0 || iy >= h) continue;
        for (let kx = 0; kx < g.kernel; kx++) {
          const ix = ox * g.stride - left + kx;
          if (ix < 0 || ix >= w) continue;
          const i = (iy * w + ix) * cin;
          const k = (ky * g.kernel + kx) * cin * (depthwise ? 1 : cout);
          if (depthwise) accumulateDepthwise(out, o, x, xd, i, weights, k, cin);
          else accumulateDense(out, o, x, xd, i, weights, k, cin, cout);
        }
      }
    }
  }
  return out;
}

function accumulateDepthwise(out: Dual, o: number, x: Float64Array, xd: Float64Array, i: number, weights: Float64Array, k: number, c: number): void {
  const { v, d } = out;
  for (let ch = 0; ch < c; ch++) {
    const wt = weights[k + ch] as number;
    v[o + ch] = (v[o + ch] as number) + wt * (x[i + ch] as number);
    d[o + ch] = (d[o + ch] as number) + wt * (xd[i + ch] as number);
  }
}

/** out[o + co] += sum_ci x[i + ci] * W[k + ci * cout + co] (also a dense layer: one pixel, k = 0). */
export function accumulateDense(
  out: Dual,
  o: number,
  x: Float64Array,
  xd: Float64Array,
  i: number,
  weights: Float64Array,
  k: number,
  cin: number,
  cout: number,
): void {
  const { v, d } = out;
  for (let ci = 0; ci < cin; ci++) {
    const xv = x[i + ci] as number;
    const xt = xd[i + ci] as number;
    if (xv === 0 && xt === 0) continue;
    const row = k + ci * cout;
    for (let co = 0; co < cout; co++) {
      const wt = weights[row + co] as number;
      v[o + co] = (v[o + co] as number) + wt * xv;
      d[o + co] = (d[o + co] as number) + wt * xt;
    }
  }
}

/** x + dx: the input whose image under a weight layer is that layer's output tangent. */
export function plusTangent(x: Dual): Float64Array {
  const s = new Float64Array(x.v.length);
  for (let i = 0; i < s.length; i++) s[i] = (x.v[i] as number) + (x.d[i] as number);
  return s;
}

/** y = x * scale[c] + bias[c] per channel (batch norm in eval mode); the tangent scales alike (BN is not in theta). */
export function affine(x: Dual, scale: Float64Array, bias: Float64Array): Dual {
  const out = dual(x.h, x.w, x.c);
  for (let i = 0; i < x.v.length; i++) {
    const c = i % x.c;
    out.v[i] = (x.v[i] as number) * (scale[c] as number) + (bias[c] as number);
    out.d[i] = (x.d[i] as number) * (scale[c] as number);
  }
  return out;
}

/** Global average pool to 1 x 1 x C. */
export function meanPool(x: Dual): Dual {
  const out = dual(1, 1, x.c);
  const n = x.h * x.w;
  for (let i = 0; i < x.v.length; i++) {
    const c = i % x.c;
    out.v[c] = (out.v[c] as number) + (x.v[i] as number) / n;
    out.d[c] = (out.d[c] as number) + (x.d[i] as number) / n;
  }
  return out;
}

export function add(a: Dual, b: Dual): Dual {
  const out = dual(a.h, a.w, a.c);
  for (let i = 0; i < a.v.length; i++) {
    out.v[i] = (a.v[i] as number) + (b.v[i] as number);
    out.d[i] = (a.d[i] as number) + (b.d[i] as number);
  }
  return out;
}
