#!/usr/bin/env python3
"""Keras's side of the engine <-> Keras parity checks (driven by test/unit/keras-parity.test.ts).

    python test/python/keras_parity.py parity cases.json
    python test/python/keras_parity.py reload trained.keras converted.keras
    python test/python/keras_parity.py outputs cases.json

`parity`: cases.json is a list of {"name", "keras": an engine-converted .keras, "inputs",
"engine_outputs", "train_x", "train_y", "from_probabilities", "learning_rate", "engine_before",
"engine_after": {variable: {"shape", "values"}}, "engine_micro_after" (optional)}. For each case
Keras loads the file (after `import batchless_keras`), and reports
  - outputs: Keras's inference outputs vs the engine's on the same inputs;
  - before: Keras's loaded variables vs the engine's converted model (the file round trip);
  - step: one `train_on_batch` with SGD (no momentum) and sparse categorical cross-entropy from
    logits or probabilities as the engine chose, the layers' add_loss NLL included (weight 1, as
    in the engine), vs the engine's variables after one SGD step on the same batch.
Dropout layers get rate 0: the two frameworks draw different random masks, so a step with
dropout could never match; the engine side does the same. For a model ending in softmax, Keras
differentiates through the softmax's logits and the engine through clipped probabilities; the
two agree while no probability is clipped, which the result reports (min_label_probability,
max_probability).

`reload`: a fresh process loads the trained file, checks it still has batchless layers, that its
variables moved away from the converted file's, and that it trains on (two more fit steps).

`outputs`: cases {"name", "keras", "inputs", "engine_outputs"}; Keras loads each file (one the
engine exported from any format, say) and its inference outputs are compared with the engine's.

Prints one `@@batchless-parity {json}` line per case.
"""

from __future__ import annotations

import json
import sys

import support  # noqa: F401  (quiet TensorFlow, batchless_keras from this tree)

import batchless_keras  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

PREFIX = "@@batchless-parity "


def leaf_layers(model, prefix=""):
    """(name path, layer) of every non-model layer, nested models flattened like the engine's
    flattenLayers (which names variables `<layer path>/<variable>`)."""
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from leaf_layers(layer, f"{prefix}{layer.name}/")
        else:
            yield prefix + layer.name, layer


def batchless_paths(model) -> list[str]:
    return [
        path
        for path, layer in leaf_layers(model)
        if isinstance(layer, batchless_keras.BatchlessNormalization)
    ]


def variables(model) -> dict[str, np.ndarray]:
    out = {}
    for path, layer in leaf_layers(model):
        for v in layer.weights:
            out[f"{path}/{v.name}"] = np.asarray(v.numpy(), np.float64)
    return out


def difference(actual: np.ndarray, expected: np.ndarray) -> dict:
    """Max absolute difference, and relative where values are large: |a − e| / max(1, |e|)."""
    actual, expected = np.asarray(actual, np.float64), np.asarray(expected, np.float64)
    if actual.shape != expected.shape:
        raise AssertionError(f"shape {actual.shape} != {expected.shape}")
    delta = np.abs(actual - expected)
    return {
        "max_abs": float(delta.max(initial=0.0)),
        "max_scaled": float((delta / np.maximum(1.0, np.abs(expected))).max(initial=0.0)),
    }


def compare_variables(keras_vars: dict, engine: dict) -> dict:
    """Per variable, plus the worst one; every variable must exist on both sides."""
    missing = sorted(set(keras_vars) ^ set(engine))
    if missing:
        raise AssertionError(f"variables on one side only: {missing}")
    per = {}
    for name, value in keras_vars.items():
        expected = np.asarray(engine[name]["values"], np.float64).reshape(engine[name]["shape"])
        per[name] = difference(value, expected)
    worst = max(per, key=lambda n: per[n]["max_scaled"])
    return {"per_variable": per, "worst": worst, **per[worst]}


def parity(case: dict) -> dict:
    model = keras.saving.load_model(case["keras"], compile=False)
    batchless = batchless_paths(model)
    inputs = np.asarray(case["inputs"], np.float32)
    outputs = difference(model(inputs, training=False), case["engine_outputs"])
    before = compare_variables(variables(model), case["engine_before"])
    for _, layer in leaf_layers(model):
        if isinstance(layer, keras.layers.Dropout):
            layer.rate = 0.0
    model.compile(
        optimizer=keras.optimizers.SGD(case["learning_rate"], momentum=0.0),
        loss=keras.losses.SparseCategoricalCrossentropy(
            from_logits=not case["from_probabilities"]
        ),
    )
    x = np.asarray(case["train_x"], np.float32)
    y = np.asarray(case["train_y"], np.int32)
    start = variables(model)
    # Keras's train step differentiates a softmax output's cross-entropy through the softmax's
    # input (TF backend `_get_logits`), the engine through probabilities clipped to
    # [1e-7, 1 − 1e-7]: the same gradient unless a probability is clipped. Reported, so the
    # test can check that the batch is in that regime.
    probabilities = np.asarray(model(x, training=True), np.float64)
    saturation = {
        "min_label_probability": float(probabilities[np.arange(len(y)), y].min()),
        "max_probability": float(probabilities.max()),
    }
    loss = float(model.train_on_batch(x, y))
    after = variables(model)
    moved = {n: float(np.abs(after[n] - start[n]).max()) for n in after}
    result = {
        "name": case["name"],
        "batchless_layers": batchless,
        "outputs": outputs,
        "before": {k: before[k] for k in ("worst", "max_abs", "max_scaled")},
        "step": compare_variables(after, case["engine_after"]),
        "keras_loss": loss,
        **(saturation if case["from_probabilities"] else {}),
        "moved": moved,
    }
    if "engine_micro_after" in case:
        micro = compare_variables(after, case["engine_micro_after"])
        result["micro_step"] = {k: micro[k] for k in ("worst", "max_abs", "max_scaled")}
    return result


def outputs(case: dict) -> dict:
    model = keras.saving.load_model(case["keras"], compile=False)
    inputs = np.asarray(case["inputs"], np.float32)
    return {
        "name": case["name"],
        "batchless_layers": batchless_paths(model),
        "layers": [type(layer).__name__ for _, layer in leaf_layers(model)],
        "outputs": difference(model(inputs, training=False), case["engine_outputs"]),
    }


def reload(trained_path: str, converted_path: str) -> dict:
    trained = keras.saving.load_model(trained_path, compile=False)
    converted = keras.saving.load_model(converted_path, compile=False)
    batchless = batchless_paths(trained)
    a, b = variables(trained), variables(converted)
    moved = {n: float(np.abs(a[n] - b[n]).max()) for n in a}
    shape = (16, *(int(d) for d in trained.inputs[0].shape[1:]))
    x = np.random.default_rng(0).normal(size=shape).astype(np.float32)
    y = np.arange(16) % int(trained.outputs[0].shape[-1])
    probabilities = bool(np.allclose(np.asarray(trained(x[:4])).sum(axis=-1), 1.0, atol=1e-4))
    trained.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=not probabilities),
    )
    history = trained.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    return {
        "name": trained_path,
        "batchless_layers": batchless,
        "moved": moved,
        "losses_after_reload": [float(v) for v in history.history["loss"]],
    }


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] in ("parity", "outputs"):
        with open(argv[1]) as f:
            cases = json.load(f)
        results = [(parity if argv[0] == "parity" else outputs)(case) for case in cases]
    elif len(argv) == 3 and argv[0] == "reload":
        results = [reload(argv[1], argv[2])]
    else:
        print(__doc__, file=sys.stderr)
        return 2
    for result in results:
        print(PREFIX + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
