import * as nodePath from 'node:path';
import type { ConversionSummary } from './convert-file';

/** `<name>.batchless.README.md` beside `<name>.batchless.keras`. */
export function kerasReadmePath(kerasFile: string): string {
  return kerasFile.replace(/\.keras$/i, '') + '.README.md';
}

/**
 * The short note written beside an exported `.keras`: how to load it in Keras (the layer class
 * comes from python/batchless_keras) and train it with model.fit, alone or under MirroredStrategy.
 * Plain text in, plain text out: the extension writes it, the CLI could print it.
 */
export function kerasReadme(summary: ConversionSummary): string {
  const file = nodePath.basename(summary.output ?? '');
  const source = nodePath.basename(summary.source);
  const converted =
    summary.layers.length > 0
      ? `Its ${summary.layers.length} BatchNormalization layer(s) (${summary.layers.map((l) => l.layer).join(', ')}) ` +
        'became BatchlessNormalization with μ = moving_mean and σ = sqrt(moving_variance + ε), so it ' +
        `computes what the original computed in inference (max relative difference ${summary.parity?.maxRelDiff.toExponential(2) ?? 'n/a'}).`
      : 'It had no BatchNormalization layers to convert.';
  return `# ${file}

A Keras 3 model exported by Batchless from \`${source}\`. ${converted}
Batchless normalization (Berger & Uc Cetina, arXiv 2212.14729) learns μ and σ from the Gaussian
NLL each layer adds with \`add_loss\`; nothing is computed across the batch.

## Load

\`\`\`python
import keras
import batchless_keras  # pip install ./python (Batchless repository); registers the layer

model = keras.saving.load_model("${file}", compile=False)
\`\`\`

## Train

\`\`\`python
model.compile(
    optimizer=keras.optimizers.Adam(1e-3),
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),  # False if it ends in softmax
)
model.fit(x_train, y_train, batch_size=64, epochs=1)  # task loss + every layer's NLL
model.save("${file.replace(/\.keras$/i, '')}.trained.keras")
\`\`\`

## Train on several devices

Batchless layers need no cross-replica statistics, so a strategy only all-reduces gradients:

\`\`\`python
import tensorflow as tf

strategy = tf.distribute.MirroredStrategy()
with strategy.scope():
    model = keras.saving.load_model("${file}", compile=False)
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
model.fit(x_train, y_train, batch_size=64 * strategy.num_replicas_in_sync, epochs=1)
\`\`\`

\`python/examples/train_distributed.py --model ${file}\` does this on two logical CPUs and checks
that no normalization traffic crosses replicas.
`;
}
