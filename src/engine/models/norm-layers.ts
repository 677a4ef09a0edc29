import * as tf from '@tensorflow/tfjs';
import { BatchlessNormalization, isBatchlessLayer } from '../layers/batchless-normalization';

export type NormLayerKind = 'batchless' | 'batch';

export interface NormLayerRef {
  layer: tf.layers.Layer;
  kind: NormLayerKind;
  /** Name path through nested models, e.g. 'block1/bn'. */
  path: string;
}

/** Layers in a model, nested models flattened depth-first in the model's own (topological) order. */
export function flattenLayers(model: tf.LayersModel): { layer: tf.layers.Layer; path: string }[] {
  const out: { layer: tf.layers.Layer; path: string }[] = [];
  const visit = (m: tf.LayersModel, prefix: string) => {
    for (const layer of m.layers) {
      const path = prefix + layer.name;
      if (layer instanceof tf.LayersModel) visit(layer, `${path}/`);
      else out.push({ layer, path });
    }
  };
  visit(model, '');
  return out;
}

/** Every normalization layer the engine knows how to treat, in topological order. */
export function findNormLayers(model: tf.LayersModel): NormLayerRef[] {
  return flattenLayers(model).flatMap(({ layer, path }): NormLayerRef[] => {
    if (isBatchlessLayer(layer)) return [{ layer, kind: 'batchless', path }];
    if (layer.getClassName() === 'BatchNormalization') return [{ layer, kind: 'batch', path }];
    return [];
  });
}

export function findBatchlessLayers(model: tf.LayersModel): BatchlessNormalization[] {
  return findNormLayers(model)
    .filter((ref) => ref.kind === 'batchless')
    .map((ref) => ref.layer as BatchlessNormalization);
}

/** True when a model contains other models as layers (their inner graphs are not followed). */
export function hasNestedModels(model: tf.LayersModel): boolean {
  return model.layers.some((layer) => layer instanceof tf.LayersModel);
}
