import { fail, isRecord, ModelWhere, quote } from './model-errors';

/**
 * How one Keras config key is carried into the tfjs config: it validates the value and returns
 * the tfjs-side entries (snake_case, as tfjs's own deserializer expects), or nothing when the
 * key only has to hold tfjs's built-in behaviour.
 */
export type KeyRule = (value: unknown, key: string, where: ModelWhere) => Record<string, unknown>;

/** Bounds that keep a hostile config from asking tfjs for absurd allocations. */
const MAX_UNITS = 1 << 16;
const MAX_KERNEL = 1 << 8;
const MAX_DIM = 1 << 20;
const MAX_INSTANCE_VALUES = 1 << 24;

function bad(where: ModelWhere, key: string, value: unknown, wanted: string): never {
  return fail({ ...where, field: key }, `unsupported value ${quote(value)}; expected ${wanted}`);
}

type Check = (value: unknown) => boolean;

export const isBool: Check = (v) => typeof v === 'boolean';
export const isString: Check = (v) => typeof v === 'string' && v.length > 0 && v.length <= 256;
/**
 * tfjs names variables after their layer and accepts only these characters; checked here because
 * a failure inside tfjs's build leaks the variables of the layers it already built.
 */
export const isLayerName: Check = (v) =>
  typeof v === 'string' && v.length <= 256 && /^[A-Za-z0-9][-A-Za-z0-9._/]*$/.test(v);
const isInt = (v: unknown, lo: number, hi: number): boolean =>
  typeof v === 'number' && Number.isInteger(v) && v >= lo && v <= hi;
export const isUnits: Check = (v) => isInt(v, 1, MAX_UNITS);
export const isAxis: Check = (v) => isInt(v, -8, 8);
export const isFinite: Check = (v) => typeof v === 'number' && Number.isFinite(v);
export const isPositive: Check = (v) => isFinite(v) && (v as number) > 0;
export const isUnitInterval: Check = (v) => isFinite(v) && (v as number) >= 0 && (v as number) <= 1;

/** An int or a list of `rank` ints in [1, MAX_KERNEL] (kernel sizes, strides, pool sizes). */
export function isWindow(rank: number): Check {
  return (v) =>
    isInt(v, 1, MAX_KERNEL) ||
    (Array.isArray(v) && v.length === rank && v.every((d) => isInt(d, 1, MAX_KERNEL)));
}

/**
 * A batch shape: null or a non-negative int per axis, batch axis included, with at most
 * MAX_INSTANCE_VALUES per instance (a 4096×4096 image): layer sizes tfjs allocates at build
 * (a Dense after a Flatten) grow with it, before any weight shape can be compared.
 */
export const isBatchShape: Check = (v) =>
  Array.isArray(v) &&
  v.length >= 1 &&
  v.length <= 8 &&
  v.every((d) => d === null || isInt(d, 0, MAX_DIM)) &&
  v.slice(1).reduce((n: number, d) => n * (d ?? 1), 1) <= MAX_INSTANCE_VALUES;

/** Copies the value under the same key (or `to`) once `check` accepts it. */
export function copy(check: Check, wanted: string, to?: string): KeyRule {
  return (value, key, where) =>
    check(value) ? { [to ?? key]: value } : bad(where, key, value, wanted);
}

/** Accepts only the listed values (deep-equal); tfjs's behaviour equals them, so nothing is emitted. */
export function only(...allowed: unknown[]): KeyRule {
  return (value, key, where) =>
    allowed.some((a) => JSON.stringify(a) === JSON.stringify(value))
      ? {}
      : bad(where, key, value, allowed.map((a) => quote(a)).join(' or '));
}

/** Keras 3 writes a DTypePolicy object, Keras 2 and tfjs a string; only float32 is loaded. */
export const dtypeRule: KeyRule = (value, key, where) => {
  let name: unknown = value;
  if (isRecord(value)) {
    const cls = value['class_name'];
    if (cls !== 'DTypePolicy' && cls !== 'FloatDTypePolicy' && cls !== 'Policy') {
      bad(where, key, cls, 'a DTypePolicy');
    }
    name = isRecord(value['config']) ? value['config']['name'] : undefined;
  }
  if (value === null || value === undefined) return {};
  return name === 'float32' ? { dtype: 'float32' } : bad(where, key, name, "'float32'");
};

/**
 * Keras activation names whose tfjs namesake computes the same function. Left out on purpose:
 * hard_sigmoid (Keras 3 uses relu6(x+3)/6, tfjs 0.2x+0.5) and gelu (approximation differs).
 */
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
  swish: 'swish',
  silu: 'swish',
};

export const activationRule: KeyRule = (value, key, where) => {
  const name = typeof value === 'string' ? ACTIVATIONS[value] : undefined;
  return name !== undefined
    ? { [key]: name }
    : bad(where, key, value, `one of ${Object.keys(ACTIVATIONS).join(', ')}`);
};

/**
 * Regularizers change the training loss, so they are carried, not dropped. Keras L1/L2/L1L2 add
 * l1·Σ|w| + l2·Σw², exactly tfjs's L1L2.
 */
export const regularizerRule: KeyRule = (value, key, where) => {
  if (value === null || value === undefined) return {};
  const cls = isRecord(value) ? value['class_name'] : undefined;
  const cfg = isRecord(value) && isRecord(value['config']) ? value['config'] : undefined;
  if ((cls !== 'L1' && cls !== 'L2' && cls !== 'L1L2') || cfg === undefined) {
    return bad(where, key, value, 'null or an L1, L2 or L1L2 regularizer');
  }
  for (const k of Object.keys(cfg)) {
    if ((k !== 'l1' && k !== 'l2') || !isFinite(cfg[k])) bad(where, `${key}.${k}`, cfg[k], 'l1/l2');
  }
  return { [key]: { class_name: 'L1L2', config: { l1: cfg['l1'] ?? 0, l2: cfg['l2'] ?? 0 } } };
};

/** Keras `padding` values tfjs computes identically for 2D windows. */
export const paddingRule = copy((v) => v === 'valid' || v === 'same', "'valid' or 'same'");

/**
 * Only channels_last is loaded: tfjs emulates channels_first by transposing, which no fixture
 * checks, and the BN → batchless rewrite assumes channels on the last axis.
 */
export const channelsLastRule = only('channels_last', null);

/** Keys every layer config may carry, with the same meaning for every class. */
export const COMMON_HANDLED: Record<string, KeyRule> = {
  name: copy(isLayerName, 'a layer name of letters, digits and - . _ /'),
  trainable: copy(isBool, 'true or false'),
  dtype: dtypeRule,
  // Keras <= 2.3 and tfjs put the model's input shape on the first layer of a Sequential.
  batch_input_shape: copy(isBatchShape, 'a batch shape'),
};
