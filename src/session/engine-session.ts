import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Config } from '../config';
import type { BackendInfo, JobResult } from '../shared/protocol';
import { EngineClient, JobHandlers, JobRequest } from './engine-client';

/**
 * The extension's one engine worker, started on first use (activation stays light) and restarted
 * after a crash. Every job the commands run goes through here.
 */
export class EngineSession implements vscode.Disposable {
  private client?: EngineClient;
  /** The settings the running worker was started with: it is replaced when they change. */
  private startedWith = '';
  private readonly backendChanged = new vscode.EventEmitter<BackendInfo>();
  /** Fires when a (re)started worker reports its backend. */
  readonly onDidStart = this.backendChanged.event;

  constructor(
    private readonly extensionPath: string,
    private readonly config: Config,
    private readonly log: vscode.LogOutputChannel,
    /** Extra environment for each worker started (where the native backend was installed). */
    private readonly workerEnv: () => NodeJS.ProcessEnv = () => ({}),
  ) {}

  async run(job: JobRequest, handlers: JobHandlers = {}): Promise<JobResult> {
    const client = this.ensureClient();
    const backend = await client.start();
    this.backendChanged.fire(backend);
    return client.run(job, handlers);
  }

  /**
   * Stops the worker (its running jobs fail as stopped) and starts a fresh one, which chooses its
   * backend again: after "Install Native Backend", or a change of the backend setting.
   */
  async restart(): Promise<BackendInfo> {
    this.client?.dispose();
    this.client = undefined;
    const backend = await this.ensureClient().start();
    this.backendChanged.fire(backend);
    return backend;
  }

  get busy(): boolean {
    return this.client?.busy ?? false;
  }

  dispose(): void {
    this.client?.dispose();
    this.backendChanged.dispose();
  }

  private ensureClient(): EngineClient {
    // The backend and thread count are fixed when the worker loads TensorFlow: a changed setting
    // takes effect with a fresh worker, started here for the next job once the current ones end.
    const settings = JSON.stringify([this.config.backend, this.config.threads]);
    if (this.client && settings !== this.startedWith && !this.client.busy) {
      this.client.dispose();
      this.client = undefined;
    }
    this.startedWith = this.client ? this.startedWith : settings;
    this.client ??= new EngineClient({
      workerPath: workerPath(this.extensionPath),
      backend: this.config.backend,
      threads: this.config.threads,
      env: this.workerEnv(),
      log: (line) => this.log.info(line),
    });
    return this.client;
  }
}

/** The bundled worker, else tsc's output in a development checkout. */
function workerPath(extensionPath: string): string {
  const bundled = path.join(extensionPath, 'dist', 'worker.js');
  return fs.existsSync(bundled) ? bundled : path.join(extensionPath, 'out', 'src', 'worker', 'main.js');
}
