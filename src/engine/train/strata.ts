import * as tf from '@tensorflow/tfjs';
import type { BatchlessNormalization } from '../layers/batchless-normalization';
import { hasNestedModels } from '../models/norm-layers';

/**
 * Orders batchless layers in strata: a layer comes after every batchless layer it depends on, so
 * initializing stratum by stratum means each layer's input statistics are measured with the layers
 * upstream already normalizing (method.md, "Initialization"). Layers in one stratum are independent
 * and share a forward pass.
 *
 * Dependencies are read from the layers' inbound nodes. Inside nested models those edges stop at the
 * inner model's inputs, so such models get the always-correct fallback: one layer per stratum, in
 * topological order.
 */
export function batchlessStrata(model: tf.LayersModel, layers: BatchlessNormalization[]): BatchlessNormalization[][] {
  if (layers.length === 0) return [];
  if (hasNestedModels(model)) return layers.map((layer) => [layer]);
  const targets = new Set<tf.layers.Layer>(layers);
  const depth = new Map<tf.layers.Layer, number>();

  // Depth of the deepest batchless layer at or above `layer` (0 when there is none).
  const depthAbove = (layer: tf.layers.Layer, visiting: Set<tf.layers.Layer>): number => {
    const known = depth.get(layer);
    if (known !== undefined) return known;
    if (visiting.has(layer)) return 0; // a cycle cannot occur in a layers graph; be safe anyway
    visiting.add(layer);
    let deepest = 0;
    for (const node of layer.inboundNodes) {
      for (const parent of node.inboundLayers) deepest = Math.max(deepest, depthAbove(parent, visiting));
    }
    visiting.delete(layer);
    const result = targets.has(layer) ? deepest + 1 : deepest;
    depth.set(layer, result);
    return result;
  };

  const strata: BatchlessNormalization[][] = [];
  for (const layer of layers) {
    const d = depthAbove(layer, new Set()) - 1;
    (strata[d] ??= []).push(layer);
  }
  return strata.filter((s) => s !== undefined);
}
