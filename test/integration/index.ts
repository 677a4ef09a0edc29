import * as fs from 'fs';
import * as path from 'path';
import Mocha from 'mocha';
import { emit, LineReporter } from './reporter';

/**
 * Entry point loaded by the extension host (`extensionTestsPath`): the same contract as
 * @vscode/test-electron, so it runs under code-server here and under desktop VS Code elsewhere.
 * Resolves when every test passed; rejects otherwise, which makes the host exit non-zero.
 */
export async function run(): Promise<void> {
  // BATCHLESS_INTEGRATION_GREP runs only the matching tests (a targeted run on a busy machine).
  const grep = process.env.BATCHLESS_INTEGRATION_GREP || undefined;
  const mocha = new Mocha({
    ui: 'bdd',
    color: false,
    timeout: 120_000,
    reporter: LineReporter,
    grep,
  });
  const files = fs
    .readdirSync(__dirname)
    .filter((name) => name.endsWith('.test.js'))
    .sort();
  for (const name of files) mocha.addFile(path.join(__dirname, name));

  let failures: number;
  try {
    failures = await new Promise<number>((resolve) => mocha.run(resolve));
  } catch (err) {
    // A test file that throws while loading never reaches the reporter: say so here.
    emit(
      `integration: the suite could not start: ${err instanceof Error ? err.stack : String(err)}`,
    );
    throw err;
  }
  if (files.length === 0) throw new Error(`no *.test.js files in ${__dirname}`);
  if (failures > 0) throw new Error(`${failures} integration test(s) failed`);
}
