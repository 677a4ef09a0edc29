import { BackendName, setBackend } from '../../engine/backend/select';
import { parseOptions } from '../args';

/** Which backend the engine runs on here, and why nothing faster. */
export async function doctorCommand(argv: string[]): Promise<number> {
  const { values } = parseOptions(argv, { backend: { type: 'string' }, json: { type: 'boolean' } });
  const report = await setBackend(values.backend as BackendName | undefined);
  if (values.json) {
    console.log(JSON.stringify(report));
    return 0;
  }
  console.log(`backend     ${report.name} (requested: ${report.requested}, by ${report.requestedBy})`);
  console.log(`tfjs        ${report.tfjsVersion}${report.tfjsNodeVersion ? `, tfjs-node ${report.tfjsNodeVersion}` : ''}`);
  console.log(`threads     ${report.threads} (${report.threadsDetail})`);
  if (report.nativeLibrary) console.log(`libtensorflow ${report.nativeLibrary}`);
  console.log(`node        ${process.version} on ${process.platform}/${process.arch}`);
  for (const f of report.fallbacks) console.log(`not ${f.name}: ${f.reason}`);
  return 0;
}
