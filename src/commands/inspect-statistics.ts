import * as vscode from 'vscode';
import type { LayerInspection } from '../shared/inspection';
import type { CommandFactory } from './context';
import { pickModel } from './pick-model';

/**
 * Inspect Layer Statistics: for each normalization layer, the statistics it normalizes with
 * (BN: moving mean/variance; batchless: learned μ/σ) against the activations observed on data.
 * Read-only, so it also works in untrusted workspaces. Resolves to the layers (tests use it).
 */
export const inspectStatistics: CommandFactory =
  (ctx) => async (arg?: unknown, options?: unknown) => {
    const model = await pickModel(arg, 'inspect');
    if (!model) return undefined;
    const data =
      typeof (options as { data?: unknown })?.data === 'string'
        ? (options as { data: string }).data
        : 'mnist';
    ctx.panels.show('statistics');
    // Views show a workspace-relative path; the engine gets the absolute one.
    const shown = model.startsWith('builtin:') ? model : vscode.workspace.asRelativePath(model);
    ctx.panels.setState({
      view: 'statistics',
      state: { status: 'running', model: shown, layers: [], trajectories: [] },
    });
    try {
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: 'Batchless: measuring activations' },
        () =>
          ctx.engine.run({ type: 'inspect', request: { model, data, samples: 512, channel: 0 } }),
      );
      if (result.kind !== 'inspect') throw new Error(`unexpected engine answer '${result.kind}'`);
      ctx.panels.setState({
        view: 'statistics',
        state: {
          status: 'ready',
          model: shown,
          samples: result.samples,
          layers: result.layers,
          trajectories: [],
          selectedLayer: result.layers[0]?.layer,
        },
      });
      ctx.layers?.setLayers(model, result.layers);
      return result.layers satisfies LayerInspection[];
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      ctx.panels.setState({
        view: 'statistics',
        state: { status: 'failed', message, model: shown, layers: [], trajectories: [] },
      });
      throw err;
    }
  };
