import * as tf from '@tensorflow/tfjs';
import { BatchlessNormalization, isBatchlessLayer } from '../layers/batchless-normalization';
import type { StdParametrization } from '../layers/std-parametrization';
import { flattenLayers } from '../models/norm-layers';
import { BN_CONFIG_KEYS, ConversionError, describeBnSettings } from './bn-config';

export interface ConvertOptions {
  /** How the batchless layers store σ. Default: 'log'. */
  stdParametrization?: StdParametrization;
  /** The batchless layers' own ε (not BN's, which is folded into σ). Default: 1e-5. */
  epsilon?: number;
}

/** One BN layer that became batchless, and where its statistics came from. */
export type { ConvertedLayer } from '../../shared/conversion';
import type { ConvertedLayer } from '../../shared/conversion';

export interface InMemoryConversion {
  model: tf.LayersModel;
  converted: ConvertedLayer[];
  /** Batchless layers the model already had (a model with no BN and some of these is a no-op). */
  alreadyBatchless: string[];
}

type LayerJson = { class_name: string; config: Record<string, unknown> & { layers?: LayerJson[] } };

/**
 * Rewrites every BatchNormalization of a model into BatchlessNormalization with μ = moving_mean,
 * σ = sqrt(moving_variance + ε_BN), γ and β copied (method.md), leaving every other layer and
 * weight untouched. In inference the result computes what the BN model computed.
 */
export async function convertLayersModel(model: tf.LayersModel, options: ConvertOptions = {}): Promise<InMemoryConversion> {
  const topology = model.toJSON(null, false) as unknown as LayerJson;
  const converted: ConvertedLayer[] = [];
  rewriteConfig(topology, '', options, converted);
  const rebuilt = await tf.models.modelFromJSON({ modelTopology: topology as unknown as tf.io.ModelJSON['modelTopology'] } as tf.io.ModelJSON);
  try {
    copyWeights(model, rebuilt, converted);
  } catch (e) {
    rebuilt.dispose();
    throw e;
  }
  const alreadyBatchless = flattenLayers(model)
    .filter(({ layer }) => isBatchlessLayer(layer))
    .map(({ path }) => path);
  return { model: rebuilt, converted, alreadyBatchless };
}

function rewriteConfig(node: LayerJson, prefix: string, options: ConvertOptions, converted: ConvertedLayer[]): void {
  for (const entry of node.config.layers ?? []) {
    const name = String(entry.config.name);
    if (Array.isArray(entry.config.layers)) {
      rewriteConfig(entry, `${prefix}${name}/`, options, converted);
      continue;
    }
    if (entry.class_name !== 'BatchNormalization') continue;
    const config = entry.config;
    for (const key of Object.keys(config)) {
      if (!BN_CONFIG_KEYS.has(key)) throw new ConversionError(prefix + name, key, `unsupported BatchNormalization setting ${JSON.stringify(config[key])}; refusing to guess its meaning`);
    }
    const axis = (config.axis ?? -1) as number | number[];
    const center = config.center !== false;
    const scale = config.scale !== false;
    const bnEpsilon = typeof config.epsilon === 'number' ? config.epsilon : 1e-3;
    // Keys every layer carries (input shapes, dtype, name) pass through unchanged.
    const carried = Object.fromEntries(
      ['name', 'trainable', 'dtype', 'batch_input_shape', 'input_shape', 'batch_size', 'input_dtype'].filter((k) => k in config).map((k) => [k, config[k]]),
    );
    entry.class_name = BatchlessNormalization.className;
    entry.config = {
      ...carried,
      trainable: true,
      axis,
      epsilon: options.epsilon ?? 1e-5,
      std_parametrization: options.stdParametrization ?? 'log',
      gauge: true,
      center,
      scale,
      initial_mean: 0,
      initial_std: 1,
    };
    converted.push({
      layer: prefix + name,
      channels: 0,
      axis,
      bnEpsilon,
      center,
      scale,
      statisticsFrom: `μ = moving_mean, σ = sqrt(moving_variance + ${bnEpsilon})`,
      notes: describeBnSettings(config),
    });
  }
}

function copyWeights(source: tf.LayersModel, target: tf.LayersModel, converted: ConvertedLayer[]): void {
  const targets = new Map(flattenLayers(target).map(({ layer, path }) => [path, layer]));
  const byPath = new Map(converted.map((c) => [c.layer, c]));
  for (const { layer, path } of flattenLayers(source)) {
    const next = targets.get(path);
    if (!next) throw new ConversionError(path, 'name', 'the layer is missing from the rebuilt model');
    const record = byPath.get(path);
    if (!record) {
      try {
        next.setWeights(layer.getWeights());
      } catch (err) {
        throw new ConversionError(path, 'weights', (err as Error).message);
      }
      continue;
    }
    copyBatchNormWeights(layer, next as BatchlessNormalization, record);
  }
}

function copyBatchNormWeights(bn: tf.layers.Layer, target: BatchlessNormalization, record: ConvertedLayer): void {
  const weights = new Map(bn.weights.map((w) => [w.originalName.split('/').pop()!, w.read().dataSync() as Float32Array]));
  const need = (name: string) => {
    const values = weights.get(name);
    if (!values) throw new ConversionError(record.layer, name, 'the BatchNormalization layer has no such weight');
    return values;
  };
  const movingMean = need('moving_mean');
  const movingVariance = need('moving_variance');
  const channels = target.statisticsVariables()[0].size;
  for (const [name, values] of weights) {
    if (values.length !== channels) throw new ConversionError(record.layer, name, `expected ${channels} values (one per channel), found ${values.length}`);
  }
  const std = Array.from(movingVariance, (v, i) => {
    const s = Math.sqrt(v + record.bnEpsilon);
    if (!(s > 0) || !Number.isFinite(s)) throw new ConversionError(record.layer, 'moving_variance', `channel ${i}: variance ${v} + ε ${record.bnEpsilon} gives no usable σ`);
    return s;
  });
  target.setStatistics(movingMean, std);
  const values: tf.Tensor[] = [];
  try {
    for (const w of target.weights) {
      const name = w.originalName.split('/').pop()!;
      values.push(name === 'gamma' || name === 'beta' ? tf.tensor(need(name), w.shape as number[]) : w.read().clone());
    }
    target.setWeights(values);
  } finally {
    tf.dispose(values);
  }
  record.channels = channels;
}
