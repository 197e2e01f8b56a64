// The activations of the IR on dual numbers (value and tangent), in double precision. Their values and derivatives
// are those of backend/ops/activation.ts (PyTorch's conventions at the kinks).
import { type Dual, dual } from './dual.js';

export type DualActivation = 'relu' | 'relu6' | 'hswish' | 'hsigmoid' | 'sigmoid' | 'linear';

function relu6(x: number): number {
  return Math.min(Math.max(x, 0), 6);
}

/** The value and the derivative of an activation at x. */
export function activationAt(kind: DualActivation, x: number): [number, number] {
  switch (kind) {
    case 'linear':
      return [x, 1];
    case 'relu':
      return [Math.max(x, 0), x > 0 ? 1 : 0];
    case 'relu6':
      return [relu6(x), x > 0 && x < 6 ? 1 : 0];
    case 'hswish':
      return [(x * relu6(x + 3)) / 6, x < -3 ? 0 : x > 3 ? 1 : (2 * x + 3) / 6];
    case 'hsigmoid':
      return [relu6(x + 3) / 6, x > -3 && x < 3 ? 1 / 6 : 0];
    case 'sigmoid': {
      const s = 1 / (1 + Math.exp(-x));
      return [s, s * (1 - s)];
    }
  }
}

/** f(x), with tangent f'(x) dx. */
export function activate(x: Dual, kind: DualActivation): Dual {
  if (kind === 'linear') return x;
  const out = dual(x.h, x.w, x.c);
  for (let i = 0; i < x.v.length; i++) {
    const [f, df] = activationAt(kind, x.v[i] as number);
    out.v[i] = f;
    out.d[i] = df * (x.d[i] as number);
  }
  return out;
}

/** x * g per channel (g is 1 x 1 x C), with the product rule's tangent. */
export function scaleChannels(x: Dual, g: Dual): Dual {
  const out = dual(x.h, x.w, x.c);
  for (let i = 0; i < x.v.length; i++) {
    const c = i % x.c;
    out.v[i] = (x.v[i] as number) * (g.v[c] as number);
    out.d[i] = (x.d[i] as number) * (g.v[c] as number) + (x.v[i] as number) * (g.d[c] as number);
  }
  return out;
}
