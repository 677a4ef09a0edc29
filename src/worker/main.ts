/**
 * The engine worker: a Node process the extension forks so training never runs on the extension
 * host's thread. It speaks the typed protocol (src/shared/protocol.ts) over the IPC channel, one
 * AbortController per job so a cancel lands between steps.
 */
import { FromWorker, isToWorker, ToWorker } from '../shared/protocol';
import { runInspect, runMemory, runTrain, startEngine } from './jobs';

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
    const result =
      message.type === 'train'
        ? await runTrain(message.request, abort.signal, (event) => send({ type: 'trainEvent', id: message.id, event }))
        : message.type === 'inspect'
          ? await runInspect(message.request)
          : await runMemory(message.request, (point) => send({ type: 'sweepPoint', id: message.id, point }));
    send({ type: 'result', id: message.id, result });
  } catch (err) {
    send({ type: 'failed', id: message.id, message: err instanceof Error ? err.message : String(err) });
  } finally {
    jobs.delete(message.id);
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
