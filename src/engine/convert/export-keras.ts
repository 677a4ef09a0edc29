import * as tf from '@tensorflow/tfjs';
import { promises as fs } from 'node:fs';
import * as nodePath from 'node:path';
import { findNormLayers } from '../models/norm-layers';
import { ConvertOptions, convertLayersModel } from './bn-to-batchless';
import { ConversionSummary, ParityRefusedError } from './convert-file';
import { loadModel } from './load-model';
import { checkParity } from './parity';
import { keras3ArchiveBytes } from './write-keras3-archive';

export interface ExportKerasOptions extends ConvertOptions {
  /** The `.keras` file to write (default: `<name>.batchless.keras` beside the model). */
  out?: string;
  /** Write even when the BN → batchless parity exceeds the tolerance. */
  force?: boolean;
  /** Largest acceptable relative difference of the conversion's outputs (default 1e-4). */
  tolerance?: number;
}

/** `<name>.batchless.keras` beside the model (`model.json` → `model.batchless.keras`). */
export function defaultKerasExportPath(source: string): string {
  const base = nodePath.basename(source).replace(/\.(json|keras|h5|hdf5)$/i, '');
  return nodePath.join(nodePath.dirname(source), `${base}.batchless.keras`);
}

/**
 * "Export to Keras": any model the engine loads (a tfjs model.json above all) becomes a Keras 3
 * `.keras` archive that loads after `import batchless_keras`. BatchNormalization layers are
 * converted to batchless first, with the parity proof convertModel gives; the archive is written
 * to a temporary file, read back by the engine and must reproduce the model's predictions before
 * it is renamed into place.
 */
export async function exportToKeras(
  path: string,
  options: ExportKerasOptions = {},
): Promise<ConversionSummary> {
  const loaded = await loadModel(path, { forConversion: true });
  let converted: tf.LayersModel | undefined;
  try {
    const source = loaded.sourcePath;
    const summary: ConversionSummary = {
      source,
      format: loaded.format,
      layers: [],
      noop: false,
      message: '',
      notes: [...loaded.notes],
    };
    const target = nodePath.resolve(options.out ?? defaultKerasExportPath(source));
    // Exporting writes a new file; replacing the model itself is convert --in-place (with a backup).
    if (target === nodePath.resolve(source))
      throw new Error(`${target} is the model being exported: give another --out`);
    const kinds = new Set(findNormLayers(loaded.model).map((r) => r.kind));
    if (kinds.has('batch')) {
      const conversion = await convertLayersModel(loaded.model, options);
      converted = conversion.model;
      summary.layers = conversion.converted;
      summary.notes.push(
        ...conversion.converted.flatMap((c) => c.notes.map((n) => `${c.layer}: ${n}`)),
      );
      const probe = seededProbe(loaded.model, 64, 1234);
      try {
        const names = conversion.converted.map((c) => c.layer);
        summary.parity = checkParity(
          loaded.model,
          converted,
          probe,
          names,
          '64 seeded random inputs',
          options.tolerance ?? 1e-4,
        );
      } finally {
        probe.dispose();
      }
      if (!summary.parity.passed && !options.force) {
        summary.message = `Refused: converted outputs differ by up to ${summary.parity.maxRelDiff.toExponential(2)} (relative), above the tolerance ${summary.parity.tolerance}. Nothing was written; use --force to write anyway.`;
        throw new ParityRefusedError(summary);
      }
    } else if (!kinds.has('batchless')) {
      summary.notes.push('the model has no normalization layers; exported as it is');
    }
    const model = converted ?? loaded.model;
    const readBack = await writeVerified(model, target);
    summary.output = target;
    const what =
      summary.layers.length > 0
        ? `converted ${summary.layers.length} BatchNormalization layer(s) to batchless (parity ${summary.parity!.maxRelDiff.toExponential(2)}), `
        : '';
    summary.message = `Exported to Keras: ${what}wrote ${target}; the engine reads it back to the same predictions (max abs diff ${readBack.toExponential(2)}).`;
    return summary;
  } finally {
    converted?.dispose();
    loaded.model.dispose();
  }
}

/** Writes through a temporary file that must read back to `model`; returns the readback's max abs diff. */
async function writeVerified(model: tf.LayersModel, target: string): Promise<number> {
  const dir = nodePath.dirname(target);
  await fs.mkdir(dir, { recursive: true });
  const staging = await fs.mkdtemp(nodePath.join(dir, '.batchless-tmp-'));
  try {
    const staged = nodePath.join(staging, nodePath.basename(target));
    await fs.writeFile(staged, await keras3ArchiveBytes(model, target));
    const reread = await loadModel(staged);
    const x = seededProbe(model, 8, 99);
    try {
      const report = checkParity(model, reread.model, x, [], '8 seeded random inputs', 1e-6);
      if (!report.passed)
        throw new Error(
          `The exported file ${target} does not read back to the same model (difference ${report.maxRelDiff})`,
        );
      await fs.rename(staged, target);
      return report.maxAbsDiff;
    } finally {
      x.dispose();
      reread.model.dispose();
    }
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
  }
}

function seededProbe(model: tf.LayersModel, count: number, seed: number): tf.Tensor {
  const shape = model.inputs[0].shape.map((d, i) => (i === 0 ? count : (d ?? 1)));
  return tf.randomNormal(shape, 0, 1, 'float32', seed);
}
