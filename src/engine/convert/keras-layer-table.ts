import {
  activationRule,
  channelsLastRule,
  copy,
  isAxis,
  isBatchShape,
  isBool,
  isFinite,
  isPositive,
  isUnitInterval,
  isUnits,
  isWindow,
  KeyRule,
  only,
  paddingRule,
  regularizerRule,
} from './keras-key-rules';
import { STD_PARAMETRIZATIONS } from '../layers/std-parametrization';

/** What the loader knows about one Keras layer class. */
export interface LayerSpec {
  /** Config keys carried into (or checked against) the tfjs layer, beyond COMMON_HANDLED. */
  handled: Record<string, KeyRule>;
  /** Config keys deliberately dropped, each with the reason dropping them is safe. */
  ignored: Record<string, string>;
  /** The layer's variables in Keras's order, given its Keras config (tfjs builds the same). */
  weights: (config: Record<string, unknown>) => string[];
}

const INITIALIZERS =
  'weights are always assigned from the file (a missing weight is an error), so initializers never run';
const CONSTRAINT_NULL = only(null);
const noWeights = (): string[] => [];

const kernelAndBias = (config: Record<string, unknown>): string[] =>
  config['use_bias'] === false ? ['kernel'] : ['kernel', 'bias'];

const pool2d: LayerSpec = {
  handled: {
    pool_size: copy(isWindow(2), 'an int or 2 ints'),
    strides: copy((v) => v === null || isWindow(2)(v), 'null, an int or 2 ints'),
    padding: paddingRule,
    data_format: channelsLastRule,
  },
  ignored: {},
  weights: noWeights,
};

const globalPool2d: LayerSpec = {
  handled: { data_format: channelsLastRule, keepdims: only(false) },
  ignored: {},
  weights: noWeights,
};

/**
 * Every Keras class the loader accepts. A class missing here, or a key missing from its
 * handled and ignored tables, is reported, never guessed at.
 */
export const LAYER_SPECS: Record<string, LayerSpec> = {
  InputLayer: {
    handled: {
      batch_shape: copy(isBatchShape, 'a batch shape', 'batch_input_shape'),
      sparse: only(false, null),
      ragged: only(false, null),
      optional: only(false),
    },
    ignored: { input_tensor: 'only used while building a model in Python; always null in files' },
    weights: noWeights,
  },
  Dense: {
    handled: {
      units: copy(isUnits, 'a positive int'),
      activation: activationRule,
      use_bias: copy(isBool, 'true or false'),
      kernel_regularizer: regularizerRule,
      bias_regularizer: regularizerRule,
      activity_regularizer: regularizerRule,
      kernel_constraint: CONSTRAINT_NULL,
      bias_constraint: CONSTRAINT_NULL,
      lora_rank: only(null),
      quantization_config: only(null),
    },
    ignored: {
      kernel_initializer: INITIALIZERS,
      bias_initializer: INITIALIZERS,
      lora_alpha: 'only read when lora_rank is set, and lora_rank must be null',
    },
    weights: kernelAndBias,
  },
  Conv2D: {
    handled: {
      filters: copy(isUnits, 'a positive int'),
      kernel_size: copy(isWindow(2), 'an int or 2 ints'),
      strides: copy(isWindow(2), 'an int or 2 ints'),
      padding: paddingRule,
      data_format: channelsLastRule,
      dilation_rate: copy(isWindow(2), 'an int or 2 ints'),
      groups: only(1),
      activation: activationRule,
      use_bias: copy(isBool, 'true or false'),
      kernel_regularizer: regularizerRule,
      bias_regularizer: regularizerRule,
      activity_regularizer: regularizerRule,
      kernel_constraint: CONSTRAINT_NULL,
      bias_constraint: CONSTRAINT_NULL,
      lora_rank: only(null),
    },
    ignored: {
      kernel_initializer: INITIALIZERS,
      bias_initializer: INITIALIZERS,
      lora_alpha: 'only read when lora_rank is set, and lora_rank must be null',
    },
    weights: kernelAndBias,
  },
  BatchNormalization: {
    handled: {
      // Keras accepts a one-element list; tfjs wants the int.
      axis: (value, key, where) =>
        Array.isArray(value) && value.length === 1
          ? copy(isAxis, 'an axis')(value[0], key, where)
          : copy(isAxis, 'an int axis')(value, key, where),
      momentum: copy(isUnitInterval, 'a number in [0, 1]'),
      epsilon: copy(isPositive, 'a positive number'),
      center: copy(isBool, 'true or false'),
      scale: copy(isBool, 'true or false'),
      beta_regularizer: regularizerRule,
      gamma_regularizer: regularizerRule,
      beta_constraint: CONSTRAINT_NULL,
      gamma_constraint: CONSTRAINT_NULL,
      renorm: only(false),
      virtual_batch_size: only(null),
      adjustment: only(null),
    },
    ignored: {
      moving_mean_initializer: INITIALIZERS,
      moving_variance_initializer: INITIALIZERS,
      beta_initializer: INITIALIZERS,
      gamma_initializer: INITIALIZERS,
      synchronized:
        'only changes how batch statistics are gathered across devices; one process here',
      renorm_clipping: 'only read when renorm is true, and renorm must be false',
      renorm_momentum: 'only read when renorm is true, and renorm must be false',
      fused: 'Keras 2 implementation choice with identical results',
    },
    weights: (config) => [
      ...(config['scale'] === false ? [] : ['gamma']),
      ...(config['center'] === false ? [] : ['beta']),
      'moving_mean',
      'moving_variance',
    ],
  },
  // Our own layer, as the converter writes it and python/batchless_keras saves it.
  BatchlessNormalization: {
    handled: {
      axis: copy(
        (v) =>
          isAxis(v) ||
          (Array.isArray(v) && v.length > 0 && v.every(isAxis) && new Set(v).size === v.length),
        'an int axis or a list of distinct int axes',
      ),
      epsilon: copy((v) => isFinite(v) && (v as number) >= 0, 'a number >= 0'),
      std_parametrization: copy(
        (v) => (STD_PARAMETRIZATIONS as readonly unknown[]).includes(v),
        STD_PARAMETRIZATIONS.map((p) => `'${p}'`).join(', '),
      ),
      gauge: copy(isBool, 'true or false'),
      center: copy(isBool, 'true or false'),
      scale: copy(isBool, 'true or false'),
      initial_mean: copy(isFinite, 'a finite number'),
      initial_std: copy(isPositive, 'a positive number'),
    },
    ignored: {},
    // The Keras layer's variable order (python/batchless_keras/layer.py), which vars/0..3 follow.
    weights: (config) => [
      'mean',
      'std',
      ...(config['scale'] === false ? [] : ['gamma']),
      ...(config['center'] === false ? [] : ['beta']),
    ],
  },
  Activation: { handled: { activation: activationRule }, ignored: {}, weights: noWeights },
  ReLU: {
    handled: {
      max_value: copy((v) => v === null || isPositive(v), 'null or a positive number'),
      negative_slope: only(0, 0.0, null),
      threshold: only(0, 0.0, null),
    },
    ignored: {},
    weights: noWeights,
  },
  MaxPooling2D: pool2d,
  AveragePooling2D: pool2d,
  GlobalAveragePooling2D: globalPool2d,
  GlobalMaxPooling2D: globalPool2d,
  Flatten: { handled: { data_format: channelsLastRule }, ignored: {}, weights: noWeights },
  Dropout: {
    handled: { rate: copy(isUnitInterval, 'a number in [0, 1]'), noise_shape: only(null) },
    ignored: { seed: 'only picks which units drop in training; dropout is random either way' },
    weights: noWeights,
  },
  Add: { handled: {}, ignored: {}, weights: noWeights },
  Concatenate: { handled: { axis: copy(isAxis, 'an int axis') }, ignored: {}, weights: noWeights },
};

/**
 * Classes from outside Keras that the loader knows, by the registered name Keras resolves them
 * with (`package>Class`) and the module Keras 3 writes for them. Keras 2 wrote the registered name
 * as the class_name itself.
 */
export const CUSTOM_CLASSES: Record<string, { className: string; module: string }> = {
  'batchless>BatchlessNormalization': {
    className: 'BatchlessNormalization',
    module: 'batchless_keras',
  },
};

/** Keys a layer entry (the object around `config`) may carry. */
export const ENTRY_KEYS_IGNORED: Record<string, string> = {
  module: 'Keras 3 import path of a built-in class; custom classes are refused by class_name',
  registered_name: 'null for built-in Keras classes; a custom one is refused by class_name',
  build_config: 'input shapes for Keras to build the layer; tfjs builds from the graph',
  compile_config: 'optimizer and loss for training in Keras; the trainer has its own',
  shared_object_id: 'Keras 3 bookkeeping for objects shared between layers',
};
