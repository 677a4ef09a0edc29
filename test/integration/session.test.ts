import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import type { BatchlessApi } from '../../src/extension';
import type { LayerInspection } from '../../src/shared/inspection';
import type { TrainSummary } from '../../src/shared/train-events';
import { getExtension } from './extension';

// The real commands in the real extension host, with the real engine worker behind them.
describe('engine-backed commands', () => {
  let api: BatchlessApi;
  let workspace: string;

  before(async () => {
    api = (await getExtension().activate()) as BatchlessApi;
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'the test host opens a workspace folder');
    workspace = folder.uri.fsPath;
  });

  function copyExample(name: string): string {
    const source = path.join(getExtension().extensionPath, 'examples', 'mnist-bn-mlp');
    const target = path.join(workspace, name);
    fs.mkdirSync(target, { recursive: true });
    for (const file of fs.readdirSync(source))
      fs.copyFileSync(path.join(source, file), path.join(target, file));
    return path.join(target, 'model.json');
  }

  it('Train Short Session runs in the worker and streams every step to the training view', async () => {
    const summary = (await vscode.commands.executeCommand('batchless.trainSession', {
      model: 'builtin:mlp',
      data: 'mnist',
      norm: 'batchless',
      batchSize: 16,
      microBatchSize: 4,
      maxSteps: 5,
      statsEvery: 2,
    })) as TrainSummary | undefined;
    assert.ok(summary, 'the command returned no summary (see the Batchless log)');
    assert.strictEqual(summary.stopped, 'completed');
    assert.strictEqual(summary.steps, 5);
    const training = api.panels.state('training');
    assert.ok(training.view === 'training');
    // On the native backend every layer of builtin:mlp has a native step; elsewhere the view says why not.
    // There, 4 micro-batches of 4 make one compiled graph per step, and the view says so.
    if (training.state.backend === 'tensorflow') {
      assert.strictEqual(training.state.stepPath, 'native');
      assert.strictEqual(training.state.stepGraph, true, training.state.stepGraphReason);
      assert.match(training.state.stepGraphReason ?? '', /nodes, traced from the step's own ops/);
    } else assert.ok(training.state.stepPath === 'generic' && training.state.stepPathReason, JSON.stringify(training.state));
    assert.deepStrictEqual(
      training.state.steps.map((s) => s.step),
      [1, 2, 3, 4, 5],
    );
    const memory = api.panels.state('memory');
    assert.ok(
      memory.view === 'memory' && memory.state.perStep.length >= 1,
      'the first step was measured',
    );
  });

  it('a changed engine.threads setting reaches the next job: two threads per op leave a CNN step the CPUs that remain', async () => {
    const settings = vscode.workspace.getConfiguration('batchless');
    // 2, not the engine's default on this 2-CPU machine (1): only the setting can make it 2.
    await settings.update('engine.threads', 2, vscode.ConfigurationTarget.Global);
    try {
      // 65 micro-batches per step, more than a compiled graph takes (64): the step runs op by op,
      // spread over the CPUs TensorFlow's per-op pool leaves (CPUs ÷ 2, at most 4; one when < 2).
      const summary = (await vscode.commands.executeCommand('batchless.trainSession', {
        model: 'builtin:cnn',
        data: 'mnist',
        norm: 'batchless',
        batchSize: 130,
        microBatchSize: 2,
        maxSteps: 2,
        statsEvery: 0,
      })) as TrainSummary | undefined;
      assert.strictEqual(summary?.stopped, 'completed');
      const training = api.panels.state('training');
      assert.ok(training.view === 'training');
      assert.strictEqual(training.state.backend, 'tensorflow', 'the native backend is installed where these tests run');
      const cpus = os.availableParallelism?.() ?? os.cpus().length;
      const spare = Math.min(4, Math.floor(cpus / 2));
      assert.strictEqual(training.state.stepThreads, spare > 1 ? spare : 1, JSON.stringify(training.state.stepThreadsReason));
      if (spare < 2) assert.match(training.state.stepThreadsReason ?? '', new RegExp(`each op on 2 of ${cpus} CPUs`));
      assert.strictEqual(training.state.stepGraph, false);
      assert.match(training.state.stepGraphReason ?? '', /65 micro-batches per step/);
      const probe = (await vscode.commands.executeCommand('batchless.showBackend')) as { ok: boolean; backend?: { threads: number } };
      assert.strictEqual(probe.backend?.threads, 2, 'Show Engine Backend loads the engine with the same threads');
    } finally {
      await settings.update('engine.threads', undefined, vscode.ConfigurationTarget.Global);
    }
  });

  it('puts Convert lenses on real BN calls only, not on ones in comments or strings', async () => {
    const file = path.join(workspace, 'lenses.ts');
    fs.writeFileSync(
      file,
      [
        "import * as tf from '@tensorflow/tfjs';",
        '// model.add(tf.layers.batchNormalization());',
        "const note = 'tf.layers.batchNormalization() goes after the dense layer';",
        'const model = tf.sequential();',
        'model.add(tf.layers.batchNormalization());',
        '',
      ].join('\n'),
    );
    const document = await vscode.workspace.openTextDocument(file);
    const lenses = (await vscode.commands.executeCommand(
      'vscode.executeCodeLensProvider',
      document.uri,
    )) as vscode.CodeLens[];
    const convert = lenses.filter((l) => l.command?.command === 'batchless.convertModel');
    assert.deepStrictEqual(
      convert.map((l) => l.range.start.line),
      [4],
    );
  });

  it('converts BN calls in a TypeScript source through a WorkspaceEdit, and Undo restores the text', async () => {
    const file = path.join(workspace, 'model.ts');
    const original = [
      "import * as tf from '@tensorflow/tfjs';",
      '',
      'export const model = tf.sequential({',
      '  layers: [',
      '    tf.layers.dense({ inputShape: [4], units: 8 }),',
      '    tf.layers.batchNormalization({ momentum: 0.9, axis: -1 }),',
      '  ],',
      '});',
      '',
    ].join('\n');
    fs.writeFileSync(file, original);
    const document = await vscode.workspace.openTextDocument(file);
    await vscode.window.showTextDocument(document);
    await vscode.commands.executeCommand('batchless.convertModel', document.uri, {
      confirm: false,
    });
    const converted = document.getText();
    assert.match(converted, /batchlessNormalization\(\{\s*axis: -1 \}\)/);
    assert.match(converted, /import \{ batchlessNormalization \} from 'batchless';/);
    assert.doesNotMatch(converted, /momentum/);
    await vscode.commands.executeCommand('undo');
    assert.strictEqual(document.getText(), original);
  });

  it('converts a model.json in place with a parity proof and a backup that Restore puts back', async () => {
    const modelPath = copyExample('bn-model');
    const before = fs.readFileSync(modelPath);
    const summary = (await vscode.commands.executeCommand(
      'batchless.convertModel',
      vscode.Uri.file(modelPath),
      { confirm: false },
    )) as {
      layers: unknown[];
      parity: { maxRelDiff: number; passed: boolean };
      backup: string;
    };
    assert.strictEqual(summary.layers.length, 2);
    assert.ok(
      summary.parity.passed && summary.parity.maxRelDiff < 1e-5,
      JSON.stringify(summary.parity),
    );
    assert.ok(fs.existsSync(path.join(summary.backup, 'model.json')));
    assert.match(fs.readFileSync(modelPath, 'utf8'), /BatchlessNormalization/);
    await vscode.commands.executeCommand('batchless.restoreBackup', vscode.Uri.file(modelPath));
    assert.ok(
      fs.readFileSync(modelPath).equals(before),
      'model.json is byte-identical after restore',
    );
  });

  it('Inspect Layer Statistics compares BN moving statistics with the observed activations', async () => {
    const modelPath = copyExample('inspect-model');
    const layers = (await vscode.commands.executeCommand(
      'batchless.inspectStatistics',
      vscode.Uri.file(modelPath),
    )) as LayerInspection[];
    assert.deepStrictEqual(
      layers.map((l) => [l.layer, l.kind, l.mean.length]),
      [
        ['bn1', 'batch', 128],
        ['bn2', 'batch', 64],
      ],
    );
    for (const l of layers) {
      assert.ok(
        l.observed &&
          l.observed.std.length === l.mean.length &&
          l.observed.std.every((s) => s >= 0),
      );
      assert.ok(l.histogram && l.histogram.counts.reduce((a, b) => a + b, 0) === l.histogram.total);
    }
    const statistics = api.panels.state('statistics');
    assert.ok(
      statistics.view === 'statistics' &&
        statistics.state.status === 'ready' &&
        statistics.state.layers.length === 2,
    );
  });
});

describe('Compare BN and Batchless', () => {
  it('trains the same model both ways and shows them side by side', async () => {
    await getExtension().activate();
    const summaries = (await vscode.commands.executeCommand('batchless.compareNorms', {
      // A CNN: its activations, not its weights, dominate a step's memory, as in real models.
      model: 'builtin:cnn',
      data: 'mnist',
      batchSize: 16,
      microBatchSize: 1,
      maxSteps: 2,
    })) as TrainSummary[] | undefined;
    assert.ok(summaries && summaries.length === 2, 'two sessions ran');
    assert.deepStrictEqual(
      summaries.map((s) => s.steps),
      [2, 2],
    );
    assert.ok(
      summaries[1].peakStepBytes < summaries[0].peakStepBytes,
      'micro-batch 1 needs less memory than the whole batch',
    );
    const document = vscode.window.activeTextEditor?.document;
    assert.ok(document && document.languageId === 'markdown');
    assert.match(document.getText(), /\| test accuracy \|/);
  });
});
