import { describe, expect, it } from 'vitest';
import { minimizeLbfgs } from './lbfgs.ts';

describe('minimizeLbfgs', async () => {
  it('finds the minimum of the Rosenbrock function from the classic start', async () => {
    const rosenbrock = (x: Float64Array, g: Float64Array) => {
      const [a = 0, b = 0] = x;
      g[0] = -2 * (1 - a) - 400 * a * (b - a * a);
      g[1] = 200 * (b - a * a);
      return (1 - a) ** 2 + 100 * (b - a * a) ** 2;
    };
    const result = await minimizeLbfgs(rosenbrock, Float64Array.of(-1.2, 1), { maxIterations: 500, tolerance: 1e-8 });
    expect(result.converged).toBe(true);
    expect(result.x[0]).toBeCloseTo(1, 6);
    expect(result.x[1]).toBeCloseTo(1, 6);
  });

  it('solves a quadratic with condition number 1e4 and reports every iteration', async () => {
    const scales = Float64Array.from({ length: 30 }, (_, i) => 10 ** (-2 + (4 * i) / 29));
    const quadratic = (x: Float64Array, g: Float64Array) => {
      let f = 0;
      for (let i = 0; i < x.length; i++) {
        const d = (x[i] as number) - 1;
        g[i] = (scales[i] as number) * d;
        f += 0.5 * (scales[i] as number) * d * d;
      }
      return f;
    };
    const seen: number[] = [];
    const result = await minimizeLbfgs(quadratic, new Float64Array(30), {
      maxIterations: 1000,
      tolerance: 1e-10,
      onIteration: (i) => seen.push(i),
    });
    expect(result.converged).toBe(true);
    expect(seen).toEqual(Array.from({ length: result.iterations }, (_, i) => i + 1));
    for (const v of result.x) expect(v).toBeCloseTo(1, 7);
  });
});
