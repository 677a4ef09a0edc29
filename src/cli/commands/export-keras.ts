import { BackendName, setBackend } from '../../engine/backend/select';
import { ConversionSummary, ParityRefusedError } from '../../engine/convert/convert-file';
import { exportToKeras } from '../../engine/convert/export-keras';
import { numberOption, parseOptions, UsageError } from '../args';

export const EXPORT_KERAS_USAGE =
  'batchless export-keras <model file> [--out <x.keras>] [--force] [--tolerance X] [--json]';

/**
 * Any model file (a tfjs model.json above all) as a Keras 3 `.keras` that loads after
 * `import batchless_keras`; BN layers become batchless first, with the parity proof.
 */
export async function exportKerasCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseOptions(argv, {
    out: { type: 'string' },
    force: { type: 'boolean' },
    tolerance: { type: 'string' },
    backend: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (positionals.length !== 1) throw new UsageError('give exactly one model file to export');
  if (values.out !== undefined && !values.out.toLowerCase().endsWith('.keras')) {
    throw new UsageError(`--out must name a .keras file, got '${values.out}'`);
  }
  await setBackend(values.backend as BackendName | undefined);
  let summary: ConversionSummary;
  let code = 0;
  try {
    summary = await exportToKeras(positionals[0], {
      out: values.out,
      force: values.force,
      tolerance: numberOption(values.tolerance, 'tolerance', 1e-4),
    });
  } catch (err) {
    if (!(err instanceof ParityRefusedError)) throw err;
    summary = err.summary;
    code = 1;
  }
  if (values.json) {
    console.log(JSON.stringify(summary));
    return code;
  }
  for (const layer of summary.layers) {
    console.log(`${layer.layer}: ${layer.channels} channels, ${layer.statisticsFrom}`);
  }
  for (const note of summary.notes) console.log(`note: ${note}`);
  console.log(`\n${summary.message}`);
  if (summary.output) {
    console.log(
      `\nIn Python: import keras, batchless_keras; keras.saving.load_model('${summary.output}')`,
    );
  }
  return code;
}
