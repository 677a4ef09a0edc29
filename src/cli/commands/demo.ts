import * as tf from '@tensorflow/tfjs';
import * as os from 'node:os';
import * as nodePath from 'node:path';
import type { StepEvent, TrainEvent } from '../../shared/train-events';
import { setBackend, BackendName } from '../../engine/backend/select';
import { convertLayersModel } from '../../engine/convert/bn-to-batchless';
import { loadModel } from '../../engine/convert/load-model';
import { checkParity } from '../../engine/convert/parity';
import { writeTfjsModel } from '../../engine/convert/write-tfjs';
import { sliceBatch } from '../../engine/data/dataset';
import { loadSessionData } from '../../engine/data/session-split';
import { measureGradientStep } from '../../engine/memory/step-peak';
import { checkAccumulation } from '../../engine/train/accumulation-check';
import { evaluate } from '../../engine/train/evaluate';
import { modelInputShape, train } from '../../engine/train/trainer';
import { intOption, parseOptions } from '../args';
import { formatBytes, formatNumber, formatPercent, summarize, table } from '../format';
import { humanPrinter } from './train';

/** The bundled example: a BN MLP trained on MNIST by scripts/make-example-model.js. */
export const EXAMPLE_MODEL = nodePath.join(__dirname, '..', '..', '..', '..', 'examples', 'mnist-bn-mlp', 'model.json');

/**
 * The main job end to end on the bundled example: convert BN → batchless with a parity proof,
 * show that micro-batch accumulation is exact (and that BN's is not), train with micro-batch 1,
 * then print the learned statistics and the measured memory.
 */
export async function demoCommand(argv: string[]): Promise<number> {
  const { values } = parseOptions(argv, { steps: { type: 'string' }, batch: { type: 'string' }, backend: { type: 'string' }, out: { type: 'string' } });
  const steps = intOption(values.steps, 'steps', 40);
  const batchSize = intOption(values.batch, 'batch', 32);
  const backend = await setBackend(values.backend as BackendName | undefined);
  const heading = (text: string) => console.log(`\n== ${text}`);

  console.log('Batchless demo: batch normalization without the batch');
  console.log(`backend: ${backend.name}${backend.fallbacks.map((f) => ` (not ${f.name}: ${f.reason})`).join('')}`);
  const loaded = await loadModel(EXAMPLE_MODEL);
  const original = loaded.model;
  const inputShape = modelInputShape(original);
  const data = loadSessionData('mnist', 0, inputShape);
  console.log(`model: ${nodePath.relative(process.cwd(), EXAMPLE_MODEL)} (${original.countParams().toLocaleString('en-US')} parameters, BN after each hidden layer)`);
  console.log(`data: ${data.train.count} MNIST digits to train, ${data.test.count} to test (the \`mnist\` package)`);
  const before = await evaluate(original, data.test, 256, false);
  console.log(`BN model test accuracy: ${formatPercent(before.accuracy)}`);

  heading('1. Convert BatchNormalization → BatchlessNormalization');
  const conversion = await convertLayersModel(original);
  const probe = sliceBatch(data.test, 0, 256);
  const x = tf.tensor(probe.x, [probe.size, ...inputShape]);
  const parity = checkParity(original, conversion.model, x, conversion.converted.map((c) => c.layer), '256 MNIST test digits');
  x.dispose();
  console.log(table(['layer', 'channels', 'μ and σ from'], conversion.converted.map((c) => [c.layer, String(c.channels), c.statisticsFrom])));
  console.log(`parity on ${parity.inputs}: max abs diff ${parity.maxAbsDiff.toExponential(2)}, max rel diff ${parity.maxRelDiff.toExponential(2)} (tolerance ${parity.tolerance}) → ${parity.passed ? 'same function' : 'MISMATCH'}`);
  const outFolder = values.out ?? nodePath.join(os.tmpdir(), 'batchless-demo');
  console.log(`converted model written to ${await writeTfjsModel(conversion.model, outFolder)}`);

  heading(`2. Exact gradient accumulation (one batch of ${batchSize} vs ${batchSize} micro-batches of 1)`);
  const batch = sliceBatch(data.train, 0, batchSize);
  const exact = checkAccumulation(conversion.model, batch, 1, inputShape, data.train.numClasses);
  const bn = checkAccumulation(original, batch, 1, inputShape, data.train.numClasses);
  console.log(table(['model', 'max rel diff of gradients'], [['batchless', exact.maxRelDiff.toExponential(2)], ['batch norm', bn.maxRelDiff.toExponential(2)]]));
  console.log(`batchless: ${exact.explanation}\nbatch norm: ${bn.explanation}`);

  heading(`3. Train ${steps} steps of effective batch ${batchSize}, micro-batch 1`);
  const stepEvents: StepEvent[] = [];
  const print = humanPrinter(batchSize, 1);
  const onEvent = (event: TrainEvent) => {
    if (event.type === 'step') stepEvents.push(event);
    print(event);
  };
  const summary = await train(conversion.model, data, { batchSize, microBatchSize: 1, maxSteps: steps, statsEvery: 0 }, { onEvent, fromConversion: true, modelName: 'converted example' });
  console.log(`test accuracy ${formatPercent(summary.testAccuracy)} (BN model before: ${formatPercent(before.accuracy)}), ${Math.round(summary.samplesPerSecond)} samples/s`);

  heading('4. Learned statistics per layer (min / mean / max over channels)');
  const first = stepEvents[0];
  const last = stepEvents[stepEvents.length - 1];
  console.log(
    table(
      ['layer', 'channels', 'μ', 'σ', 'mismatch first → last step'],
      summary.layers.map((l) => {
        const mu = summarize(l.mean);
        const sigma = summarize(l.std);
        const short = l.layer.split('/').pop()!;
        return [
          l.layer,
          String(l.mean.length),
          `${formatNumber(mu.min, 2)} / ${formatNumber(mu.mean, 2)} / ${formatNumber(mu.max, 2)}`,
          `${formatNumber(sigma.min, 2)} / ${formatNumber(sigma.mean, 2)} / ${formatNumber(sigma.max, 2)}`,
          first && last ? `${formatNumber(first.nll[short], 3)} → ${formatNumber(last.nll[short], 3)}` : 'n/a',
        ];
      }),
    ),
  );
  console.log('mismatch = the layer\'s gauged Gaussian NLL: 0 when its inputs really are N(μ, σ²).');

  heading(`5. Measured peak memory of one training step (effective batch ${batchSize})`);
  const bnBytes = await measureGradientStep(original, batch, batchSize, inputShape, data.train.numClasses);
  const rows: string[][] = [['batch norm, whole batch', formatBytes(bnBytes), '1.00×']];
  for (const micro of [8, 1]) {
    const bytes = await measureGradientStep(conversion.model, batch, micro, inputShape, data.train.numClasses);
    rows.push([`batchless, micro-batch ${micro}`, formatBytes(bytes), `${(bytes / bnBytes).toFixed(2)}×`]);
  }
  console.log(table(['how', 'peak tensor bytes', 'vs BN'], rows));
  console.log('peak tensor bytes = tf.profile peak during the step minus the bytes alive before it (weights, optimizer state).');
  return summary.stopped === 'completed' ? 0 : 1;
}
