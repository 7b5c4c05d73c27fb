/**
 * Limited-memory BFGS with a backtracking (Armijo) line search. Deterministic: no randomness, a fixed
 * evaluation order, so the same objective gives the same iterates bit for bit.
 */

/** Writes the gradient at `x` into `gradient` and returns the objective value. */
export type Objective = (x: Float64Array, gradient: Float64Array) => number;

export interface LbfgsOptions {
  maxIterations: number;
  /** Converged when the largest gradient component is at most this (objectives here are well scaled). */
  tolerance: number;
  /** Correction pairs kept (default 20: each costs O(width) per iteration, far less than a pass over the rows). */
  memory?: number;
  /** Called after every accepted step with its 1-based number and the current point. */
  onIteration?: (iteration: number, x: Float64Array, value: number) => void;
}

export interface LbfgsResult {
  x: Float64Array;
  value: number;
  iterations: number;
  converged: boolean;
}

const ARMIJO = 1e-4;
const MAX_BACKTRACKS = 40;

export async function minimizeLbfgs(objective: Objective, start: Float64Array, opts: LbfgsOptions): Promise<LbfgsResult> {
  const n = start.length;
  const memory = opts.memory ?? 20;
  let x = Float64Array.from(start);
  let g = new Float64Array(n);
  let value = objective(x, g);
  const pairs: { s: Float64Array; y: Float64Array; rho: number }[] = [];
  const alpha = new Float64Array(memory);
  let iterations = 0;
  if (maxAbs(g) <= opts.tolerance) return { x, value, iterations, converged: true };
  while (iterations < opts.maxIterations) {
    const direction = searchDirection(g, pairs, alpha);
    let slope = dot(g, direction);
    if (!(slope < 0)) {
      // Not a descent direction (curvature information went stale): restart from steepest descent.
      pairs.length = 0;
      for (let i = 0; i < n; i++) direction[i] = -(g[i] as number);
      slope = -dot(g, g);
    }
    // Without curvature pairs the direction is the raw gradient, so the first trial step is normalised.
    let step = pairs.length === 0 ? Math.min(1, 1 / Math.sqrt(-slope)) : 1;
    const next = new Float64Array(n);
    const nextGradient = new Float64Array(n);
    let nextValue = Number.NaN;
    let accepted = false;
    for (let attempt = 0; attempt < MAX_BACKTRACKS; attempt++) {
      for (let i = 0; i < n; i++) next[i] = (x[i] as number) + step * (direction[i] as number);
      nextValue = objective(next, nextGradient);
      if (nextValue <= value + ARMIJO * step * slope) {
        accepted = true;
        break;
      }
      step *= 0.5;
    }
    if (!accepted) break; // No decrease is representable any more: as good as it gets in double precision.
    iterations++;
    const s = new Float64Array(n);
    const y = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = (next[i] as number) - (x[i] as number);
      y[i] = (nextGradient[i] as number) - (g[i] as number);
    }
    const sy = dot(s, y);
    // Keep only pairs with positive curvature so the implied inverse Hessian stays positive definite.
    if (sy > 1e-12 * Math.sqrt(dot(s, s) * dot(y, y))) {
      if (pairs.length === memory) pairs.shift();
      pairs.push({ s, y, rho: 1 / sy });
    }
    const previous = value;
    x = next;
    g = nextGradient;
    value = nextValue;
    opts.onIteration?.(iterations, x, value);
    if (maxAbs(g) <= opts.tolerance) return { x, value, iterations, converged: true };
    if (previous - value <= 1e-15 * Math.abs(value)) break; // Stalled at rounding level.
    // Yield between iterations so a long fit does not starve the event loop of a server running it.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return { x, value, iterations, converged: false };
}

/** The two-loop recursion: −H·g with H the L-BFGS inverse-Hessian estimate scaled by the newest pair. */
function searchDirection(g: Float64Array, pairs: { s: Float64Array; y: Float64Array; rho: number }[], alpha: Float64Array) {
  const q = Float64Array.from(g);
  for (let k = pairs.length - 1; k >= 0; k--) {
    const p = pairs[k] as (typeof pairs)[number];
    const a = p.rho * dot(p.s, q);
    alpha[k] = a;
    axpy(-a, p.y, q);
  }
  const newest = pairs[pairs.length - 1];
  const gamma = newest ? 1 / (newest.rho * dot(newest.y, newest.y)) : 1;
  for (let i = 0; i < q.length; i++) q[i] = (q[i] as number) * gamma;
  for (let k = 0; k < pairs.length; k++) {
    const p = pairs[k] as (typeof pairs)[number];
    const b = p.rho * dot(p.y, q);
    axpy((alpha[k] as number) - b, p.s, q);
  }
  for (let i = 0; i < q.length; i++) q[i] = -(q[i] as number);
  return q;
}

function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] as number) * (b[i] as number);
  return sum;
}

function axpy(a: number, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < y.length; i++) y[i] = (y[i] as number) + a * (x[i] as number);
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}
