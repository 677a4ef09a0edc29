import * as vscode from 'vscode';
import { registerCommands } from './commands';
import type { Ctx } from './commands/context';
import { Config } from './config';
import { registerPanelSerializers, ViewPanels } from './panels';
import { EngineSession } from './session/engine-session';
import { nativeBackendEnv } from './session/native-backend';
import type { BackendInfo } from './shared/protocol';
import { StatusBar } from './status';
import { CODELENS_SELECTOR, NormalizationCodeLensProvider } from './views/codelens';
import { LayerTreeProvider } from './views/layer-tree';

/** What activate returns: integration tests drive the views and the engine through it. */
export interface BatchlessApi {
  readonly panels: ViewPanels;
  readonly engine: EngineSession;
}

// Kept thin and cheap: nothing here loads TensorFlow.js. The engine starts in a worker process
// of its own when a command first needs it.
export function activate(context: vscode.ExtensionContext): BatchlessApi {
  const log = vscode.window.createOutputChannel('Batchless', { log: true });
  const status = new StatusBar('batchless.showBackend');
  const config = new Config();
  const engine = new EngineSession(context.extensionPath, config, log, () => nativeBackendEnv(context.globalStorageUri.fsPath));
  const panels = new ViewPanels(context.extensionUri, log);
  const layers = new LayerTreeProvider();
  const codeLens = new NormalizationCodeLensProvider();
  const ctx: Ctx = { extension: context, config, status, log, engine, panels, layers };
  context.subscriptions.push(
    log,
    status,
    engine,
    panels,
    layers,
    codeLens,
    ...registerCommands(ctx),
    ...registerPanelSerializers(panels),
    engine.onDidStart((backend) => status.set({ kind: 'ready', backend: backend.name, detail: backendDetail(backend) })),
    vscode.window.registerTreeDataProvider('batchless.layers', layers),
    vscode.languages.registerCodeLensProvider(CODELENS_SELECTOR, codeLens),
    panels.onDidSelectLayer(({ layer }) => panels.post('statistics', { type: 'selectLayer', layer })),
    panels.onDidRequestCommand(({ command }) => void vscode.commands.executeCommand(WEBVIEW_COMMANDS[command])),
  );
  return { panels, engine };
}

/** The status-bar tooltip: why nothing faster runs, and how to get native speed. */
function backendDetail(backend: BackendInfo): string {
  const notUsed = backend.fallbacks.map((f) => `Not ${f.name}: ${f.reason}.`);
  if (backend.name !== 'tensorflow') notUsed.push('Run “Batchless: Install Native Backend” for native TensorFlow speed.');
  return notUsed.join(' ');
}

/** Buttons in the views ask for these commands. */
const WEBVIEW_COMMANDS = {
  train: 'batchless.trainSession',
  inspect: 'batchless.inspectStatistics',
  memory: 'batchless.showMemory',
  export: 'batchless.exportReport',
} as const;

export function deactivate(): void {
  // Everything, the engine worker included, is disposed through context.subscriptions.
}
