/**
 * The BatchNormalization config keys the converter understands (tfjs-layers' snake_case form, which
 * the Keras readers also produce). Anything else stops the conversion: guessing could silently
 * change what the model computes.
 */
export const BN_CONFIG_KEYS: ReadonlySet<string> = new Set([
  'name', 'trainable', 'dtype', 'batch_input_shape', 'input_shape', 'batch_size', 'input_dtype',
  'axis', 'momentum', 'epsilon', 'center', 'scale',
  'beta_initializer', 'gamma_initializer', 'moving_mean_initializer', 'moving_variance_initializer',
  'beta_regularizer', 'gamma_regularizer', 'beta_constraint', 'gamma_constraint',
]);

/** A conversion problem, named by layer and field (weight or config key), and file once known. */
export class ConversionError extends Error {
  constructor(readonly layer: string, readonly field: string, readonly detail: string, readonly file?: string) {
    super(`${file === undefined ? '' : `${file}, `}layer '${layer}', '${field}': ${detail}`);
    this.name = 'ConversionError';
  }
}

/** What a BN layer had that batchless normalization does not carry over, in words for the summary. */
export function describeBnSettings(config: Record<string, unknown>): string[] {
  const notes: string[] = [];
  if (config.trainable === false) {
    notes.push('trainable=false (Keras: BN frozen in inference mode); the batchless layer is trainable, its statistics start from the frozen ones');
  }
  if (typeof config.momentum === 'number') {
    notes.push(`momentum ${config.momentum} is not used: batchless statistics are learned by gradient descent`);
  }
  for (const key of ['beta_regularizer', 'gamma_regularizer', 'beta_constraint', 'gamma_constraint']) {
    if (config[key] !== null && config[key] !== undefined) notes.push(`${key} dropped (not supported by the batchless layer)`);
  }
  return notes;
}
