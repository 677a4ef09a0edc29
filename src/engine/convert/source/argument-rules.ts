/**
 * What happens to each batch-normalization argument, for TF.js (camelCase) and Keras
 * (snake_case). An argument missing from both tables is not guessed at: the call is left
 * unchanged and reported.
 */

export type ArgumentRule =
  | { action: 'keep'; note?: (value: string) => string | undefined }
  | { action: 'drop'; note: string };

const EPSILON =
  "BN's ε is added to the batch variance, while batchless ε only guards the 'abs' and 'inv' σ " +
  'parametrizations (default 1e-5); converting trained weights folds ε_BN into ' +
  'σ = sqrt(moving variance + ε)';
const MOMENTUM =
  'batchless normalization keeps no moving averages: μ and σ are trained by the layer’s NLL ' +
  'loss, whose learning rate plays the role of momentum';
const INIT_AFFINE =
  'batchless normalization starts from γ = 1, β = 0 so the new layer is an identity at first';
const INIT_STATS =
  'μ and σ start at initialMean/initialStd (0 and 1) and are better set from data or from a ' +
  'trained BN layer (model conversion)';
const PENALTY =
  'batchless normalization has no regularizers or constraints on γ and β; add a penalty to the ' +
  'loss yourself if the model needs it';
const WEIGHTS =
  'BN weights [γ, β, moving mean, moving variance] do not map one to one onto batchless ' +
  '[μ, σ, γ, β]; convert the trained model instead, which sets σ = sqrt(moving variance + ε)';

function unusual(what: string): string {
  return `unusual setting: ${what}; batchless normalization computes nothing across the batch`;
}

/** TF.js `tf.layers.batchNormalization` arguments (BatchNormalizationLayerArgs + LayerArgs). */
export const TFJS_ARGUMENTS: ReadonlyMap<string, ArgumentRule> = new Map<string, ArgumentRule>([
  ['axis', { action: 'keep' }],
  ['center', { action: 'keep' }],
  ['scale', { action: 'keep' }],
  ['name', { action: 'keep' }],
  ['trainable', { action: 'keep' }],
  ['inputShape', { action: 'keep' }],
  ['batchInputShape', { action: 'keep' }],
  ['batchSize', { action: 'keep' }],
  ['dtype', { action: 'keep' }],
  ['inputDType', { action: 'keep' }],
  ['momentum', { action: 'drop', note: MOMENTUM }],
  ['epsilon', { action: 'drop', note: EPSILON }],
  ['betaInitializer', { action: 'drop', note: INIT_AFFINE }],
  ['gammaInitializer', { action: 'drop', note: INIT_AFFINE }],
  ['movingMeanInitializer', { action: 'drop', note: INIT_STATS }],
  ['movingVarianceInitializer', { action: 'drop', note: INIT_STATS }],
  ['betaRegularizer', { action: 'drop', note: PENALTY }],
  ['gammaRegularizer', { action: 'drop', note: PENALTY }],
  ['betaConstraint', { action: 'drop', note: PENALTY }],
  ['gammaConstraint', { action: 'drop', note: PENALTY }],
  ['weights', { action: 'drop', note: WEIGHTS }],
]);

const FROZEN =
  'Keras runs a BN layer with trainable=False in inference mode; batchless normalization ' +
  'computes the same in training and inference, so the frozen layer keeps μ, σ, γ, β fixed';

/** Keras 2 and 3 `BatchNormalization` keyword arguments. */
export const KERAS_ARGUMENTS: ReadonlyMap<string, ArgumentRule> = new Map<string, ArgumentRule>([
  ['axis', { action: 'keep' }],
  ['center', { action: 'keep' }],
  ['scale', { action: 'keep' }],
  ['name', { action: 'keep' }],
  ['dtype', { action: 'keep' }],
  ['trainable', { action: 'keep', note: (value) => (value === 'True' ? undefined : FROZEN) }],
  ['momentum', { action: 'drop', note: MOMENTUM }],
  ['epsilon', { action: 'drop', note: EPSILON }],
  ['beta_initializer', { action: 'drop', note: INIT_AFFINE }],
  ['gamma_initializer', { action: 'drop', note: INIT_AFFINE }],
  ['moving_mean_initializer', { action: 'drop', note: INIT_STATS }],
  ['moving_variance_initializer', { action: 'drop', note: INIT_STATS }],
  ['beta_regularizer', { action: 'drop', note: PENALTY }],
  ['gamma_regularizer', { action: 'drop', note: PENALTY }],
  ['beta_constraint', { action: 'drop', note: PENALTY }],
  ['gamma_constraint', { action: 'drop', note: PENALTY }],
  ['renorm', { action: 'drop', note: unusual('batch renormalization') }],
  ['renorm_clipping', { action: 'drop', note: unusual('batch renormalization') }],
  ['renorm_momentum', { action: 'drop', note: unusual('batch renormalization') }],
  ['virtual_batch_size', { action: 'drop', note: unusual('ghost batches') }],
  ['adjustment', { action: 'drop', note: unusual('adjusted batch statistics') }],
  ['synchronized', { action: 'drop', note: unusual('statistics synchronized across replicas') }],
  ['fused', { action: 'drop', note: 'a choice of BN kernel with no batchless counterpart' }],
  ['weights', { action: 'drop', note: WEIGHTS }],
]);

/**
 * Keras's positional order, the same in Keras 2 and 3 up to `gamma_constraint`; later positions
 * differ between the two and are reported instead of guessed.
 */
export const KERAS_POSITIONAL = [
  'axis',
  'momentum',
  'epsilon',
  'center',
  'scale',
  'beta_initializer',
  'gamma_initializer',
  'moving_mean_initializer',
  'moving_variance_initializer',
  'beta_regularizer',
  'gamma_regularizer',
  'beta_constraint',
  'gamma_constraint',
] as const;

/** The note for a dropped argument, naming it and its value as written. */
export function dropNote(name: string, value: string, why: string): string {
  const shown = value.length > 40 ? `${value.slice(0, 39)}…` : value;
  return `${name} (${shown}) dropped: ${why}.`;
}

const SHAPE_ARGUMENTS = new Set(['input_shape', 'batch_input_shape', 'batch_size', 'input_dim']);

/** Why a call with an argument outside the tables is left alone. */
export function unknownArgumentReason(name: string, layer: string): string {
  const hint = SHAPE_ARGUMENTS.has(name)
    ? '; declare the input shape with keras.Input instead'
    : '';
  return `argument '${name}' of ${layer} has no known batchless counterpart${hint}; the call is left unchanged`;
}
