import { BenchJob, runJob } from './jobs';

// A bench worker process: receives jobs over IPC, one at a time, and answers each with its
// result or its error. Started by pool.ts; exits when the parent disconnects.

process.on('message', (message: { id: number; job: BenchJob }) => {
  runJob(message.job).then(
    (result) => process.send?.({ id: message.id, result }),
    (err: unknown) =>
      process.send?.({
        id: message.id,
        error: err instanceof Error ? (err.stack ?? err.message) : String(err),
      }),
  );
});
process.on('disconnect', () => process.exit(0));
