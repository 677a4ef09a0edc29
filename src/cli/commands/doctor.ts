import { doctorReport, formatDoctorReport } from '../../engine/backend/doctor';
import { parseOptions } from '../args';

/** Which backend the engine runs on here, versions, threads, and why nothing faster. */
export async function doctorCommand(argv: string[]): Promise<number> {
  // BATCHLESS_BACKEND picks the backend, as for every command.
  const { values } = parseOptions(argv, { json: { type: 'boolean' } });
  const report = await doctorReport();
  console.log(values.json ? JSON.stringify(report) : formatDoctorReport(report));
  return 0;
}
