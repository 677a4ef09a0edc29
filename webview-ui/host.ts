/**
 * The page's one handle on the editor: typed messages out, persisted state in and out. The
 * webview API may be acquired only once per page, so everything goes through this module.
 */
import type { PersistedWebviewState } from '../src/panels/persisted-state';
import type { FromWebview } from '../src/shared/protocol';

interface WebviewApi {
  postMessage(message: FromWebview): void;
  getState(): unknown;
  setState(state: PersistedWebviewState): void;
}

declare function acquireVsCodeApi(): WebviewApi;

const api = acquireVsCodeApi();

export function postToHost(message: FromWebview): void {
  api.postMessage(message);
}

export function persistedState(): unknown {
  return api.getState();
}

export function persist(state: PersistedWebviewState): void {
  api.setState(state);
}
