import { convertModel, ConversionSummary, ParityRefusedError } from '../../engine/convert/convert-file';
import { BackendName, setBackend } from '../../engine/backend/select';
import { parseOptions, UsageError, numberOption } from '../args';
import { table } from '../format';

export const CONVERT_USAGE = 'batchless convert <model file> [--out <path> | --in-place] [--force] [--tolerance X] [--json]';

/** BN → batchless on a model file, with the parity proof; in place keeps a backup. */
export async function convertCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseOptions(argv, {
    out: { type: 'string' },
    'in-place': { type: 'boolean' },
    force: { type: 'boolean' },
    tolerance: { type: 'string' },
    backend: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (positionals.length !== 1) throw new UsageError('give exactly one model file to convert');
  if (values.out && values['in-place']) throw new UsageError('--out and --in-place exclude each other');
  await setBackend(values.backend as BackendName | undefined);
  let summary: ConversionSummary;
  let code = 0;
  try {
    summary = await convertModel(positionals[0], { out: values.out, inPlace: values['in-place'], force: values.force, tolerance: numberOption(values.tolerance, 'tolerance', 1e-4) });
  } catch (err) {
    if (!(err instanceof ParityRefusedError)) throw err;
    summary = err.summary;
    code = 1;
  }
  if (values.json) {
    console.log(JSON.stringify(summary));
    return code;
  }
  if (summary.layers.length > 0) {
    console.log(table(['layer', 'channels', 'axis', 'μ and σ from'], summary.layers.map((l) => [l.layer, String(l.channels), JSON.stringify(l.axis), l.statisticsFrom])));
  }
  if (summary.parity) {
    const p = summary.parity;
    console.log(`\nparity on ${p.inputs}: max abs diff ${p.maxAbsDiff.toExponential(2)}, max rel diff ${p.maxRelDiff.toExponential(2)} (tolerance ${p.tolerance})`);
    for (const d of [...p.outputs, ...p.layers]) console.log(`  ${d.name}: abs ${d.maxAbsDiff.toExponential(2)}, rel ${d.maxRelDiff.toExponential(2)}`);
  }
  for (const note of summary.notes) console.log(`note: ${note}`);
  console.log(`\n${summary.message}`);
  return code;
}
