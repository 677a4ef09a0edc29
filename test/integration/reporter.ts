import * as fs from 'fs';
import * as path from 'path';
import Mocha from 'mocha';

/**
 * Folder where the reporter writes `output.log` and `summary.json`. The code-server runner sets
 * it: the extension host inherits code-server's environment, but its console goes to the
 * browser, not to our terminal.
 */
export const RESULTS_DIR_ENV = 'BATCHLESS_INTEGRATION_RESULTS';

export interface IntegrationSummary {
  passed: number;
  failed: number;
  skipped: number;
  durationMs: number;
}

const { EVENT_SUITE_BEGIN, EVENT_TEST_PASS, EVENT_TEST_FAIL, EVENT_TEST_PENDING, EVENT_RUN_END } =
  Mocha.Runner.constants;

/** Writes one line to the console (desktop runs) and to the results folder (code-server runs). */
export function emit(line: string): void {
  console.log(line);
  const dir = process.env[RESULTS_DIR_ENV];
  if (dir) fs.appendFileSync(path.join(dir, 'output.log'), line + '\n');
}

/** A spec-like mocha reporter whose output survives the trip out of the extension host. */
export class LineReporter extends Mocha.reporters.Base {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    const summary: IntegrationSummary = { passed: 0, failed: 0, skipped: 0, durationMs: 0 };
    const started = Date.now();
    let depth = 0;
    const indent = (): string => '  '.repeat(Math.max(depth, 0));

    runner.on(EVENT_SUITE_BEGIN, (suite: Mocha.Suite) => {
      if (suite.root) return;
      emit(`${indent()}${suite.title}`);
      depth += 1;
    });
    runner.on('suite end', (suite: Mocha.Suite) => {
      if (!suite.root) depth -= 1;
    });
    runner.on(EVENT_TEST_PASS, (test: Mocha.Test) => {
      summary.passed += 1;
      emit(`${indent()}ok ${test.title} (${test.duration ?? 0} ms)`);
    });
    runner.on(EVENT_TEST_PENDING, (test: Mocha.Test) => {
      summary.skipped += 1;
      emit(`${indent()}skipped ${test.title}`);
    });
    runner.on(EVENT_TEST_FAIL, (test: Mocha.Test, err: Error) => {
      summary.failed += 1;
      emit(`${indent()}FAILED ${test.fullTitle()}`);
      for (const line of (err.stack ?? String(err)).split('\n').slice(0, 12)) {
        emit(`${indent()}  ${line}`);
      }
    });
    runner.once(EVENT_RUN_END, () => {
      summary.durationMs = Date.now() - started;
      emit(
        `integration: ${summary.passed} passed, ${summary.failed} failed, ` +
          `${summary.skipped} skipped (${summary.durationMs} ms)`,
      );
      const dir = process.env[RESULTS_DIR_ENV];
      if (dir) fs.writeFileSync(path.join(dir, 'summary.json'), JSON.stringify(summary) + '\n');
    });
  }
}
