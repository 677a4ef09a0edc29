import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const bin = path.join(__dirname, '..', '..', '..', '..', 'bin', 'batchless.js');

/** Runs the `batchless` CLI as users do: a real child process on the default backend (in `env`, else this one's). */
export function runCli(args: string[], env?: NodeJS.ProcessEnv): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    timeout: 180_000,
    env,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
