"""A `.keras` archive written the way the engine's converter writes one loads and is exact.

Takes a real Keras BatchNormalization model, then by hand (no batchless_keras API): replaces the
BN entry of config.json with the entry python/README.md documents, and its weights group with
`layers/batchless_normalization/vars/0..3` = μ, stored σ, γ, β, where μ = moving_mean and
σ = sqrt(moving_variance + ε_BN) (method.md, "From a trained batch-normalization layer"). After
`import batchless_keras` the archive loads and predicts what the BN model predicted in inference.
"""

from __future__ import annotations

import io
import json
import os
import re
import tempfile
import unittest
import zipfile

import support
from support import assert_close

import h5py  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

import batchless_keras  # noqa: E402,F401  (registers the class)

README = os.path.join(support.PACKAGE_DIR, "README.md")


def documented_entry() -> dict:
    """The JSON example of python/README.md's "What a .keras config must carry"."""
    with open(README, encoding="utf-8") as f:
        text = f.read()
    section = text[text.index("## What a `.keras` config must carry") :]
    return json.loads(re.search(r"```json\n(.*?)```", section, re.S).group(1))


def bn_model() -> keras.Model:
    inputs = keras.Input((6,), name="features")
    x = keras.layers.Dense(4, name="hidden")(inputs)
    x = keras.layers.BatchNormalization(epsilon=1e-3, name="hidden_bn")(x)
    return keras.Model(inputs, keras.layers.Dense(2, name="head")(keras.layers.ReLU()(x)))


class KerasArchiveTest(unittest.TestCase):
    def test_the_documented_entry_deserializes(self) -> None:
        entry = documented_entry()
        self.assertEqual(entry["registered_name"], "batchless>BatchlessNormalization")
        layer = keras.saving.deserialize_keras_object(entry)
        self.assertIsInstance(layer, batchless_keras.BatchlessNormalization)
        self.assertEqual(layer.get_config()["std_parametrization"], "log")

    def test_a_hand_converted_archive_loads_and_matches_batch_norm(self) -> None:
        rng = np.random.default_rng(7)
        model = bn_model()
        bn = model.get_layer("hidden_bn")
        gamma, beta = rng.normal(1, 0.2, 4), rng.normal(0, 0.3, 4)
        moving_mean, moving_variance = rng.normal(0, 0.5, 4), rng.uniform(0.3, 3, 4)
        bn.set_weights([gamma, beta, moving_mean, moving_variance])
        x = rng.normal(size=(5, 6)).astype(np.float32)
        expected = model.predict(x, verbose=0)

        with tempfile.TemporaryDirectory() as folder:
            original = os.path.join(folder, "bn.keras")
            converted = os.path.join(folder, "batchless.keras")
            model.save(original)
            with zipfile.ZipFile(original) as archive:
                files = {name: archive.read(name) for name in archive.namelist()}

            config = json.loads(files["config.json"])
            layers = config["config"]["layers"]
            index = next(i for i, l in enumerate(layers) if l["class_name"] == "BatchNormalization")
            entry = documented_entry()
            entry["config"]["name"] = layers[index]["config"]["name"]
            entry["build_config"] = layers[index]["build_config"]
            entry["name"] = layers[index]["name"]
            entry["inbound_nodes"] = layers[index]["inbound_nodes"]
            layers[index] = entry
            files["config.json"] = json.dumps(config).encode()

            buffer = io.BytesIO(files["model.weights.h5"])
            with h5py.File(buffer, "r+") as weights:
                del weights["layers/batch_normalization"]
                group = weights.create_group("layers/batchless_normalization/vars")
                std = np.sqrt(moving_variance + 1e-3)
                for i, value in enumerate([moving_mean, np.log(std), gamma, beta]):
                    group.create_dataset(str(i), data=value.astype(np.float32))
            files["model.weights.h5"] = buffer.getvalue()
            with zipfile.ZipFile(converted, "w") as archive:
                for name, data in files.items():
                    archive.writestr(name, data)

            loaded = keras.saving.load_model(converted)
        layer = loaded.get_layer("hidden_bn")
        self.assertIsInstance(layer, batchless_keras.BatchlessNormalization)
        mean, std = layer.get_statistics()
        assert_close(mean, moving_mean, atol=1e-6, rtol=1e-6, what="mean")
        assert_close(std, np.sqrt(moving_variance + 1e-3), atol=1e-6, rtol=1e-6, what="std")
        assert_close(loaded.predict(x, verbose=0), expected, atol=1e-5, rtol=1e-5, what="output")


if __name__ == "__main__":
    unittest.main()
