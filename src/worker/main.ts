/**
 * The engine worker: a Node process the extension forks so training never runs on the extension
 * host's thread. It speaks the typed protocol (src/shared/protocol.ts) over the IPC channel, one
 * AbortController per job so a cancel lands between steps.
 */
import { FromWorker, isToWorker, JobResult, ToWorker } from '../shared/protocol';
import {
  runConvert,
  runExportKeras,
  runFindSites,
  runInspect,
  runMemory,
  runRewrite,
  runTrain,
  startEngine,
} from './jobs';

const jobs = new Map<string, AbortController>();

function send(message: FromWorker): void {
  process.send?.(message);
}

async function handle(message: ToWorker): Promise<void> {
  if (message.type === 'shutdown') {
    for (const job of jobs.values()) job.abort();
    process.exit(0);
  }
  if (message.type === 'cancel') {
    jobs.get(message.id)?.abort();
    return;
  }
  const abort = new AbortController();
  jobs.set(message.id, abort);
  try {
    const result = await runJob(message, abort.signal);
    send({ type: 'result', id: message.id, result });
  } catch (err) {
    send({
      type: 'failed',
      id: message.id,
      message: err instanceof Error ? err.message : String(err),
    });
  } finally {
    jobs.delete(message.id);
  }
}

function runJob(
  message: Exclude<ToWorker, { type: 'shutdown' | 'cancel' }>,
  signal: AbortSignal,
): Promise<JobResult> | JobResult {
  switch (message.type) {
    case 'train':
      return runTrain(message.request, signal, (event) =>
        send({ type: 'trainEvent', id: message.id, event }),
      );
    case 'inspect':
      return runInspect(message.request);
    case 'memory':
      return runMemory(message.request, (point) =>
        send({ type: 'sweepPoint', id: message.id, point }),
      );
    case 'convert':
      return runConvert(message.request);
    case 'exportKeras':
      return runExportKeras(message.request);
    case 'rewriteSource':
      return runRewrite(message.request);
    case 'findSites':
      return runFindSites(message.request);
  }
}

async function main(): Promise<void> {
  if (!process.send) {
    console.error('batchless worker: start me with child_process.fork (I talk over IPC)');
    process.exit(2);
  }
  // The host going away must not leave an orphan computing.
  process.on('disconnect', () => process.exit(0));
  process.on('message', (message: unknown) => {
    if (!isToWorker(message)) return; // not ours; the host only sends protocol messages
    void handle(message);
  });
  send({ type: 'ready', backend: await startEngine() });
}

void main();
