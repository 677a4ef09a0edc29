import * as tf from '@tensorflow/tfjs';
import { promises as fs } from 'node:fs';
import * as nodePath from 'node:path';
import { findNormLayers } from '../models/norm-layers';
import { backupFiles, backupStamp } from './backup';
import { ConversionError } from './bn-config';
import { ConvertOptions, convertLayersModel, InMemoryConversion } from './bn-to-batchless';
import { loadModel, LoadedModel, ModelFileFormat } from './load-model';
import { checkParity } from './parity';
import { modelWriterFor, StagedFiles } from './writers';

export interface ConvertFileOptions extends ConvertOptions {
  /** Write the converted model here (a folder or a file path in the same format). */
  out?: string;
  /** Replace the original, keeping a backup beside it. */
  inPlace?: boolean;
  /** Write even when parity exceeds the tolerance. */
  force?: boolean;
  /** Largest acceptable relative difference of outputs (default 1e-4). */
  tolerance?: number;
  /** Probe inputs for the parity check (default: 64 seeded random inputs of the model's shape). */
  probe?: { x: tf.Tensor; label: string };
}

/** What the CLI's --json prints and convertModel resolves to. */
export type { ConversionSummary } from '../../shared/conversion';
import type { ConversionSummary } from '../../shared/conversion';

/** Parity beyond the tolerance: nothing was written. */
export class ParityRefusedError extends Error {
  constructor(readonly summary: ConversionSummary) {
    super(summary.message);
    this.name = 'ParityRefusedError';
  }
}

/**
 * Converts a model file: load (any supported format), rewrite BN → batchless, prove parity, then
 * write. Writing goes to a temporary file that must read back and reproduce the converted model
 * before anything replaces the original; in place, the original is backed up first. Any failure
 * before the final rename leaves the original byte-identical.
 */
export async function convertModel(path: string, options: ConvertFileOptions = {}): Promise<ConversionSummary> {
  const loaded = await loadModel(path, { forConversion: true });
  try {
    return await convertLoaded(loaded, options);
  } catch (e) {
    // The in-memory rewrite knows layers, not files: say which file the layer is in.
    if (e instanceof ConversionError && e.file === undefined) throw new ConversionError(e.layer, e.field, e.detail, loaded.sourcePath);
    throw e;
  } finally {
    // The summary carries no tensors: free the models, or every conversion leaks its weights.
    loaded.model.dispose();
  }
}

async function convertLoaded(loaded: LoadedModel, options: ConvertFileOptions): Promise<ConversionSummary> {
  const source = loaded.sourcePath;
  const kinds = new Set(findNormLayers(loaded.model).map((r) => r.kind));
  if (!kinds.has('batch')) {
    const message = kinds.has('batchless')
      ? `${source} already uses batchless normalization: nothing to convert.`
      : `${source} has no BatchNormalization layers: nothing to convert.`;
    return { source, format: loaded.format, layers: [], noop: true, message, notes: loaded.notes };
  }
  const conversion = await convertLayersModel(loaded.model, options);
  try {
    return await proveAndWrite(loaded, conversion, options);
  } finally {
    conversion.model.dispose();
  }
}

async function proveAndWrite(loaded: LoadedModel, conversion: InMemoryConversion, options: ConvertFileOptions): Promise<ConversionSummary> {
  const source = loaded.sourcePath;
  const probe = options.probe ?? randomProbe(loaded.model);
  const parity = checkParity(loaded.model, conversion.model, probe.x, conversion.converted.map((c) => c.layer), probe.label, options.tolerance ?? 1e-4);
  if (!options.probe) probe.x.dispose();
  const summary: ConversionSummary = {
    source,
    format: loaded.format,
    layers: conversion.converted,
    parity,
    noop: false,
    message: '',
    notes: [...loaded.notes, ...conversion.converted.flatMap((c) => c.notes.map((n) => `${c.layer}: ${n}`))],
  };
  if (!parity.passed && !options.force) {
    summary.message = `Refused: converted outputs differ by up to ${parity.maxRelDiff.toExponential(2)} (relative), above the tolerance ${parity.tolerance}. Nothing was written; use --force to write anyway.`;
    throw new ParityRefusedError(summary);
  }
  if (!options.out && !options.inPlace) {
    summary.message = `Converted ${conversion.converted.length} layer(s); parity ${parity.maxRelDiff.toExponential(2)}. Nothing written (give --out or --in-place).`;
    return summary;
  }
  const writer = modelWriterFor(loaded.format);
  const target = options.inPlace ? source : resolveOut(options.out!, source);
  if (!OUT_EXTENSIONS[loaded.format].test(target)) {
    throw new Error(`--out ${target}: a ${loaded.format} model is written back in its own format, so the path must end in ${OUT_EXTENSION_NAMES[loaded.format]} (or be a folder)`);
  }
  const dir = nodePath.dirname(target);
  await fs.mkdir(dir, { recursive: true });
  const staging = await fs.mkdtemp(nodePath.join(dir, '.batchless-tmp-'));
  try {
    const staged = await writer.write(conversion.model, loaded, staging, nodePath.basename(target));
    summary.notes.push(...(staged.notes ?? []));
    await verifyReadBack(staged.main, conversion.model, probe.label);
    const originalFiles = options.inPlace ? await writer.filesOf(loaded) : [];
    if (options.inPlace) summary.backup = await backupFiles(dir, originalFiles, backupStamp(), staged.companions);
    // Companion files (weight shards) first, the main file last: until it is renamed, the
    // original main file still describes the original, intact companions.
    for (const file of staged.companions) await fs.rename(file, nodePath.join(dir, nodePath.basename(file)));
    await fs.rename(staged.main, target);
    if (options.inPlace) await removeStale(originalFiles, staged, target);
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
  }
  summary.output = target;
  summary.message = `Converted ${conversion.converted.length} layer(s) to batchless; parity max rel diff ${parity.maxRelDiff.toExponential(2)}; wrote ${target}${summary.backup ? ` (original backed up in ${summary.backup})` : ''}.`;
  return summary;
}

/** Deletes original companions the converted model no longer refers to (they are in the backup). */
async function removeStale(originalFiles: string[], staged: StagedFiles, target: string): Promise<void> {
  const kept = new Set([target, ...staged.companions.map((c) => nodePath.join(nodePath.dirname(target), nodePath.basename(c)))]);
  for (const file of originalFiles) if (!kept.has(file)) await fs.rm(file, { force: true });
}

/** What a path written in each format must end in (the readers detect formats by content first). */
const OUT_EXTENSIONS: Record<ModelFileFormat, RegExp> = { tfjs: /\.json$/i, 'keras-json': /\.json$/i, keras: /\.keras$/i, h5: /\.(h5|hdf5)$/i };
const OUT_EXTENSION_NAMES: Record<ModelFileFormat, string> = { tfjs: '.json', 'keras-json': '.json', keras: '.keras', h5: '.h5 or .hdf5' };

function resolveOut(out: string, source: string): string {
  const isFolder = out.endsWith('/') || nodePath.extname(out) === '';
  return isFolder ? nodePath.join(out, nodePath.basename(source)) : out;
}

function randomProbe(model: tf.LayersModel): { x: tf.Tensor; label: string } {
  const shape = model.inputs[0].shape.map((d, i) => (i === 0 ? 64 : (d ?? 1)));
  return { x: tf.randomNormal(shape, 0, 1, 'float32', 1234), label: '64 seeded random inputs' };
}

async function verifyReadBack(path: string, expected: tf.LayersModel, label: string): Promise<void> {
  const reread: LoadedModel = await loadModel(path);
  const x = tf.randomNormal(expected.inputs[0].shape.map((d, i) => (i === 0 ? 8 : (d ?? 1))), 0, 1, 'float32', 99);
  try {
    const report = checkParity(expected, reread.model, x, [], label, 1e-6);
    if (!report.passed) throw new Error(`The converted file ${path} does not read back to the same model (difference ${report.maxRelDiff})`);
  } finally {
    x.dispose();
    reread.model.dispose();
  }
}
