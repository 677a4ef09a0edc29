import * as vscode from 'vscode';
import type { NormChoice, TrainRequest } from '../shared/protocol';

const STATE_KEY = 'batchless.lastTrainRequest';

export const DEFAULT_TRAIN_REQUEST: TrainRequest = {
  model: 'builtin:mlp',
  data: 'mnist',
  norm: 'batchless',
  batchSize: 32,
  microBatchSize: 1,
  epochs: 1,
  maxSteps: 100,
  learningRate: 1e-3,
  seed: 0,
  statsEvery: 10,
  memoryEvery: 10,
};

/** The last settings used in this workspace (remembered per workspace). */
export function lastTrainRequest(state: vscode.Memento): TrainRequest {
  return { ...DEFAULT_TRAIN_REQUEST, ...state.get<Partial<TrainRequest>>(STATE_KEY, {}) };
}

export async function rememberTrainRequest(
  state: vscode.Memento,
  request: TrainRequest,
): Promise<void> {
  await state.update(STATE_KEY, request);
}

/** Model files in the workspace the engine can load (bounded search). */
export async function findModelFiles(): Promise<vscode.Uri[]> {
  const found = await vscode.workspace.findFiles(
    '**/{model.json,*.keras,*.h5}',
    '**/{node_modules,.batchless-backup,.git}/**',
    50,
  );
  return found.filter((uri) => !uri.path.endsWith('.weights.h5'));
}

async function findDataFiles(): Promise<vscode.Uri[]> {
  return vscode.workspace.findFiles('**/*.{csv,npy}', '**/{node_modules,.git}/**', 50);
}

/**
 * Asks for the session's settings, one quick pick or input at a time, starting from the last
 * ones. Resolves undefined if the user backs out at any step.
 */
export async function pickTrainRequest(state: vscode.Memento): Promise<TrainRequest | undefined> {
  const last = lastTrainRequest(state);
  const models = await findModelFiles();
  const model = await quickPick(
    'Model to train',
    [
      { label: 'builtin:mlp', description: '784-256-norm-relu-256-norm-relu-10' },
      { label: 'builtin:cnn', description: 'conv16-norm-relu-pool-conv32-norm-relu-gap-dense10' },
      ...models.map((uri) => ({
        label: vscode.workspace.asRelativePath(uri),
        description: 'model file in the workspace',
        value: uri.fsPath,
      })),
    ],
    last.model,
  );
  if (model === undefined) return undefined;
  const dataFiles = await findDataFiles();
  const data = await quickPick(
    'Data set',
    [
      { label: 'mnist', description: '10,000 real MNIST digits (built in)' },
      { label: 'synthetic', description: 'a Gaussian-mixture classification set' },
      ...dataFiles.map((uri) => ({
        label: vscode.workspace.asRelativePath(uri),
        description: uri.path.endsWith('.npy')
          ? 'give x.npy,y.npy: pick x, y is guessed beside it'
          : 'CSV: features + label column',
        value: npyPair(uri.fsPath),
      })),
    ],
    last.data,
  );
  if (data === undefined) return undefined;
  const norm = (await quickPick(
    'Normalization',
    [
      {
        label: 'batchless',
        description: 'learned Gaussian per channel; converts BN layers of a model file',
      },
      {
        label: 'batch',
        description: 'batch normalization (built-in models), or the file as it is',
      },
      { label: 'none', description: 'no normalization (built-in models only)' },
    ],
    last.norm,
  )) as NormChoice | undefined;
  if (norm === undefined) return undefined;
  const batchSize = await numberInput(
    'Effective batch size (instances per optimizer step)',
    last.batchSize,
  );
  if (batchSize === undefined) return undefined;
  const microBatchSize = await numberInput(
    'Micro-batch size (instances per pass; gradients accumulate)',
    Math.min(last.microBatchSize, batchSize),
    batchSize,
  );
  if (microBatchSize === undefined) return undefined;
  const epochs = await numberInput('Epochs', last.epochs);
  if (epochs === undefined) return undefined;
  const maxSteps = await numberInput(
    'Stop after this many steps (0: no limit)',
    last.maxSteps,
    undefined,
    0,
  );
  if (maxSteps === undefined) return undefined;
  return { ...last, model, data, norm, batchSize, microBatchSize, epochs, maxSteps };
}

function npyPair(xPath: string): string {
  const y = xPath.replace(/(^|[/_-])x(\.npy)$/i, '$1y$2');
  return y !== xPath ? `${xPath},${y}` : xPath;
}

async function quickPick(
  title: string,
  items: (vscode.QuickPickItem & { value?: string })[],
  current: string,
): Promise<string | undefined> {
  const sorted = [...items].sort(
    (a, b) => Number((b.value ?? b.label) === current) - Number((a.value ?? a.label) === current),
  );
  const picked = await vscode.window.showQuickPick(sorted, {
    title: `Batchless: ${title}`,
    placeHolder: `current: ${current}`,
    ignoreFocusOut: true,
  });
  return picked ? (picked.value ?? picked.label) : undefined;
}

async function numberInput(
  title: string,
  value: number,
  max?: number,
  min = 1,
): Promise<number | undefined> {
  const text = await vscode.window.showInputBox({
    title: `Batchless: ${title}`,
    value: String(value),
    ignoreFocusOut: true,
    validateInput: (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < min) return `Enter a whole number ≥ ${min}`;
      if (max !== undefined && n > max) return `At most ${max} (the effective batch)`;
      return undefined;
    },
  });
  return text === undefined ? undefined : Number(text);
}
