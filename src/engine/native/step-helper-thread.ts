/**
 * A helper thread of the native step (step-helpers.ts): started with the model's JSON, it
 * rebuilds the model in a TensorFlow context of its own, compiles the same native layers, and
 * then answers each share request with that share's gradients and sums.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { setBackend } from '../backend/select';
import '../layers/batchless-normalization'; // registers the layer class the JSON names
import { stepModelOf } from '../train/batch-gradients';
import { NativeStep } from './native-step';
import type { HelperInit, HelperReply, HelperRequest } from './step-helpers';

function post(reply: HelperReply, transfer: ArrayBuffer[] = []): void {
  parentPort!.postMessage(reply, transfer);
}

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

async function start(init: HelperInit): Promise<void> {
  const backend = await setBackend('tensorflow');
  if (backend.name !== 'tensorflow') throw new Error(`the helper thread has no tensorflow backend (${backend.fallbacks.map((f) => f.reason).join('; ')})`);
  const model = await tf.models.modelFromJSON({ modelTopology: init.topology } as tf.io.ModelJSON);
  // The optimizer is never used here: the thread that owns the step updates the weights.
  const native = NativeStep.compile(stepModelOf(model, init.inputShape, init.numClasses), { optimizer: 'sgd', learningRate: 1, statsLearningRate: 0 });
  if ('reason' in native) throw new Error(`the helper thread cannot run the native step: ${native.reason}`);
  parentPort!.on('message', (message: HelperRequest) => {
    try {
      const share = native.computeShare(message.request);
      const buffers = [...share.grads.flatMap((g) => (g ? [g.buffer as ArrayBuffer] : [])), ...share.sums.flatMap((s) => [s.first.buffer as ArrayBuffer, s.second.buffer as ArrayBuffer])];
      post({ type: 'share', id: message.id, share }, buffers);
    } catch (error) {
      post({ type: 'error', id: message.id, message: errorText(error) });
    }
  });
  post({ type: 'ready', shapes: native.slotShapes() });
}

if (!parentPort) {
  console.error('step-helper-thread: run me with worker_threads (the native step starts me)');
  process.exitCode = 1;
} else {
  start(workerData as HelperInit).catch((error: unknown) => post({ type: 'error', message: errorText(error) }));
}
