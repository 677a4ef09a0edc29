import { takeThreadsOption, UsageError } from './args';
import { CHECK_USAGE, checkAccumulationCommand } from './commands/check-accumulation';

import { CONVERT_USAGE, convertCommand } from './commands/convert';
import { demoCommand } from './commands/demo';
import { doctorCommand } from './commands/doctor';
import { EXPORT_KERAS_USAGE, exportKerasCommand } from './commands/export-keras';
import { MEMORY_USAGE, memoryCommand } from './commands/memory';
import { TRAIN_USAGE, trainCommand } from './commands/train';

const HELP = `batchless — batch normalization without the batch (Berger & Uc Cetina, arXiv 2212.14729)

Usage:
  batchless demo                     convert the bundled BN model, prove parity, train it batchless with
                                     micro-batch 1, print learned statistics and measured memory
  batchless doctor                   the backend in use, versions, threads, and why a faster one is not used
  ${CONVERT_USAGE}
  ${EXPORT_KERAS_USAGE}
  ${TRAIN_USAGE}
  ${CHECK_USAGE}
  ${MEMORY_USAGE}
  batchless --help

Every command takes --threads N: TensorFlow's threads per op (TF_NUM_INTRAOP_THREADS; default 1 on 2 CPUs or fewer, else every CPU).
Environment: BATCHLESS_BACKEND=tensorflow|wasm|cpu picks the backend (default: the fastest that works).`;

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const abort = new AbortController();
  const onSigint = () => {
    if (abort.signal.aborted) process.exit(130);
    console.error('\nstopping after the current step (Ctrl+C again to quit now)');
    abort.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    const [command, ...rest] = takeThreadsOption(argv);
    switch (command) {
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        console.log(HELP);
        return 0;
      case 'demo':
        return await demoCommand(rest);
      case 'convert':
        return await convertCommand(rest);
      case 'export-keras':
        return await exportKerasCommand(rest);
      case 'doctor':
        return await doctorCommand(rest);
      case 'train':
        return await trainCommand(rest, abort.signal);
      case 'check-accumulation':
        return await checkAccumulationCommand(rest);
      case 'memory':
        return await memoryCommand(rest);
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`batchless: ${err.message}\nRun 'batchless --help' for usage.`);
      return 2;
    }
    console.error(`batchless: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
