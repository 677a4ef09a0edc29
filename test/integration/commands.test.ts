import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { getExtension } from './extension';
import { emit } from './reporter';

interface ContributedCommand {
  command: string;
  title: string;
  category?: string;
}

type ProbeResult =
  | { ok: true; backend: { name: string; fallbacks: { name: string; reason: string }[] } }
  | { ok: false; error: string };

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
    const result = (await vscode.commands.executeCommand('batchless.showBackend')) as
      ProbeResult | undefined;
    assert.ok(result, 'the command returned nothing (it threw: see the Batchless log)');
    // Where the engine bundle was built, the engine must start: the bundle is what ships.
    const bundle = path.join(getExtension().extensionPath, 'dist', 'engine.js');
    if (fs.existsSync(bundle))
      assert.ok(result.ok, `engine bundle failed: ${JSON.stringify(result)}`);
    if (result.ok) {
      assert.ok(['tensorflow', 'wasm', 'cpu'].includes(result.backend.name), result.backend.name);
      emit(`      (engine backend: ${result.backend.name})`);
    } else {
      assert.ok(result.error.length > 0, 'an unavailable engine must say why');
      emit(`      (engine unavailable: ${result.error})`);
    }
  });
});
