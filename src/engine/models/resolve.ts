import type * as tf from '@tensorflow/tfjs';
import { convertLayersModel, InMemoryConversion } from '../convert/bn-to-batchless';
import { loadModel } from '../convert/load-model';
import { BuiltinModelName, NormKind, buildBuiltinModel, parseBuiltinSpec } from './builtin';
import { findNormLayers } from './norm-layers';

export interface ResolvedModel {
  model: tf.LayersModel;
  /** As the user named it: 'builtin:mlp' or the file path. */
  name: string;
  builtin?: BuiltinModelName;
  /** Set when BN layers were converted to batchless on the way in. */
  conversion?: InMemoryConversion;
  notes: string[];
}

export interface ResolveOptions {
  /**
   * Built-in models: which normalization to build with (default 'batchless'). Model files:
   * 'batchless' converts BN layers on load, 'batch' keeps BN, undefined trains the file as it is.
   */
  norm?: NormKind;
  /** Seeds the built-in models' initializers. */
  seed?: number;
}

/** 'builtin:mlp' | 'builtin:cnn' | a model file in any supported format → a model ready to train. */
export async function resolveModel(
  spec: string,
  options: ResolveOptions = {},
): Promise<ResolvedModel> {
  const builtin = parseBuiltinSpec(spec);
  if (builtin) {
    return {
      model: buildBuiltinModel(builtin, {
        norm: options.norm ?? 'batchless',
        seed: options.seed ?? 0,
      }),
      name: spec,
      builtin,
      notes: [],
    };
  }
  const loaded = await loadModel(spec);
  const notes = [...loaded.notes];
  const kinds = new Set(findNormLayers(loaded.model).map((r) => r.kind));
  if (options.norm === 'none')
    throw new Error(
      `--norm none applies to built-in models only; '${spec}' is trained with the normalization it has`,
    );
  if (options.norm === 'batchless' && kinds.has('batch')) {
    const conversion = await convertLayersModel(loaded.model);
    notes.push(
      `converted ${conversion.converted.length} BatchNormalization layer(s) to batchless (μ/σ from the moving statistics)`,
    );
    return { model: conversion.model, name: spec, conversion, notes };
  }
  if (options.norm === 'batch' && kinds.has('batchless'))
    notes.push('the model already uses batchless normalization; it is trained as it is');
  return { model: loaded.model, name: spec, notes };
}
