import type { OptimizerName } from '../train/config';
import type { Native, NativeOps } from './tf-native';

/**
 * The trainer's optimizers as TensorFlow's one-op resource updates (ResourceApplyAdam, …), each
 * the same arithmetic as the tfjs optimizer of the same name with tfjs's defaults, so a session
 * trains alike on either path. Slots are resource variables created at zero, as tfjs does.
 */
export class NativeOptimizer {
  private readonly slots = new Map<number, Native[]>();
  private steps = 0;
  private readonly epsilon: number;

  constructor(
    private readonly ops: NativeOps,
    private readonly name: OptimizerName,
    /** The tfjs backend's epsilon (1e-7 for float32), as tfjs's optimizers use. */
    epsilon: number,
  ) {
    this.epsilon = epsilon;
  }

  private slotsFor(variable: Native, count: number): Native[] {
    let slots = this.slots.get(variable.id);
    if (!slots) {
      slots = this.ops.scope(() => {
        const zeros = this.ops.constant(new Float32Array(variable.shape.reduce((a, b) => a * b, 1)), variable.shape);
        return Array.from({ length: count }, () => this.ops.variable(zeros));
      });
      this.slots.set(variable.id, slots);
    }
    return slots;
  }

  /** One update of every variable by its gradient; `learningRate(i)` is variable i's rate. */
  apply(updates: { variable: Native; grad: Native; learningRate: number }[]): void {
    const ops = this.ops;
    this.steps++;
    ops.scope(() => {
      const T = ops.float32();
      const rate = (lr: number) => ops.scalar(lr);
      switch (this.name) {
        case 'sgd':
          for (const u of updates) ops.effect('ResourceApplyGradientDescent', [T, ops.bool('use_locking', false)], [u.variable, rate(u.learningRate), u.grad]);
          return;
        case 'momentum': {
          const momentum = ops.scalar(0.9);
          for (const u of updates) {
            const [accumulation] = this.slotsFor(u.variable, 1);
            ops.effect('ResourceApplyMomentum', [T, ops.bool('use_locking', false), ops.bool('use_nesterov', false)], [u.variable, accumulation, rate(u.learningRate), u.grad, momentum]);
          }
          return;
        }
        case 'rmsprop': {
          const [rho, momentum, epsilon] = [ops.scalar(0.9), ops.scalar(0), ops.scalar(this.epsilon)];
          for (const u of updates) {
            const [meanSquare, moment] = this.slotsFor(u.variable, 2);
            ops.effect('ResourceApplyRMSProp', [T, ops.bool('use_locking', false)], [u.variable, meanSquare, moment, rate(u.learningRate), rho, momentum, epsilon, u.grad]);
          }
          return;
        }
        case 'adam': {
          // TensorFlow's Adam divides by √v + ε̂ with the bias correction folded into the rate;
          // tfjs divides by √v̂ + ε. The same update when ε̂ = ε·√(1 − β₂ᵗ).
          const [beta1, beta2] = [0.9, 0.999];
          const t = this.steps;
          const inputs = [ops.freshScalar(beta1 ** t), ops.freshScalar(beta2 ** t)];
          const [b1, b2, epsilon] = [ops.scalar(beta1), ops.scalar(beta2), ops.freshScalar(this.epsilon * Math.sqrt(1 - beta2 ** t))];
          for (const u of updates) {
            const [m, v] = this.slotsFor(u.variable, 2);
            ops.effect('ResourceApplyAdam', [T, ops.bool('use_locking', false), ops.bool('use_nesterov', false)], [u.variable, m, v, inputs[0], inputs[1], rate(u.learningRate), b1, b2, epsilon, u.grad]);
          }
          return;
        }
      }
    });
  }

  dispose(): void {
    for (const slots of this.slots.values()) for (const s of slots) this.ops.destroyVariable(s);
    this.slots.clear();
  }
}
