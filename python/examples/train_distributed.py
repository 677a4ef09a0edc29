#!/usr/bin/env python3
"""Train a model with BatchlessNormalization layers on Keras' own distribution (MirroredStrategy).

    python train_distributed.py [--model converted.keras] [--steps 5] [--save out.keras]

Runs on any machine: the one CPU is split into two logical devices, so MirroredStrategy has two
replicas. Without --model it builds a small CNN and initializes its statistics from data; with
--model it loads a .keras file (one written by the Batchless engine's converter, say) and trains
it on a synthetic task shaped to its input and output.

Before training it checks the two promises that make batchless layers fit data parallelism:

1. No cross-replica communication for normalization. The traced per-replica forward + NLL holds
   no collective op (a SyncBatchNorm control holds several), each instance's output is the same
   alone as inside its replica's shard, and one distributed step gives the same weights as one
   step on a single device with the whole batch. (The optimizer step still all-reduces the
   gradients: that is data parallelism itself, the same for any model.)
2. Exact gradient accumulation: the gradient of a batch of B equals the size-weighted mean of its
   micro-batches' gradients, max difference <= 1e-5 of each gradient's max |value|, judged on a
   float64 twin of the model; the float32 difference is printed beside what merely reordering
   the batch does in float32.

Prints per-step losses and one final `RESULT {json}` line; exits 1 if a check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras  # noqa: E402

try:
    import batchless_keras
except ImportError:  # run from a checkout without `pip install ./python`
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    import batchless_keras
from batchless_keras import BatchlessNormalization, initialize_from_data  # noqa: E402

REPLICAS = 2
ACCUMULATION_TOLERANCE = 1e-5  # in float64, where only a real cross-instance term could exceed it
FLOAT32_SANITY = 1e-3  # float32 rounding stays far below; a batch-statistics layer is far above
STEP_TOLERANCE = 1e-5
COLLECTIVE_OPS = ("CollectiveReduce", "CollectiveGather", "CollectiveBcast", "NcclAllReduce")


def split_cpu(replicas: int) -> None:
    """Splits the CPU into logical devices; TensorFlow allows it only before it initializes them."""
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * replicas
    )


def build_model(input_shape: tuple[int, ...], classes: int) -> keras.Model:
    inputs = keras.Input(input_shape, name="image")
    x = keras.layers.Conv2D(8, 3, padding="same", name="conv1")(inputs)
    x = BatchlessNormalization(name="bln1")(x)
    x = keras.layers.ReLU(name="relu1")(x)
    x = keras.layers.Conv2D(8, 3, padding="same", use_bias=False, name="conv2")(x)
    x = BatchlessNormalization(std_parametrization="abs", center=False, name="bln2")(x)
    x = keras.layers.ReLU(name="relu2")(x)
    x = keras.layers.Conv2D(16, 3, padding="same", use_bias=False, name="conv3")(x)
    x = BatchlessNormalization(std_parametrization="inv", name="bln3")(x)
    x = keras.layers.ReLU(name="relu3")(x)
    # Normalization stays on the feature maps: after global pooling the per-instance spread is
    # small, so small σ there would make the statistics chase every weight update.
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    return keras.Model(inputs, keras.layers.Dense(classes, name="logits")(x), name="demo_cnn")


def synthetic_task(input_shape, classes: int, count: int, seed: int):
    """A fixed random pattern per class plus noise: learnable by any model shape, deterministic."""
    rng = np.random.default_rng(seed)
    patterns = rng.normal(size=(classes, *input_shape))
    labels = rng.integers(0, classes, size=count).astype(np.int32)
    x = patterns[labels] + rng.normal(scale=1.0, size=(count, *input_shape))
    return x.astype(np.float32), labels


def task_loss_for(model: keras.Model, probe: np.ndarray) -> keras.losses.Loss:
    """Cross-entropy on logits, or on probabilities when the model already ends in a softmax."""
    out = np.asarray(model(probe, training=False))
    probabilities = out.min() >= 0 and np.allclose(out.sum(axis=-1), 1.0, atol=1e-4)
    return keras.losses.SparseCategoricalCrossentropy(from_logits=not probabilities)


def batchless_layers(model: keras.Model) -> list[BatchlessNormalization]:
    return [
        l
        for l in model._flatten_layers(include_self=False)
        if isinstance(l, BatchlessNormalization)
    ]


def total_loss(model, loss_fn, x, y):
    """What model.fit minimizes: the task loss plus every layer's NLL added in call()."""
    task = loss_fn(y, model(x, training=True))
    return task + tf.add_n(model.losses) if model.losses else task


def gradients(model, loss_fn, x, y) -> list:
    with tf.GradientTape() as tape:
        loss = total_loss(model, loss_fn, x, y)
    return tape.gradient(loss, [v.value for v in model.trainable_variables])


def check_accumulation(model, loss_fn, x, y, micro_batch: int) -> dict:
    """Full-batch gradient vs the size-weighted mean of micro-batch gradients, per variable.

    Judged on a float64 twin of the model, where the identity shows to ~1e-12, and also run in
    float32 as training does. In float32, a bias-like gradient near a trained optimum is a sum
    of terms that nearly cancel, and rounding alone moves it by more than 1e-5 of its size; the
    same batch in another order shows that floor, printed beside the float32 difference.
    """
    loss64 = keras.losses.SparseCategoricalCrossentropy(
        from_logits=loss_fn.from_logits, dtype="float64"
    )
    exact = _accumulation_difference(float64_twin(model), loss64, x, y, micro_batch)
    rounded = _accumulation_difference(model, loss_fn, x, y, micro_batch)
    order = np.random.default_rng(0).permutation(len(x))
    floor, _ = _max_relative_difference(
        model, gradients(model, loss_fn, x, y), gradients(model, loss_fn, x[order], y[order])
    )
    return {
        "batch": len(x),
        "micro_batch": micro_batch,
        "max_relative_difference": exact[0],
        "worst_variable": exact[1],
        "float32_max_relative_difference": rounded[0],
        "float32_worst_variable": rounded[1],
        "float32_reorder_difference": floor,
        "passed": exact[0] <= ACCUMULATION_TOLERANCE and rounded[0] <= FLOAT32_SANITY,
    }


def _accumulation_difference(model, loss_fn, x, y, micro_batch: int) -> tuple[float, str]:
    full = gradients(model, loss_fn, x, y)
    accumulated = [None if g is None else np.zeros(g.shape, np.float64) for g in full]
    for start in range(0, len(x), micro_batch):
        end = min(start + micro_batch, len(x))
        weight = (end - start) / len(x)
        for i, g in enumerate(gradients(model, loss_fn, x[start:end], y[start:end])):
            if (g is None) != (full[i] is None):
                raise AssertionError(
                    f"{model.trainable_variables[i].path}: gradient presence differs"
                )
            if g is not None:
                accumulated[i] += weight * np.asarray(g, np.float64)
    return _max_relative_difference(model, full, accumulated)


def float64_twin(model: keras.Model) -> keras.Model:
    """The same model and weights with every layer computing in float64 (outside any strategy)."""
    twin = keras.saving.deserialize_keras_object(
        _as_float64(keras.saving.serialize_keras_object(model))
    )
    twin.set_weights([np.asarray(w, np.float64) for w in model.get_weights()])
    return twin


def _as_float64(node):
    if isinstance(node, dict):
        if node.get("class_name") == "DTypePolicy":
            return {**node, "config": {**node["config"], "name": "float64"}}
        return {
            k: "float64" if k == "dtype" and v == "float32" else _as_float64(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_as_float64(v) for v in node]
    return node


def _max_relative_difference(model, reference: list, other: list) -> tuple[float, str]:
    """max |other − reference| / max |reference|, per variable; the worst one and its path."""
    worst, worst_path = 0.0, ""
    for variable, a, b in zip(model.trainable_variables, reference, other):
        if a is None:
            continue
        a = np.asarray(a, np.float64)
        relative = float(np.abs(a - np.asarray(b, np.float64)).max() / max(np.abs(a).max(), 1e-30))
        if relative > worst:
            worst, worst_path = relative, variable.path
    return worst, worst_path


def collectives_in_forward(strategy, model, batch) -> dict[str, int]:
    """Collective ops in the traced per-replica forward + NLL (no gradients, no optimizer)."""

    @tf.function
    def forward(distributed):
        def replica_fn(x):
            y = model(x, training=True)
            return y, (tf.add_n(model.losses) if model.losses else tf.constant(0.0))

        return strategy.run(replica_fn, args=(distributed,))

    graph = forward.get_concrete_function(batch).graph
    ops = Counter(op.type for op in graph.get_operations())
    return {name: n for name, n in ops.items() if name.startswith(COLLECTIVE_OPS)}


def sync_batchnorm_control(strategy, input_shape, batch) -> dict[str, int]:
    """The same count for a SyncBatchNorm model: proof that the count sees normalization traffic."""
    with strategy.scope():
        inputs = keras.Input(input_shape)
        x = keras.layers.Conv2D(4, 3, padding="same")(inputs)
        x = keras.layers.BatchNormalization(synchronized=True)(x)
        control = keras.Model(inputs, x)
    return collectives_in_forward(strategy, control, batch)


def check_independence(strategy, model, reference, x) -> dict:
    """Each replica's outputs vs the same instances run alone, one by one, on a single device."""
    dataset = tf.data.Dataset.from_tensor_slices(x).batch(len(x))
    distributed = next(iter(strategy.experimental_distribute_dataset(dataset)))
    outputs = tf.function(lambda b: strategy.run(lambda s: model(s, training=True), args=(b,)))(
        distributed
    )
    shards = [np.asarray(t) for t in strategy.experimental_local_results(outputs)]
    per_replica = np.concatenate(shards, axis=0)
    alone = np.concatenate(
        [np.asarray(reference(x[i : i + 1], training=True)) for i in range(len(x))]
    )
    difference = float(np.abs(per_replica - alone).max() / max(np.abs(alone).max(), 1e-30))
    return {
        "replica_shard_sizes": [len(s) for s in shards],
        "max_relative_difference": difference,
        "passed": difference <= 1e-5,
        "distributed": distributed,
    }


def make_optimizer(name: str, learning_rate: float) -> keras.optimizers.Optimizer:
    """Adam's ε is raised from 1e-7 to 1e-3 so one step stays a smooth function of the gradient:
    with a tiny ε, elements whose gradient is near zero step by ±learning_rate on rounding noise,
    and the distributed and single-device steps could not be compared to 1e-5. SGD is clipped,
    since plain SGD lets upstream weights outrun the statistics in the first steps."""
    if name == "adam":
        return keras.optimizers.Adam(learning_rate, epsilon=1e-3)
    return keras.optimizers.SGD(learning_rate, momentum=0.9, global_clipnorm=1.0)


class StepLog(keras.callbacks.Callback):
    """One epoch is one step here, so each epoch's loss is that step's loss."""

    def __init__(self, on_first_step=None) -> None:
        super().__init__()
        self.losses: list[float] = []
        self.task_losses: list[float] = []
        self.on_first_step = on_first_step

    def on_epoch_end(self, epoch, logs=None):
        self.losses.append(float(logs["loss"]))
        self.task_losses.append(float(logs["task"]))
        print(
            f"  step {epoch + 1:3d}  loss {self.losses[-1]:.6f}  (task {self.task_losses[-1]:.6f}, "
            f"NLL {self.losses[-1] - self.task_losses[-1]:.6f})",
            flush=True,
        )
        if epoch == 0 and self.on_first_step:
            self.on_first_step()


def weights_difference(a: keras.Model, b: keras.Model) -> float:
    worst = 0.0
    for va, vb in zip(a.weights, b.weights):
        wa, wb = np.asarray(va.numpy(), np.float64), np.asarray(vb.numpy(), np.float64)
        worst = max(worst, float(np.abs(wa - wb).max() / max(np.abs(wa).max(), 1e-30)))
    return worst


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="a .keras file to load instead of the built-in CNN")
    parser.add_argument("--steps", type=int, default=5, help="optimizer steps to train")
    parser.add_argument(
        "--batch-size", type=int, default=32, help="global batch (split over replicas)"
    )
    parser.add_argument(
        "--micro-batch", type=int, default=4, help="micro-batch of the accumulation check"
    )
    parser.add_argument("--optimizer", choices=["adam", "sgd"], default="adam")
    parser.add_argument("--learning-rate", type=float, default=0.01)
    parser.add_argument("--save", help="write the trained model here (.keras)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    started = time.time()
    split_cpu(REPLICAS)
    keras.utils.set_random_seed(args.seed)
    if args.batch_size % REPLICAS:
        parser.error(f"--batch-size must be a multiple of {REPLICAS}, got {args.batch_size}")

    strategy = tf.distribute.MirroredStrategy([f"/cpu:{i}" for i in range(REPLICAS)])
    print(f"MirroredStrategy: {strategy.num_replicas_in_sync} replicas on {REPLICAS} logical CPUs")
    with strategy.scope():
        if args.model:
            model = keras.saving.load_model(args.model, compile=False)
            source = f"loaded {args.model}"
        else:
            model = build_model((8, 8, 1), 4)
            source = "built the demo CNN"
    # `inputs`, not `input`: a Sequential loaded from a .keras file keeps its graph in an inner
    # Functional and has no `input` until it is called, but lists its inputs.
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise SystemExit(
            "train_distributed.py: only models with one input and one output are supported"
        )
    input_shape = tuple(int(d) for d in model.inputs[0].shape[1:])
    classes = int(model.outputs[0].shape[-1])
    layers = batchless_layers(model)
    print(f"{source}: input {input_shape}, {classes} outputs, {len(layers)} batchless layers")
    x, y = synthetic_task(input_shape, classes, args.batch_size * max(args.steps, 2), args.seed)
    if not args.model:
        init = initialize_from_data(model, x[:256])
        print(f"data-driven init: strata {init.strata}")

    # A single-device twin with the same weights: the reference for every check.
    reference = keras.models.clone_model(model)
    reference.set_weights(model.get_weights())
    loss_fn = task_loss_for(reference, x[:4])
    first_x, first_y = x[: args.batch_size], y[: args.batch_size]

    accumulation = check_accumulation(reference, loss_fn, first_x, first_y, args.micro_batch)
    print(
        f"accumulation: batch {accumulation['batch']} vs micro-batches of "
        f"{accumulation['micro_batch']}, max relative difference per variable: float64 "
        f"{accumulation['max_relative_difference']:.2e} ({accumulation['worst_variable']}); "
        "float32 "
        f"{accumulation['float32_max_relative_difference']:.2e} "
        f"({accumulation['float32_worst_variable']}; the same batch reordered: "
        f"{accumulation['float32_reorder_difference']:.2e}) -> "
        f"{'ok' if accumulation['passed'] else 'FAILED'}"
    )
    independence = check_independence(strategy, model, reference, first_x)
    distributed = independence.pop("distributed")
    print(
        f"independence: replica shards {independence['replica_shard_sizes']}, outputs vs each "
        f"instance alone: max relative difference {independence['max_relative_difference']:.2e} "
        f"-> {'ok' if independence['passed'] else 'FAILED'}"
    )
    collectives = collectives_in_forward(strategy, model, distributed)
    control = sync_batchnorm_control(strategy, input_shape, distributed)
    no_communication = not collectives and bool(control)
    print(
        f"communication: collective ops in the per-replica forward + NLL: {collectives or 'none'}; "
        f"SyncBatchNorm control: {control} -> {'ok' if no_communication else 'FAILED'}"
    )

    reference.compile(optimizer=make_optimizer(args.optimizer, args.learning_rate), loss=loss_fn)
    reference.fit(first_x, first_y, batch_size=args.batch_size, epochs=1, shuffle=False, verbose=0)
    with strategy.scope():
        model.compile(
            optimizer=make_optimizer(args.optimizer, args.learning_rate),
            loss=loss_fn,
            metrics=[
                keras.metrics.SparseCategoricalCrossentropy(
                    name="task", from_logits=loss_fn.from_logits
                )
            ],
        )
    step_check: dict = {}

    def compare_first_step() -> None:
        step_check["max_relative_difference"] = weights_difference(reference, model)
        step_check["passed"] = step_check["max_relative_difference"] <= STEP_TOLERANCE

    log = StepLog(compare_first_step)
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(args.batch_size).repeat()
    print(
        f"training {args.steps} steps, global batch {args.batch_size} "
        f"({args.batch_size // REPLICAS} per replica):"
    )
    model.fit(
        dataset, epochs=args.steps, steps_per_epoch=1, callbacks=[log], shuffle=False, verbose=0
    )
    if step_check:
        print(
            f"one distributed step vs one single-device step: max relative weight difference "
            f"{step_check['max_relative_difference']:.2e} -> "
            f"{'ok' if step_check['passed'] else 'FAILED'}"
        )
    mismatch = {l.name: round(float(l.nll(_input_of(model, l, first_x))), 6) for l in layers}
    print(f"distribution mismatch (gauged NLL) per layer: {mismatch}")
    if args.save:
        model.save(args.save)
        print(f"saved {args.save}")

    passed = (
        accumulation["passed"]
        and independence["passed"]
        and no_communication
        and step_check.get("passed", args.steps == 0)
        and all(np.isfinite(log.losses))
    )
    result = {
        "passed": bool(passed),
        "source": source,
        "replicas": strategy.num_replicas_in_sync,
        "losses": log.losses,
        "accumulation": accumulation,
        "independence": independence,
        "collectives_in_forward": collectives,
        "sync_batchnorm_collectives": control,
        "first_step": step_check,
        "mismatch": mismatch,
        "batchless_keras": batchless_keras.__version__,
        "seconds": round(time.time() - started, 1),
    }
    print("RESULT " + json.dumps(result), flush=True)
    return 0 if passed else 1


def _input_of(model: keras.Model, layer: BatchlessNormalization, x: np.ndarray):
    seen = []
    with batchless_keras.observe_inputs(lambda l, a: seen.append(a) if l is layer else None):
        model(x, training=False)
    return seen[0]


if __name__ == "__main__":
    sys.exit(main())
