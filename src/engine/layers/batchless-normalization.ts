import * as tf from '@tensorflow/tfjs';
import { notifyInputObservers } from './input-observers';
import { stopGradient } from './stop-gradient';
import {
  STD_PARAMETRIZATIONS,
  StdParametrization,
  invStd,
  logStd,
  stdFromStored,
  storedFromStd,
} from './std-parametrization';

import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology';
type Shape = (number | null)[];

export interface BatchlessNormalizationLayerArgs extends LayerArgs {
  /** Axes that keep their own statistics, like Keras BatchNormalization's `axis`. Default: -1. */
  axis?: number | number[];
  /** ε for the 'abs' and 'inv' parametrizations. Default: 1e-5. */
  epsilon?: number;
  /** How σ is stored in the `std` variable: 'log' | 'abs' | 'inv'. Default: 'log'. */
  stdParametrization?: StdParametrization;
  /** Report the NLL shifted so it averages 0 on matching data (the gradient is unchanged). Default: true. */
  gauge?: boolean;
  /** Learn an output shift β. Default: true. */
  center?: boolean;
  /** Learn an output scale γ. Default: true. */
  scale?: boolean;
  /** Initial μ for every channel. Default: 0. */
  initialMean?: number;
  /** Initial σ for every channel (must be > 0). Default: 1. */
  initialStd?: number;
}

/** Per-channel statistics as plain arrays, σ already decoded from its parametrization. */
export interface ChannelStatistics {
  mean: Float32Array;
  std: Float32Array;
}

/**
 * Batchless normalization (Berger & Uc Cetina, arXiv 2212.14729): normalizes with a learned
 * Gaussian per channel instead of batch statistics, y = (a − sg(μ))·sg(1/σ)·γ + β, the same in
 * training and inference. μ and σ are trained only by the layer's Gaussian NLL (`nll`), which
 * never reaches the activations; the task loss reaches only γ, β and upstream weights.
 */
export class BatchlessNormalization extends tf.layers.Layer {
  static className = 'BatchlessNormalization';

  readonly axis: number[];
  readonly epsilon: number;
  readonly stdParametrization: StdParametrization;
  readonly gauge: boolean;
  readonly center: boolean;
  readonly scale: boolean;
  readonly initialMean: number;
  readonly initialStd: number;

  private meanWeight?: tf.LayerVariable;
  private stdWeight?: tf.LayerVariable;
  private gammaWeight?: tf.LayerVariable;
  private betaWeight?: tf.LayerVariable;
  /** Resolved axes (non-negative) and the rank they were resolved for. */
  private statAxes: number[] = [];
  private inputRank = 0;

  constructor(args: BatchlessNormalizationLayerArgs = {}) {
    super(args);
    this.supportsMasking = true;
    this.axis =
      args.axis === undefined ? [-1] : Array.isArray(args.axis) ? [...args.axis] : [args.axis];
    this.epsilon = args.epsilon ?? 1e-5;
    this.stdParametrization = args.stdParametrization ?? 'log';
    this.gauge = args.gauge ?? true;
    this.center = args.center ?? true;
    this.scale = args.scale ?? true;
    this.initialMean = args.initialMean ?? 0;
    this.initialStd = args.initialStd ?? 1;

    if (this.axis.length === 0 || this.axis.some((a) => !Number.isInteger(a))) {
      throw new Error(
        `BatchlessNormalization: axis must be an integer or a non-empty list of integers, got ${JSON.stringify(args.axis)}`,
      );
    }
    if (!(this.epsilon >= 0) || !Number.isFinite(this.epsilon)) {
      throw new Error(
        `BatchlessNormalization: epsilon must be a finite number >= 0, got ${String(args.epsilon)}`,
      );
    }
    if (!STD_PARAMETRIZATIONS.includes(this.stdParametrization)) {
      throw new Error(
        `BatchlessNormalization: stdParametrization must be one of ${STD_PARAMETRIZATIONS.join(', ')}, got '${String(args.stdParametrization)}'`,
      );
    }
    if (!Number.isFinite(this.initialMean)) {
      throw new Error(
        `BatchlessNormalization: initialMean must be finite, got ${String(args.initialMean)}`,
      );
    }
    if (!(this.initialStd > 0) || !Number.isFinite(this.initialStd)) {
      throw new Error(
        `BatchlessNormalization: initialStd must be a finite number > 0, got ${String(args.initialStd)}`,
      );
    }
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    const rank = shape.length;
    const axes = this.axis.map((a) => (a < 0 ? a + rank : a));
    if (axes.some((a) => a < 1 || a >= rank)) {
      throw new Error(
        `BatchlessNormalization: axis ${JSON.stringify(this.axis)} does not fit an input of shape ${JSON.stringify(shape)} (axis 0 is the batch)`,
      );
    }
    const statShape = axes.map((a) => {
      const dim = shape[a];
      if (dim === null || dim === undefined) {
        throw new Error(
          `BatchlessNormalization: axis ${a} of input shape ${JSON.stringify(shape)} must be known`,
        );
      }
      return dim;
    });
    this.statAxes = axes;
    this.inputRank = rank;
    const stored = storedFromStd(this.initialStd, this.stdParametrization, this.epsilon);
    // Weight order and names are part of the format (conversion and Keras parity rely on them).
    this.meanWeight = this.addWeight(
      'mean',
      statShape,
      'float32',
      tf.initializers.constant({ value: this.initialMean }),
    );
    this.stdWeight = this.addWeight(
      'std',
      statShape,
      'float32',
      tf.initializers.constant({ value: stored }),
    );
    if (this.scale)
      this.gammaWeight = this.addWeight('gamma', statShape, 'float32', tf.initializers.ones());
    if (this.center)
      this.betaWeight = this.addWeight('beta', statShape, 'float32', tf.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    notifyInputObservers(this, x);
    return tf.tidy(() => {
      const shape = this.broadcastShape(x.rank);
      const mean = stopGradient(this.meanVariable().read()).reshape(shape);
      const inv = stopGradient(
        invStd(this.stdVariable().read(), this.stdParametrization, this.epsilon),
      );
      // γ/σ first: a [C] multiply instead of a full-size one.
      const factor = this.gammaWeight ? tf.mul(inv, this.gammaWeight.read()) : inv;
      let y = tf.mul(tf.sub(x, mean), factor.reshape(shape));
      if (this.betaWeight) y = tf.add(y, this.betaWeight.read().reshape(shape));
      return y;
    });
  }

  /**
   * The layer's Gaussian NLL for an input batch, averaged over its elements (the 0.5·log 2π
   * constant left out; gauged when `gauge` is on). Its gradient reaches only `mean` and `std`.
   */
  nll(input: tf.Tensor): tf.Scalar {
    return tf.tidy(() => {
      const shape = this.broadcastShape(input.rank);
      // The input is a constant for the NLL, so it enters only through its per-channel mean m and
      // (biased) variance v: mean(((a − μ)/σ)²) = mean_c((v_c + (m_c − μ_c)²) / σ_c²). Same value and
      // gradient as the element-wise form, but the backward pass is [C]-sized, and m, v are summed
      // axis by axis, which keeps float32 rounding low on large feature maps (where a single
      // long reduction made accumulated and full-batch gradients of σ drift apart).
      const a = stopGradient(input);
      const axes = this.reduceAxes(input.rank);
      const m = stagedMean(a, axes);
      const v = stagedMean(tf.square(tf.sub(a, m)), axes);
      const stored = this.stdVariable().read();
      const mean = this.meanVariable().read().reshape(shape);
      const inv = invStd(stored, this.stdParametrization, this.epsilon).reshape(shape);
      const meanSquare = tf.mean(tf.mul(tf.add(v, tf.square(tf.sub(m, mean))), tf.square(inv)));
      const meanLogStd = tf.mean(logStd(stored, this.stdParametrization, this.epsilon));
      const halfMeanSquare = tf.mul(meanSquare, 0.5);
      if (!this.gauge) return tf.add(meanLogStd, halfMeanSquare) as tf.Scalar;
      // Subtracting sg(mean log σ) + 0.5 centres the value on 0 without touching the gradient.
      const gaugedLog = tf.sub(meanLogStd, stopGradient(meanLogStd));
      return tf.sub(tf.add(gaugedLog, halfMeanSquare), 0.5) as tf.Scalar;
    });
  }

  /** μ and σ: the variables only the NLL trains. */
  statisticsVariables(): tf.Variable[] {
    return [this.meanVariable().read() as tf.Variable, this.stdVariable().read() as tf.Variable];
  }

  /** Learned μ and σ (decoded) as host arrays. */
  getStatistics(): ChannelStatistics {
    const mean = this.meanVariable().read().dataSync() as Float32Array;
    const stored = this.stdVariable().read().dataSync();
    const std = Float32Array.from(stored, (s) =>
      stdFromStored(s, this.stdParametrization, this.epsilon),
    );
    return { mean: Float32Array.from(mean), std };
  }

  /** True while μ and σ are still the constructor's initial values (never trained, set or loaded). */
  hasInitialStatistics(): boolean {
    const { mean, std } = this.getStatistics();
    const close = (a: number, b: number) => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));
    return (
      mean.every((m) => close(m, this.initialMean)) && std.every((s) => close(s, this.initialStd))
    );
  }

  /** Sets μ and σ (σ encoded into this layer's parametrization); lengths must match the channels. */
  setStatistics(mean: ArrayLike<number>, std: ArrayLike<number>): void {
    const variable = this.meanVariable();
    const size = variable.shape.reduce((a: number, b) => a * (b ?? 1), 1);
    if (mean.length !== size || std.length !== size) {
      throw new Error(
        `${this.name}: expected ${size} statistics per variable, got mean ${mean.length} and std ${std.length}`,
      );
    }
    for (let i = 0; i < std.length; i++) {
      if (!(std[i] > 0) || !Number.isFinite(std[i])) {
        throw new Error(`${this.name}: std[${i}] must be a finite number > 0, got ${std[i]}`);
      }
    }
    const stored = Array.from(std, (s) => storedFromStd(s, this.stdParametrization, this.epsilon));
    tf.tidy(() => {
      variable.write(tf.tensor(Array.from(mean), variable.shape as number[], 'float32'));
      this.stdVariable().write(tf.tensor(stored, variable.shape as number[], 'float32'));
    });
  }

  /** The resolved axes that keep their own statistics (e.g. [3] for NHWC). */
  statisticsAxes(): number[] {
    return [...this.statAxes];
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = {
      axis: this.axis.length === 1 ? this.axis[0] : [...this.axis],
      epsilon: this.epsilon,
      stdParametrization: this.stdParametrization,
      gauge: this.gauge,
      center: this.center,
      scale: this.scale,
      initialMean: this.initialMean,
      initialStd: this.initialStd,
    };
    return { ...super.getConfig(), ...config };
  }

  private broadcastShape(rank: number): number[] {
    if (rank !== this.inputRank) {
      throw new Error(`${this.name}: built for inputs of rank ${this.inputRank}, got rank ${rank}`);
    }
    const shape = new Array<number>(rank).fill(1);
    const statShape = this.meanVariable().shape;
    this.statAxes.forEach((axis, i) => (shape[axis] = statShape[i] as number));
    return shape;
  }

  private reduceAxes(rank: number): number[] {
    return Array.from({ length: rank }, (_, i) => i).filter((i) => !this.statAxes.includes(i));
  }

  private meanVariable(): tf.LayerVariable {
    if (!this.meanWeight) throw new Error(`${this.name}: the layer is not built yet`);
    return this.meanWeight;
  }

  private stdVariable(): tf.LayerVariable {
    if (!this.stdWeight) throw new Error(`${this.name}: the layer is not built yet`);
    return this.stdWeight;
  }
}

tf.serialization.registerClass(BatchlessNormalization);

/** Mean over `axes` (kept as size-1 dims), reducing one axis at a time, innermost first. */
function stagedMean(x: tf.Tensor, axes: number[]): tf.Tensor {
  let sum = x;
  let count = 1;
  for (const axis of [...axes].sort((p, q) => q - p)) {
    count *= x.shape[axis];
    sum = tf.sum(sum, axis, true);
  }
  return tf.div(sum, count);
}

/** Factory in the style of `tf.layers.batchNormalization`. */
export function batchlessNormalization(
  args?: BatchlessNormalizationLayerArgs,
): BatchlessNormalization {
  return new BatchlessNormalization(args);
}

/** True for batchless layers, also ones deserialized by another copy of this module. */
export function isBatchlessLayer(layer: tf.layers.Layer): layer is BatchlessNormalization {
  return (
    layer instanceof BatchlessNormalization ||
    layer.getClassName() === BatchlessNormalization.className
  );
}
