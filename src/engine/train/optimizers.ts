import * as tf from '@tensorflow/tfjs';
import type { OptimizerName } from './config';

export function makeOptimizer(name: OptimizerName, learningRate: number): tf.Optimizer {
  switch (name) {
    case 'adam':
      return tf.train.adam(learningRate);
    case 'sgd':
      return tf.train.sgd(learningRate);
    case 'momentum':
      return tf.train.momentum(learningRate, 0.9);
    case 'rmsprop':
      return tf.train.rmsprop(learningRate);
  }
}

/**
 * Applies one update. With a separate learning rate for μ/σ the gradients are split between two
 * optimizers (scaling the NLL gradient would not do for Adam, which is scale-invariant).
 */
export class StepOptimizer {
  private readonly main: tf.Optimizer;
  private readonly stats?: tf.Optimizer;

  constructor(name: OptimizerName, learningRate: number, statsLearningRate: number, private readonly statsVariables: Set<string>) {
    this.main = makeOptimizer(name, learningRate);
    if (statsLearningRate > 0 && statsLearningRate !== learningRate && statsVariables.size > 0) {
      this.stats = makeOptimizer(name, statsLearningRate);
    }
  }

  apply(grads: tf.NamedTensorMap): void {
    if (!this.stats) {
      this.main.applyGradients(grads);
      return;
    }
    const main: tf.NamedTensorMap = {};
    const stats: tf.NamedTensorMap = {};
    for (const [name, grad] of Object.entries(grads)) (this.statsVariables.has(name) ? stats : main)[name] = grad;
    this.main.applyGradients(main);
    this.stats.applyGradients(stats);
  }

  dispose(): void {
    this.main.dispose();
    this.stats?.dispose();
  }
}
