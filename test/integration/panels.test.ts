import * as assert from 'assert';
import * as vscode from 'vscode';
import { renderWebviewHtml } from '../../src/panels/html';
import { emptyViewState, reduceViewState } from '../../src/panels/reduce-view-state';
import { ViewPanels, type RenderedEvent } from '../../src/panels/view-panels';
import type { LayerInspection } from '../../src/shared/inspection';
import type { SweepPointData, TrainRequest, ViewKind, ViewState } from '../../src/shared/protocol';
import type {
  LayerStatisticsSnapshot,
  MemoryEvent,
  StepEvent,
  TrainEvent,
  TrainSummary,
} from '../../src/shared/train-events';
import { getExtension } from './extension';
import { emit } from './reporter';

const RENDER_TIMEOUT_MS = 30_000;

// ---- a realistic session: 2 batchless layers of 8 channels, a BN twin, a memory sweep --------

const CHANNELS = 8;
const LAYERS = ['bn1', 'bn2'];

const request: TrainRequest = {
  model: 'builtin:mlp',
  data: 'mnist',
  norm: 'batchless',
  batchSize: 64,
  microBatchSize: 8,
  epochs: 1,
  maxSteps: 40,
  learningRate: 0.01,
  seed: 1,
  statsEvery: 10,
};

function step(n: number, layers = LAYERS): StepEvent {
  const taskLoss = 2.3 * Math.exp(-n / 15) + 0.2;
  return {
    type: 'step',
    step: n,
    epoch: 1,
    samples: n * 64,
    loss: taskLoss + 1,
    taskLoss,
    nll: Object.fromEntries(layers.map((l, i) => [l, 1.4 - 0.02 * n + 0.1 * i])),
    samplesPerSecond: 850,
    elapsedMs: n * 75,
  };
}

function snapshot(
  layer: string,
  kind: 'batch' | 'batchless',
  drift: number,
): LayerStatisticsSnapshot {
  return {
    layer,
    kind,
    mean: Array.from({ length: CHANNELS }, (_, c) => 0.1 * c + drift),
    std: Array.from({ length: CHANNELS }, (_, c) => 1 + 0.05 * c - drift / 2),
  };
}

function inspection(layer: string, kind: 'batch' | 'batchless'): LayerInspection {
  const learned = snapshot(layer, kind, 0.2);
  const counts = Array.from({ length: 40 }, (_, i) =>
    Math.round(400 * Math.exp(-((i - 20) ** 2) / 50)),
  );
  return {
    ...learned,
    observed: {
      mean: learned.mean.map((m, c) => m + 0.05 * Math.sin(c)),
      std: learned.std.map((s, c) => s * (1 + 0.1 * Math.cos(c))),
    },
    histogram: {
      channel: 2,
      binStart: -3.2,
      binWidth: 0.16,
      counts,
      total: counts.reduce((a, b) => a + b, 0),
    },
  };
}

function memoryEvent(n: number): MemoryEvent {
  return {
    type: 'memory',
    step: n,
    peakStepBytes: 2_400_000 + 1000 * (n % 3),
    residentBytes: 1_100_000,
    microBatchSize: 8,
  };
}

function sweepPoint(
  norm: 'batch' | 'batchless',
  batchSize: number,
  microBatchSize: number,
): SweepPointData {
  const perSample = 36_000;
  const bytes = norm === 'batch' ? batchSize * perSample : microBatchSize * perSample + 200_000;
  return {
    norm,
    batchSize,
    microBatchSize: norm === 'batch' ? batchSize : microBatchSize,
    peakStepBytes: bytes,
  };
}

const BATCHES = [8, 16, 32, 64, 128, 256];

const states: { [K in ViewKind]: Extract<ViewState, { view: K }> } = {
  training: {
    view: 'training',
    state: {
      status: 'running',
      request,
      backend: 'wasm',
      steps: [1, 2, 3, 4, 5, 6].map((n) => step(n)),
      evals: [{ type: 'eval', step: 5, testAccuracy: 0.71, testLoss: 0.9 }],
    },
  },
  statistics: {
    view: 'statistics',
    state: {
      status: 'ready',
      model: 'builtin:mlp',
      samples: 512,
      layers: [inspection('bn1', 'batchless'), inspection('bn2', 'batch')],
      trajectories: [0, 10, 20, 30].map((s) => ({
        step: s,
        layers: [snapshot('bn1', 'batchless', s / 100), snapshot('bn2', 'batch', s / 200)],
      })),
      selectedLayer: 'bn1',
    },
  },
  memory: {
    view: 'memory',
    state: {
      status: 'ready',
      model: 'builtin:mlp',
      perStep: [1, 2, 3, 4, 5].map(memoryEvent),
      sweep: [
        ...BATCHES.map((b) => sweepPoint('batch', b, b)),
        ...BATCHES.filter((b) => b >= 8).map((b) => sweepPoint('batchless', b, 8)),
        ...BATCHES.filter((b) => b >= 32).map((b) => sweepPoint('batchless', b, 32)),
      ],
    },
  },
};

const trajectoryLabels = (mu: string, sigma: string): string[] =>
  [2, 0, 1, 3].flatMap((c) => [`${mu} ch ${c}`, `${sigma} ch ${c}`]);

// ---- helpers ----------------------------------------------------------------------------------

/** Resolves with the first `rendered` of `view` whose series are exactly `expected` (any order). */
function rendered(panels: ViewPanels, view: ViewKind, expected: string[]): Promise<RenderedEvent> {
  const want = JSON.stringify([...expected].sort());
  const seen: string[][] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      listener.dispose();
      reject(
        new Error(
          `${view} did not render ${want} within ${RENDER_TIMEOUT_MS / 1000} s; ` +
            `rendered so far: ${JSON.stringify(seen)}`,
        ),
      );
    }, RENDER_TIMEOUT_MS);
    const listener = panels.onDidRender((event) => {
      if (event.view !== view) return;
      seen.push(event.series);
      if (JSON.stringify([...event.series].sort()) !== want) return;
      clearTimeout(timer);
      listener.dispose();
      resolve(event);
    });
  });
}

// ---- the views in a real extension host ----------------------------------------------------

describe('panels', function () {
  this.timeout(RENDER_TIMEOUT_MS * 2);
  let panels: ViewPanels;
  let ownPanels = false;
  let log: vscode.LogOutputChannel | undefined;

  before(async () => {
    const extension = getExtension();
    const api = (await extension.activate()) as { panels?: ViewPanels } | undefined;
    if (api?.panels) {
      panels = api.panels;
    } else {
      // Until activate() returns { panels }, drive a ViewPanels of our own over the same files.
      log = vscode.window.createOutputChannel('Batchless panels (test)', { log: true });
      panels = new ViewPanels(extension.extensionUri, log);
      ownPanels = true;
      emit('      (activate() returns no panels: the test uses its own ViewPanels)');
    }
  });

  after(async () => {
    if (ownPanels) panels.dispose();
    log?.dispose();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('training: draws the task loss, each layer’s NLL and the test accuracy', async () => {
    const done = rendered(panels, 'training', [
      'task loss',
      'NLL (bn1)',
      'NLL (bn2)',
      'test accuracy',
    ]);
    panels.setState(states.training);
    panels.show('training');
    await done;
  });

  it('training: appends streamed steps to the open charts, a new layer as a new series', async () => {
    const done = rendered(panels, 'training', [
      'task loss',
      'NLL (bn1)',
      'NLL (bn2)',
      'NLL (bn3)',
      'test accuracy',
    ]);
    panels.post('training', { type: 'trainEvent', event: step(7, [...LAYERS, 'bn3']) });
    await done;
    assert.strictEqual(panels.state('training').view, 'training');
    const state = panels.state('training').state as { steps: StepEvent[] };
    assert.deepStrictEqual(
      state.steps.map((s) => s.step),
      [1, 2, 3, 4, 5, 6, 7],
    );
  });

  it('statistics: learned vs observed per channel, μ/σ over steps, histogram under the Gaussian', async () => {
    const done = rendered(panels, 'statistics', [
      'learned μ',
      'observed mean',
      'learned σ',
      'observed std',
      ...trajectoryLabels('μ', 'σ'),
      'learned N(μ, σ²)',
      'observed density',
    ]);
    panels.setState(states.statistics);
    panels.show('statistics');
    await done;
  });

  it('statistics: follows selectLayer from the host; a BN layer is labelled as moving statistics', async () => {
    const done = rendered(panels, 'statistics', [
      'moving mean (BN)',
      'observed mean',
      'moving std (BN)',
      'observed std',
      ...trajectoryLabels('moving mean', 'moving std'),
      'N(moving mean, moving var) (BN)',
      'observed density',
    ]);
    panels.post('statistics', { type: 'selectLayer', layer: 'bn2' });
    await done;
    const state = panels.state('statistics').state as { selectedLayer?: string };
    assert.strictEqual(state.selectedLayer, 'bn2');
  });

  it('memory: per-step peaks and the sweep, BN against batchless per micro-batch', async () => {
    const done = rendered(panels, 'memory', [
      'BN (whole batch)',
      'batchless, micro-batch 8',
      'batchless, micro-batch 32',
      'peak step memory',
      'resident before the step',
    ]);
    panels.setState(states.memory);
    panels.show('memory');
    await done;
  });

  it('memory: a streamed sweep point of a new micro-batch size adds its series', async () => {
    const done = rendered(panels, 'memory', [
      'BN (whole batch)',
      'batchless, micro-batch 8',
      'batchless, micro-batch 32',
      'batchless, micro-batch 64',
      'peak step memory',
      'resident before the step',
    ]);
    panels.post('memory', { type: 'sweepPoint', point: sweepPoint('batchless', 256, 64) });
    await done;
  });

  it('memory: exports every chart as a PNG', async () => {
    const images = await panels.exportCharts('memory');
    assert.deepStrictEqual(images.map((i) => i.id).sort(), ['memory-per-step', 'memory-sweep']);
    for (const image of images) {
      assert.ok(image.dataUrl.startsWith('data:image/png;base64,'), image.id);
      assert.ok(image.dataUrl.length > 1000, `${image.id} is suspiciously small`);
    }
  });

  it('rebuilds its charts in the new colours when the colour theme changes', async () => {
    const workbench = vscode.workspace.getConfiguration('workbench');
    const previous = workbench.inspect<string>('colorTheme')?.globalValue;
    const current = workbench.get<string>('colorTheme') ?? '';
    const other = /light/i.test(current) ? 'Default Dark Modern' : 'Default Light Modern';
    const done = rendered(panels, 'memory', [
      'BN (whole batch)',
      'batchless, micro-batch 8',
      'batchless, micro-batch 32',
      'batchless, micro-batch 64',
      'peak step memory',
      'resident before the step',
    ]);
    try {
      await workbench.update('colorTheme', other, vscode.ConfigurationTarget.Global);
      await done;
    } finally {
      await workbench.update('colorTheme', previous, vscode.ConfigurationTarget.Global);
    }
  });

  it('a hidden view catches up on reveal: its page reloads and gets the folded state', async () => {
    // The training tab is in the background (statistics and memory opened over it), so its page
    // is gone: these increments are only stored, then sent whole on `ready`.
    panels.post('training', { type: 'trainEvent', event: step(8, [...LAYERS, 'bn3', 'bn4']) });
    panels.post('training', {
      type: 'trainEvent',
      event: { type: 'eval', step: 8, testAccuracy: 0.8, testLoss: 0.6 },
    });
    const done = rendered(panels, 'training', [
      'task loss',
      'NLL (bn1)',
      'NLL (bn2)',
      'NLL (bn3)',
      'NLL (bn4)',
      'test accuracy',
    ]);
    panels.show('training');
    await done;
  });

  it('exports a view that was closed: it opens, draws its state, then answers', async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    assert.strictEqual(panels.isOpen('statistics'), false);
    const images = await panels.exportCharts('statistics');
    assert.deepStrictEqual(
      images.map((i) => i.id),
      ['statistics-mean', 'statistics-std', 'statistics-trajectory', 'statistics-histogram'],
    );
  });
});

// ---- pure parts, checked here because they ship in the extension bundle ------------------------

describe('view state reducer', () => {
  const summary: TrainSummary = {
    backend: 'wasm',
    steps: 2,
    samples: 128,
    trainLoss: 0.5,
    testAccuracy: 0.9,
    testLoss: 0.4,
    samplesPerSecond: 800,
    peakStepBytes: 1e6,
    elapsedMs: 200,
    stopped: 'cancelled',
    message: 'cancelled by the user',
    layers: [snapshot('bn1', 'batchless', 0.3)],
  };
  const run: TrainEvent[] = [
    {
      type: 'start',
      backend: 'wasm',
      model: 'builtin:mlp',
      dataset: 'mnist',
      trainCount: 1000,
      testCount: 100,
      parameters: 1000,
      normLayers: [{ layer: 'bn1', kind: 'batchless', channels: CHANNELS }],
      config: {},
      totalSteps: 2,
      stepPath: 'generic',
      stepPathReason: "the active backend is 'wasm'",
    },
    {
      type: 'init',
      source: 'data',
      samples: 64,
      strata: [],
      layers: [snapshot('bn1', 'batchless', 0)],
    },
    step(1, ['bn1']),
    memoryEvent(1),
    step(2, ['bn1']),
    memoryEvent(2),
    { type: 'stats', step: 2, layers: [snapshot('bn1', 'batchless', 0.1)] },
    { type: 'eval', step: 2, testAccuracy: 0.9, testLoss: 0.4 },
    { type: 'done', summary },
  ];
  const fold = (view: ViewKind): ViewState =>
    run.reduce(
      (s, event) => reduceViewState(s, { type: 'trainEvent', event }),
      emptyViewState(view),
    );

  it('training: steps, evals, then the summary and why it stopped', () => {
    const result = fold('training');
    assert.strictEqual(result.view, 'training');
    if (result.view !== 'training') return;
    assert.deepStrictEqual(
      result.state.steps.map((s) => s.step),
      [1, 2],
    );
    assert.strictEqual(result.state.evals.length, 1);
    assert.strictEqual(result.state.status, 'cancelled');
    assert.strictEqual(result.state.message, 'cancelled by the user');
    assert.strictEqual(result.state.backend, 'wasm');
    assert.strictEqual(result.state.stepPath, 'generic');
    assert.strictEqual(result.state.stepPathReason, "the active backend is 'wasm'");
  });

  it('statistics: init at step 0, each stats snapshot; done adds nothing already recorded', () => {
    const result = fold('statistics');
    if (result.view !== 'statistics') return assert.fail(result.view);
    assert.deepStrictEqual(
      result.state.trajectories.map((t) => t.step),
      [0, 2],
    );
  });

  it('memory: each step’s peak; a new run starts a new list', () => {
    const result = fold('memory');
    if (result.view !== 'memory') return assert.fail(result.view);
    assert.deepStrictEqual(
      result.state.perStep.map((m) => m.step),
      [1, 2],
    );
    const restarted = reduceViewState(result, { type: 'trainEvent', event: run[0] });
    if (restarted.view !== 'memory') return assert.fail(restarted.view);
    assert.deepStrictEqual(restarted.state.perStep, []);
  });

  it('leaves a view untouched (same object) by messages that are not for it', () => {
    const memory = emptyViewState('memory');
    assert.strictEqual(reduceViewState(memory, { type: 'selectLayer', layer: 'bn1' }), memory);
    assert.strictEqual(reduceViewState(memory, { type: 'trainEvent', event: step(1) }), memory);
    const training = emptyViewState('training');
    assert.strictEqual(
      reduceViewState(training, { type: 'sweepPoint', point: sweepPoint('batch', 8, 8) }),
      training,
    );
  });

  it('a re-measured sweep point replaces the earlier one', () => {
    let memory = emptyViewState('memory');
    memory = reduceViewState(memory, { type: 'sweepPoint', point: sweepPoint('batch', 8, 8) });
    memory = reduceViewState(memory, {
      type: 'sweepPoint',
      point: { ...sweepPoint('batch', 8, 8), peakStepBytes: 1 },
    });
    if (memory.view !== 'memory') return assert.fail(memory.view);
    assert.deepStrictEqual(
      memory.state.sweep.map((p) => p.peakStepBytes),
      [1],
    );
  });
});

describe('webview html', () => {
  const extensionUri = vscode.Uri.file('/ext');
  const webview = {
    cspSource: 'https://webview.test',
    asWebviewUri: (uri: vscode.Uri) => uri.with({ scheme: 'https', authority: 'webview.test' }),
  } as unknown as vscode.Webview;

  it('locks the page down: nonce script, own styles and fonts, no inline data', () => {
    const html = renderWebviewHtml(webview, extensionUri, 'memory');
    const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1];
    const nonce = /script-src 'nonce-([^']+)'/.exec(csp ?? '')?.[1];
    assert.ok(nonce, csp);
    assert.strictEqual(
      csp,
      `default-src 'none'; img-src https://webview.test data:; style-src https://webview.test; ` +
        `script-src 'nonce-${nonce}'; font-src https://webview.test`,
    );
    const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    assert.strictEqual(scripts.length, 1);
    assert.ok(scripts[0][1].includes(`nonce="${nonce}"`));
    assert.ok(scripts[0][1].includes('/ext/dist/webview.js'));
    assert.strictEqual(scripts[0][2].trim(), '', 'no inline script content');
    assert.ok(html.includes('<body data-view="memory">'));
    assert.ok(!/style="/.test(html), 'no inline styles');
    assert.notStrictEqual(
      renderWebviewHtml(webview, extensionUri, 'memory'),
      html,
      'nonce per render',
    );
  });
});
