import type { OptimizerName } from '../train/config';

/**
 * The native step's optimizer for the values it keeps on the host (a batchless layer's μ, σ, γ,
 * β): the same update rules as TensorFlow's ResourceApply* ops in native-optimizer.ts, with the
 * same tfjs defaults, in float64 and stored as float32. A step updates these and the resource
 * variables together, so both count the same steps (Adam's bias correction).
 */
export class HostOptimizer {
  private readonly slots = new Map<string, Float64Array[]>();
  private steps = 0;

  constructor(
    private readonly name: OptimizerName,
    /** The tfjs backend's epsilon (1e-7 for float32), as tfjs's optimizers use. */
    private readonly epsilon: number,
  ) {}

  /** Bytes of optimizer state held (float64 slots). */
  get stateBytes(): number {
    let bytes = 0;
    for (const slots of this.slots.values()) for (const s of slots) bytes += s.byteLength;
    return bytes;
  }

  private slotsFor(key: string, size: number, count: number): Float64Array[] {
    let slots = this.slots.get(key);
    if (!slots) {
      slots = Array.from({ length: count }, () => new Float64Array(size));
      this.slots.set(key, slots);
    }
    return slots;
  }

  /** One update of every value set by its gradient, in place. */
  apply(updates: { key: string; values: Float32Array; grad: ArrayLike<number>; learningRate: number }[]): void {
    this.steps++;
    const t = this.steps;
    for (const { key, values, grad, learningRate: lr } of updates) {
      const n = values.length;
      switch (this.name) {
        case 'sgd':
          for (let i = 0; i < n; i++) values[i] -= lr * grad[i];
          break;
        case 'momentum': {
          const [accumulation] = this.slotsFor(key, n, 1);
          for (let i = 0; i < n; i++) {
            accumulation[i] = accumulation[i] * 0.9 + grad[i];
            values[i] -= lr * accumulation[i];
          }
          break;
        }
        case 'rmsprop': {
          // ResourceApplyRMSProp with ρ 0.9, momentum 0: ms ← ρ·ms + (1−ρ)·g²; w −= lr·g/√(ms + ε).
          const [meanSquare] = this.slotsFor(key, n, 1);
          for (let i = 0; i < n; i++) {
            meanSquare[i] = 0.9 * meanSquare[i] + 0.1 * grad[i] * grad[i];
            values[i] -= (lr * grad[i]) / Math.sqrt(meanSquare[i] + this.epsilon);
          }
          break;
        }
        case 'adam': {
          // ResourceApplyAdam with ε̂ = ε·√(1 − β₂ᵗ), which makes it tfjs's update (native-optimizer.ts).
          const [b1, b2] = [0.9, 0.999];
          const [m, v] = this.slotsFor(key, n, 2);
          const correction = Math.sqrt(1 - b2 ** t);
          const rate = (lr * correction) / (1 - b1 ** t);
          const epsHat = this.epsilon * correction;
          for (let i = 0; i < n; i++) {
            m[i] += (grad[i] - m[i]) * (1 - b1);
            v[i] += (grad[i] * grad[i] - v[i]) * (1 - b2);
            values[i] -= (rate * m[i]) / (Math.sqrt(v[i]) + epsHat);
          }
          break;
        }
      }
    }
  }
}
