import * as vscode from 'vscode';

/** Backends the engine knows, fastest first; `auto` lets the engine take the first that loads. */
export const BACKEND_PREFERENCES = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendPreference = (typeof BACKEND_PREFERENCES)[number];

const SECTION = 'batchless';

/**
 * Typed, read-through view of the `batchless.*` settings. Values are read on each access, so a
 * command always sees what the user set last without a change listener.
 */
export class Config {
  get backend(): BackendPreference {
    const raw = this.section().get<string>('engine.backend', 'auto');
    return (BACKEND_PREFERENCES as readonly string[]).includes(raw)
      ? (raw as BackendPreference)
      : 'auto';
  }

  /** TensorFlow's intra-op threads for the engine worker; 0 lets the engine choose (intra-op-threads.ts). */
  get threads(): number {
    const raw = this.section().get<number>('engine.threads', 0);
    return Number.isInteger(raw) && raw > 0 ? raw : 0;
  }

  private section(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration(SECTION);
  }
}
