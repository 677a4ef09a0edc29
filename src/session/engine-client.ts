import { ChildProcess, fork } from 'node:child_process';
import type {
  BackendInfo,
  FromWorker,
  JobResult,
  SweepPointData,
  ToWorker,
} from '../shared/protocol';
import type { TrainEvent } from '../shared/train-events';

/** A job for the worker, without the id the client assigns. */
export type JobRequest =
  Extract<ToWorker, { id: string; request: unknown }> extends infer J
    ? J extends { id: string }
      ? Omit<J, 'id'>
      : never
    : never;

export interface JobHandlers {
  onTrainEvent?: (event: TrainEvent) => void;
  onSweepPoint?: (point: SweepPointData) => void;
  /** Cancels the job: the worker stops after its current step and resolves with what it has. */
  signal?: AbortSignal;
}

export interface EngineClientOptions {
  /** The worker script (dist/worker.js in the extension, out/src/worker/main.js in tests). */
  workerPath: string;
  /** BATCHLESS_BACKEND for the worker: 'auto' | 'tensorflow' | 'wasm' | 'cpu'. */
  backend?: string;
  /** TF_NUM_INTRAOP_THREADS for the worker; 0 or absent: the engine's default (intra-op-threads.ts). */
  threads?: number;
  /** Extra environment (tests). */
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}

interface Pending {
  resolve: (result: JobResult) => void;
  reject: (error: Error) => void;
  handlers: JobHandlers;
}

/**
 * The host's side of the engine worker: forks it on first use, assigns job ids, routes streamed
 * events, and turns a crash (or an out-of-memory kill) into a rejected job with a message that
 * says what happened; the next job starts a fresh worker. No `vscode` here, so it is tested in
 * plain Node.
 */
export class EngineClient {
  private child?: ChildProcess;
  private ready?: Promise<BackendInfo>;
  private readonly pending = new Map<string, Pending>();
  private nextId = 1;
  private stderrTail: string[] = [];

  constructor(private readonly options: EngineClientOptions) {}

  /** Starts the worker if needed; resolves with the backend it runs on. */
  start(): Promise<BackendInfo> {
    if (this.ready) return this.ready;
    const child = fork(this.options.workerPath, [], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // In desktop VS Code process.execPath is Electron: this makes it plain Node.
      env: {
        ...process.env,
        ...this.options.env,
        ELECTRON_RUN_AS_NODE: '1',
        BATCHLESS_BACKEND: this.options.backend ?? 'auto',
        ...(this.options.threads ? { TF_NUM_INTRAOP_THREADS: String(this.options.threads) } : {}),
      },
      execArgv: [],
    });
    this.child = child;
    this.stderrTail = [];
    const log = this.options.log ?? (() => undefined);
    child.stdout?.on('data', (d: Buffer) => log(d.toString().trimEnd()));
    child.stderr?.on('data', (d: Buffer) => {
      const text = d.toString().trimEnd();
      log(text);
      this.stderrTail = [...this.stderrTail, ...text.split('\n')].slice(-40);
    });
    this.ready = new Promise<BackendInfo>((resolve, reject) => {
      child.on('message', (message: FromWorker) => {
        if (message.type === 'ready') resolve(message.backend);
        else this.route(message);
      });
      child.on('error', (err) =>
        reject(new Error(`The engine process could not start: ${err.message}`)),
      );
      child.on('exit', (code, signal) => {
        const why = describeExit(code, signal, this.stderrTail);
        reject(new Error(why));
        this.failAll(why);
        if (this.child === child) {
          this.child = undefined;
          this.ready = undefined;
        }
      });
    });
    return this.ready;
  }

  /** Runs one job; rejects if the worker fails it or dies. */
  async run(job: JobRequest, handlers: JobHandlers = {}): Promise<JobResult> {
    await this.start();
    const child = this.child;
    if (!child) throw new Error('The engine process is not running');
    const id = String(this.nextId++);
    return new Promise<JobResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, handlers });
      const onAbort = () =>
        child.connected && child.send({ type: 'cancel', id } satisfies ToWorker);
      if (handlers.signal?.aborted) onAbort();
      handlers.signal?.addEventListener('abort', onAbort, { once: true });
      child.send({ ...job, id } as ToWorker);
    });
  }

  /** True while jobs are running. */
  get busy(): boolean {
    return this.pending.size > 0;
  }

  /** Ends the worker (pending jobs are rejected as stopped). */
  dispose(): void {
    const child = this.child;
    this.failAll('The engine process was stopped.');
    this.child = undefined;
    this.ready = undefined;
    if (!child) return;
    if (child.connected) child.send({ type: 'shutdown' } satisfies ToWorker);
    setTimeout(() => child.kill('SIGKILL'), 2000).unref();
  }

  private route(message: FromWorker): void {
    if (message.type === 'ready') return;
    const job = this.pending.get(message.id);
    if (!job) return;
    switch (message.type) {
      case 'trainEvent':
        job.handlers.onTrainEvent?.(message.event);
        break;
      case 'sweepPoint':
        job.handlers.onSweepPoint?.(message.point);
        break;
      case 'result':
        this.pending.delete(message.id);
        job.resolve(message.result);
        break;
      case 'failed':
        this.pending.delete(message.id);
        job.reject(new Error(message.message));
        break;
    }
  }

  private failAll(why: string): void {
    for (const job of this.pending.values()) job.reject(new Error(why));
    this.pending.clear();
  }
}

function describeExit(
  code: number | null,
  signal: NodeJS.Signals | null,
  stderrTail: string[],
): string {
  const oom =
    signal === 'SIGKILL' ||
    stderrTail.some((l) => /heap out of memory|Allocation failed|std::bad_alloc/i.test(l));
  const how = signal ? `was killed (${signal})` : `exited with code ${code}`;
  const hint = oom ? ' It may have run out of memory: try a smaller batch or micro-batch.' : '';
  const useful = stderrTail.filter(
    (l) =>
      l.trim() &&
      !/oneDNN|absl::InitializeLog|cpu_feature_guard|rebuild TensorFlow|^\s+at |^Node\.js v/.test(
        l,
      ),
  );
  const detail = (useful.find((l) => /Error\b/.test(l)) ?? useful[useful.length - 1] ?? '').trim();
  return `The engine process ${how}.${hint}${detail ? ` Last output: ${detail}` : ''}`;
}
