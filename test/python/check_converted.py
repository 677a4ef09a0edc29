#!/usr/bin/env python3
"""Checks model files converted by `batchless convert` with real Keras.

    python test/python/check_converted.py cases.json

cases.json is a list of {"format": "keras" | "h5" | "keras-json", "original": path,
"converted": path, "probe": path to <model>.probe.json}. For each case Keras loads the converted
file (after `import batchless_keras`), runs the probe inputs in inference mode and compares with
the ORIGINAL model's predictions that Keras itself recorded in the probe; and the converted HDF5
and topology are compared with the original's, which may differ only at BatchNormalization
layers. Prints one JSON line per case: `@@batchless-converted {...}`.
"""

from __future__ import annotations

import io
import json
import sys
import warnings
import zipfile

import support  # noqa: F401  (quiet TensorFlow, batchless_keras from this tree)

import batchless_keras  # noqa: E402,F401  (registers batchless>BatchlessNormalization)
import h5py  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras.src.legacy.saving import legacy_h5_format, saving_utils  # noqa: E402

PREFIX = "@@batchless-converted "
MODEL_CLASSES = {"Sequential", "Functional", "Model"}
BN = "BatchNormalization"
BATCHLESS = {"BatchlessNormalization", "batchless>BatchlessNormalization"}


def load(case):
    """The converted model as Keras loads it, and the warnings Keras gave while loading."""
    path, fmt = case["converted"], case["format"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if fmt in ("keras", "h5"):
            model = keras.models.load_model(path)
        else:
            with open(path) as f:
                topology = json.load(f)
            weights = path[: -len(".json")] + ".weights.h5"
            with h5py.File(weights, "r") as f:
                legacy = "layer_names" in f.attrs
            if not legacy:
                model = keras.models.model_from_json(json.dumps(topology))
                model.load_weights(weights)
            elif topology["class_name"] != "Model":
                # As make_keras_fixtures.py found for the original: Keras 3 misreads a Keras 2
                # Sequential's first-layer batch_input_shape, so it cannot load this one at all.
                return None, ["not loadable by Keras 3 (Keras 2 Sequential), as the original"]
            else:
                model = saving_utils.model_from_config(topology)
                with h5py.File(weights, "r") as f:
                    legacy_h5_format.load_weights_from_hdf5_group(f, model)
    return model, [str(w.message)[:200] for w in caught]


def layers_of(config, prefix=""):
    """(name path, class) of every leaf layer entry in a topology, nested models flattened."""
    for entry in config["config"]["layers"]:
        name = entry.get("name") or entry["config"]["name"]
        if entry["class_name"] in MODEL_CLASSES:
            yield from layers_of(entry, f"{prefix}{name}/")
        else:
            yield prefix + name, entry["class_name"]


def without_norm(config):
    """The topology with every BN / batchless entry blanked: what must be unchanged."""
    config = json.loads(json.dumps(config))

    def walk(node):
        for i, entry in enumerate(node["config"]["layers"]):
            if entry["class_name"] in MODEL_CLASSES:
                walk(entry)
            elif entry["class_name"] == BN or entry["class_name"] in BATCHLESS:
                node["config"]["layers"][i] = None

    walk(config)
    return config


def topologies(case):
    def read(path):
        if case["format"] == "keras":
            with zipfile.ZipFile(path) as z:
                return json.loads(z.read("config.json"))
        if case["format"] == "h5":
            with h5py.File(path, "r") as f:
                return json.loads(f.attrs["model_config"])
        with open(path) as f:
            return json.load(f)

    return read(case["original"]), read(case["converted"])


def hdf5_of(path, fmt):
    if fmt == "keras":
        with zipfile.ZipFile(path) as z:
            return h5py.File(io.BytesIO(z.read("model.weights.h5")), "r")
    if fmt == "h5":
        return h5py.File(path, "r")
    return h5py.File(path[: -len(".json")] + ".weights.h5", "r")


def tree(f):
    """Every object and attribute of an HDF5 file, as path -> comparable value."""
    out = {}

    def attrs(path, obj):
        for k, v in obj.attrs.items():
            out[f"{path}@{k}"] = repr(np.asarray(v).tolist()) + str(obj.attrs.get_id(k).dtype)

    def visit(path, obj):
        if isinstance(obj, h5py.Dataset):
            out[path] = (obj.dtype.str, obj.shape, np.asarray(obj[()]).tobytes())
        else:
            out[path] = "group"
        attrs(path, obj)

    attrs("/", f)
    f.visititems(visit)
    return out


def unexpected_changes(case, bn_names):
    """HDF5 paths that differ between original and converted and have nothing to do with BN."""
    trees = []
    for key in ("original", "converted"):
        with hdf5_of(case[key], case["format"]) as f:
            trees.append(tree(f))
    original, converted = trees

    def expected(path):
        parts = set(path.replace("@", "/").split("/"))
        return (
            any(p.startswith(("batch_normalization", "batchless_normalization")) for p in parts)
            or bool(parts & bn_names)
            or path.endswith(("@model_config", "@weight_names"))
        )

    keys = set(original) | set(converted)
    return sorted(k for k in keys if original.get(k) != converted.get(k) and not expected(k))


def check(case):
    with open(case["probe"]) as f:
        probe = json.load(f)
    result = {"converted": case["converted"], "format": case["format"]}
    before, after = topologies(case)
    bn_paths = [p for p, cls in layers_of(before) if cls == BN]
    converted_classes = dict(layers_of(after))
    result["bn_layers"] = bn_paths
    result["now_batchless"] = [p for p in bn_paths if converted_classes.get(p) in BATCHLESS]
    result["topology_unchanged_elsewhere"] = without_norm(before) == without_norm(after)
    result["unexpected_hdf5_changes"] = unexpected_changes(case, {p.split("/")[-1] for p in bn_paths})
    model, notes = load(case)
    result["load_notes"] = notes
    if model is None:
        result["skipped"] = notes[0]
        return result
    x = np.asarray(probe["inputs"], dtype="float32")
    y = np.asarray(model(x, training=False))
    result["max_abs_diff"] = float(np.max(np.abs(y - np.asarray(probe["outputs"]))))
    result["keras_version"] = keras.__version__
    return result


def main():
    with open(sys.argv[1]) as f:
        cases = json.load(f)
    for case in cases:
        try:
            result = check(case)
        except Exception as e:  # reported per case; the node test fails on it
            result = {"converted": case["converted"], "format": case["format"], "error": repr(e)[:2000]}
        print(PREFIX + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
