import * as assert from 'assert';
import { unzipSync } from 'fflate';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { getExtension } from './extension';

// Export to Keras in the real extension host, the engine worker behind it: a tfjs model.json (the
// bundled BN example) becomes `model.batchless.keras` with a README beside it.
describe('Export to Keras', () => {
  let workspace: string;

  before(async () => {
    await getExtension().activate();
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'the test host opens a workspace folder');
    workspace = folder.uri.fsPath;
  });

  it('writes <name>.batchless.keras with batchless layers Keras resolves, and a README', async () => {
    const source = path.join(getExtension().extensionPath, 'examples', 'mnist-bn-mlp');
    const target = path.join(workspace, 'export-keras-model');
    fs.mkdirSync(target, { recursive: true });
    for (const file of fs.readdirSync(source))
      fs.copyFileSync(path.join(source, file), path.join(target, file));
    const model = path.join(target, 'model.json');

    const result = (await vscode.commands.executeCommand(
      'batchless.exportToKeras',
      vscode.Uri.file(model),
      { openReadme: false },
    )) as { output?: string; readme?: string; layers: unknown[] } | undefined;
    assert.ok(result, 'the command returned no summary (see the Batchless log)');

    const keras = path.join(target, 'model.batchless.keras');
    const readme = path.join(target, 'model.batchless.README.md');
    assert.strictEqual(result.output, keras);
    assert.strictEqual(result.readme, readme);
    assert.strictEqual(result.layers.length, 2, 'both BatchNormalization layers converted');
    const entries = unzipSync(fs.readFileSync(keras));
    assert.deepStrictEqual(Object.keys(entries).sort(), [
      'config.json',
      'metadata.json',
      'model.weights.h5',
    ]);
    const config = new TextDecoder().decode(entries['config.json']);
    assert.ok(config.includes('"registered_name":"batchless>BatchlessNormalization"'), config);
    assert.ok(!config.includes('"BatchNormalization"'), 'no BatchNormalization left');
    const text = fs.readFileSync(readme, 'utf8');
    assert.match(text, /import batchless_keras/);
    assert.match(text, /keras\.saving\.load_model\("model\.batchless\.keras"/);
    assert.match(text, /MirroredStrategy/);
    assert.ok(fs.existsSync(model), 'the source model is left in place');
  });
});
