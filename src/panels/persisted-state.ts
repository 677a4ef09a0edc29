/**
 * What a webview keeps with `vscode.setState` and what the serializer hands back after a reload.
 * It comes from web content, so the host checks its shape before adopting it.
 */
import type { ViewKind, ViewState } from '../shared/protocol';

export interface PersistedWebviewState {
  /** Bumped when the shape changes; an older shape is ignored rather than misread. */
  version: 1;
  state: ViewState;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const ARRAYS: Record<ViewKind, string[]> = {
  training: ['steps', 'evals'],
  statistics: ['layers', 'trajectories'],
  memory: ['perStep', 'sweep'],
};

const STATUSES: Record<ViewKind, string[]> = {
  training: ['idle', 'running', 'completed', 'cancelled', 'diverged', 'failed'],
  statistics: ['idle', 'running', 'ready', 'failed'],
  memory: ['idle', 'running', 'ready', 'failed'],
};

/**
 * True when `value` looks like the persisted state of `view`: the right view, a known status and
 * the arrays the webview iterates. Element shapes are not checked one by one; the webview draws
 * defensively and the next full state from the host replaces whatever was restored.
 */
export function isPersistedWebviewState(
  value: unknown,
  view: ViewKind,
): value is PersistedWebviewState {
  if (!isObject(value) || value.version !== 1 || !isObject(value.state)) return false;
  const { view: persistedView, state } = value.state;
  if (persistedView !== view || !isObject(state)) return false;
  if (typeof state.status !== 'string' || !STATUSES[view].includes(state.status)) return false;
  return ARRAYS[view].every((key) => Array.isArray(state[key]));
}
