import { CUSTOM_CLASSES } from './keras-layer-table';
import {
  copy,
  isAxis,
  isBool,
  isFinite,
  isPositive,
  isUnits,
  isWindow,
  only,
} from './keras-key-rules';
import { fail, isRecord, ModelWhere, quote } from './model-errors';
import { STD_PARAMETRIZATIONS } from '../layers/std-parametrization';

// The tfjs → Keras 3 direction of keras-layer-table.ts: how each tfjs layer (as `model.toJSON()`
// writes it, Keras 2 style snake_case) becomes the entry Keras 3 writes in a `.keras` config.json.
// The classes are exactly those the engine's Keras reader loads, so every exported file reads
// back into the engine and is checked against the model it came from. A class or key missing
// here is refused, never guessed at.

type ExportRule = (value: unknown, key: string, where: ModelWhere) => Record<string, unknown>;

interface ExportSpec {
  handled: Record<string, ExportRule>;
  /** tfjs keys deliberately not written, each with the reason that is safe. */
  ignored: Record<string, string>;
}

const INITIALIZERS =
  'the archive holds the trained weights, which Keras loads over whatever the initializers made ' +
  "(tfjs writes them in a form Keras 3 reads differently, e.g. distribution 'normal')";

const DTYPE_POLICY = {
  module: 'keras',
  class_name: 'DTypePolicy',
  config: { name: 'float32' },
  registered_name: null,
};

/** tfjs activation names whose Keras 3 namesake computes the same function. */
const ACTIVATIONS: Record<string, string> = {
  linear: 'linear',
  relu: 'relu',
  relu6: 'relu6',
  sigmoid: 'sigmoid',
  softmax: 'softmax',
  tanh: 'tanh',
  elu: 'elu',
  selu: 'selu',
  softplus: 'softplus',
  softsign: 'softsign',
  swish: 'silu',
};

const activation: ExportRule = (value, key, where) =>
  typeof value === 'string' && ACTIVATIONS[value] !== undefined
    ? { [key]: ACTIVATIONS[value] }
    : fail({ ...where, field: key }, `activation ${quote(value)} has no exact Keras 3 namesake`);

/** tfjs writes every regularizer as L1L2, which Keras 3 computes the same way (l1·Σ|w| + l2·Σw²). */
const regularizer: ExportRule = (value, key, where) => {
  if (value === null || value === undefined) return { [key]: null };
  const cfg = isRecord(value) ? value['config'] : undefined;
  if (!isRecord(value) || value['class_name'] !== 'L1L2' || !isRecord(cfg)) {
    return fail({ ...where, field: key }, `unsupported regularizer ${quote(value)}`);
  }
  const l1 = cfg['l1'] ?? 0;
  const l2 = cfg['l2'] ?? 0;
  if (!isFinite(l1) || !isFinite(l2)) fail({ ...where, field: key }, `bad L1L2 ${quote(cfg)}`);
  const config = { l1, l2 };
  return {
    [key]: { module: 'keras.regularizers', class_name: 'L1L2', config, registered_name: null },
  };
};

const constraint = only(null);
const channelsLast: ExportRule = (value, key, where) =>
  value === undefined || value === null || value === 'channels_last'
    ? { [key]: 'channels_last' }
    : fail({ ...where, field: key }, `${quote(value)}: only channels_last is exported`);
const padding = copy((v) => v === 'valid' || v === 'same', "'valid' or 'same'");
const window2d = copy(isWindow(2), 'an int or 2 ints');

const DENSE_LIKE: Record<string, ExportRule> = {
  activation,
  use_bias: copy(isBool, 'true or false'),
  kernel_regularizer: regularizer,
  bias_regularizer: regularizer,
  activity_regularizer: regularizer,
  kernel_constraint: constraint,
  bias_constraint: constraint,
};

const pool2d: ExportSpec = {
  handled: {
    pool_size: window2d,
    strides: copy((v) => v === null || isWindow(2)(v), 'null, an int or 2 ints'),
    padding,
    data_format: channelsLast,
  },
  ignored: {},
};

const globalPool2d: ExportSpec = { handled: { data_format: channelsLast }, ignored: {} };

export const EXPORT_SPECS: Record<string, ExportSpec> = {
  Dense: {
    handled: { units: copy(isUnits, 'a positive int'), ...DENSE_LIKE },
    ignored: { kernel_initializer: INITIALIZERS, bias_initializer: INITIALIZERS },
  },
  Conv2D: {
    handled: {
      filters: copy(isUnits, 'a positive int'),
      kernel_size: window2d,
      strides: window2d,
      padding,
      data_format: channelsLast,
      dilation_rate: window2d,
      ...DENSE_LIKE,
    },
    ignored: { kernel_initializer: INITIALIZERS, bias_initializer: INITIALIZERS },
  },
  BatchlessNormalization: {
    handled: {
      axis: copy(
        (v) => isAxis(v) || (Array.isArray(v) && v.length > 0 && v.every(isAxis)),
        'an int axis or a list of them',
      ),
      epsilon: copy((v) => isFinite(v) && (v as number) >= 0, 'a number >= 0'),
      std_parametrization: copy(
        (v) => (STD_PARAMETRIZATIONS as readonly unknown[]).includes(v),
        STD_PARAMETRIZATIONS.join(', '),
      ),
      gauge: copy(isBool, 'true or false'),
      center: copy(isBool, 'true or false'),
      scale: copy(isBool, 'true or false'),
      initial_mean: copy(isFinite, 'a finite number'),
      initial_std: copy(isPositive, 'a positive number'),
    },
    ignored: {},
  },
  Activation: { handled: { activation }, ignored: {} },
  ReLU: {
    handled: { max_value: copy((v) => v === null || isPositive(v), 'null or a positive number') },
    ignored: {},
  },
  MaxPooling2D: pool2d,
  AveragePooling2D: pool2d,
  GlobalAveragePooling2D: globalPool2d,
  GlobalMaxPooling2D: globalPool2d,
  Flatten: { handled: { data_format: channelsLast }, ignored: {} },
  Dropout: {
    handled: {
      rate: copy((v) => isFinite(v) && (v as number) >= 0 && (v as number) < 1, 'a rate in [0, 1)'),
      noise_shape: only(null),
      seed: copy((v) => v === null || Number.isInteger(v), 'null or an int'),
    },
    ignored: {},
  },
  Add: { handled: {}, ignored: {} },
  Concatenate: { handled: { axis: copy(isAxis, 'an int axis') }, ignored: {} },
};

const COMMON: Record<string, ExportRule> = {
  name: copy((v) => typeof v === 'string' && v.length > 0, 'a layer name'),
  trainable: copy(isBool, 'true or false'),
  dtype: (value, key, where) =>
    value === undefined || value === null || value === 'float32'
      ? {}
      : fail({ ...where, field: key }, `dtype ${quote(value)}: only float32 models are exported`),
  // Moved onto the InputLayer by the topology writer; never a layer argument in Keras 3.
  batch_input_shape: () => ({}),
};

const BATCHLESS = Object.entries(CUSTOM_CLASSES).find(
  ([, c]) => c.className === 'BatchlessNormalization',
);

/** A tfjs layer entry's class and config as Keras 3 writes them: module, registered_name, config. */
export function keras3LayerEntry(
  className: string,
  config: Record<string, unknown>,
  where: ModelWhere,
): Record<string, unknown> {
  const spec =
    EXPORT_SPECS[className] ??
    fail({ ...where, field: 'class_name' }, `layer class '${className}' is not exported to Keras`);
  const out: Record<string, unknown> = {
    name: config['name'],
    trainable: true,
    dtype: DTYPE_POLICY,
  };
  for (const [key, value] of Object.entries(config)) {
    const rule = spec.handled[key] ?? COMMON[key];
    if (rule !== undefined) Object.assign(out, rule(value, key, where));
    else if (!(key in spec.ignored))
      fail({ ...where, field: key }, `unsupported ${className} setting ${quote(value)}`);
  }
  if (className === 'BatchlessNormalization' && BATCHLESS !== undefined) {
    const [registered, { module }] = BATCHLESS;
    return { module, class_name: className, config: out, registered_name: registered };
  }
  return { module: 'keras.layers', class_name: className, config: out, registered_name: null };
}

/** Keras 3's InputLayer entry for a batch shape. */
export function keras3InputEntry(name: string, batchShape: unknown): Record<string, unknown> {
  const config = { batch_shape: batchShape, dtype: 'float32', sparse: false, name };
  return { module: 'keras.layers', class_name: 'InputLayer', config, registered_name: null };
}
