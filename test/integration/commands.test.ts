import * as assert from 'assert';
import * as vscode from 'vscode';
import { getExtension } from './extension';
import { emit } from './reporter';

interface ContributedCommand {
  command: string;
  title: string;
  category?: string;
}

interface BackendReport {
  backend: string | undefined;
  attempts: { backend: string; ok: boolean; error?: string }[];
}

describe('commands', () => {
  before(async () => {
    await getExtension().activate();
  });

  it('registers every contributed command, all named batchless.verbNoun in category Batchless', async () => {
    const packageJson = getExtension().packageJSON as {
      contributes: { commands: ContributedCommand[] };
    };
    const contributed = packageJson.contributes.commands;
    assert.ok(contributed.length > 0);
    const registered = new Set(await vscode.commands.getCommands(true));
    for (const { command, category } of contributed) {
      assert.match(command, /^batchless\.[a-z]+[A-Z][A-Za-z]*$/);
      assert.strictEqual(category, 'Batchless', `${command} category`);
      assert.ok(registered.has(command), `${command} is contributed but not registered`);
    }
  });

  it('batchless.showBackend runs without throwing and names a backend or says why not', async () => {
    const report = (await vscode.commands.executeCommand('batchless.showBackend')) as
      | BackendReport
      | undefined;
    assert.ok(report, 'the command returned no report (it failed: see the Batchless log)');
    if (report.backend) {
      assert.ok(['tensorflow', 'wasm', 'cpu'].includes(report.backend), report.backend);
    } else {
      assert.ok(report.attempts.every((a) => !a.ok && a.error));
    }
    emit(`      (backend: ${report.backend ?? 'none'})`);
  });
});
