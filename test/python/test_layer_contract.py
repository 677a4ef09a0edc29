"""The layer's contract: arguments and validation, variables, config round trip, .keras files,
independence of instances, and that model.fit trains μ and σ with the added NLL alone.

The argument names, defaults, variable names and order are those of the TypeScript engine's
layer (src/engine/layers/batchless-normalization.ts), which the engine's converter relies on.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
import unittest
import warnings
import zipfile

import support
from support import assert_close

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import batchless_keras  # noqa: E402
from batchless_keras import BatchlessNormalization  # noqa: E402

DEFAULTS = {
    "axis": -1,
    "epsilon": 1e-5,
    "std_parametrization": "log",
    "gauge": True,
    "center": True,
    "scale": True,
    "initial_mean": 0.0,
    "initial_std": 1.0,
}


def small_model(kind: str = "log") -> keras.Model:
    inputs = keras.Input((6, 6, 2), name="image")
    x = keras.layers.Conv2D(4, 3, padding="same", name="conv")(inputs)
    x = BatchlessNormalization(std_parametrization=kind, name="bln_conv")(x)
    x = keras.layers.ReLU(name="relu")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    x = BatchlessNormalization(center=False, initial_std=2.0, name="bln_head")(x)
    return keras.Model(inputs, keras.layers.Dense(3, name="logits")(x), name="small")


class ArgumentsTest(unittest.TestCase):
    def test_defaults_match_the_engine(self) -> None:
        config = BatchlessNormalization().get_config()
        self.assertEqual({k: config[k] for k in DEFAULTS}, DEFAULTS)

    def test_config_round_trip(self) -> None:
        layer = BatchlessNormalization(
            axis=[1, 3],
            epsilon=1e-3,
            std_parametrization="inv",
            gauge=False,
            center=False,
            scale=False,
            initial_mean=0.5,
            initial_std=2.5,
            name="custom",
        )
        config = layer.get_config()
        again = BatchlessNormalization.from_config(config)
        self.assertEqual(again.get_config(), config)
        self.assertEqual(config["axis"], [1, 3])
        serialized = keras.saving.serialize_keras_object(layer)
        self.assertEqual(serialized["registered_name"], batchless_keras.REGISTERED_NAME)
        self.assertEqual(serialized["module"], "batchless_keras")
        restored = keras.saving.deserialize_keras_object(serialized)
        self.assertIsInstance(restored, BatchlessNormalization)
        self.assertEqual(restored.get_config(), config)

    def test_a_hand_written_converter_config_resolves(self) -> None:
        # What the engine's converter writes: the layer's own keys, nothing Keras-internal.
        entry = {
            "module": "batchless_keras",
            "class_name": "BatchlessNormalization",
            "config": {"name": "bn1", "axis": -1, "epsilon": 1e-5, "std_parametrization": "abs"},
            "registered_name": "batchless>BatchlessNormalization",
        }
        layer = keras.saving.deserialize_keras_object(entry)
        self.assertIsInstance(layer, BatchlessNormalization)
        self.assertEqual((layer.name, layer.std_parametrization, layer.gauge), ("bn1", "abs", True))

    def test_bad_arguments_are_refused_quoting_the_value(self) -> None:
        cases = [
            ({"axis": []}, r"axis .* got \[\]"),
            ({"axis": 1.5}, r"axis .* got 1\.5"),
            ({"epsilon": -1}, r"epsilon .* got -1"),
            ({"epsilon": float("nan")}, r"epsilon .* got nan"),
            ({"std_parametrization": "sqrt"}, r"log, abs, inv, got 'sqrt'"),
            ({"initial_mean": float("inf")}, r"initial_mean .* got inf"),
            ({"initial_std": 0}, r"initial_std .* got 0"),
        ]
        for kwargs, message in cases:
            with self.subTest(**{k: repr(v) for k, v in kwargs.items()}):
                with self.assertRaisesRegex(ValueError, message):
                    BatchlessNormalization(**kwargs)

    def test_axes_that_do_not_fit_the_input_are_refused(self) -> None:
        with self.assertRaisesRegex(ValueError, r"axis \[0\] does not fit"):
            BatchlessNormalization(axis=0).build((None, 4))
        with self.assertRaisesRegex(ValueError, r"axis \[3\] does not fit"):
            BatchlessNormalization(axis=3).build((None, 4, 4))
        with self.assertRaisesRegex(ValueError, r"axis 1 of input shape .* must be known"):
            BatchlessNormalization(axis=1).build((None, None, 4))


class VariablesTest(unittest.TestCase):
    def test_names_order_and_shapes(self) -> None:
        layer = BatchlessNormalization()
        layer.build((None, 5, 5, 3))
        self.assertEqual([w.name for w in layer.weights], ["mean", "std", "gamma", "beta"])
        self.assertTrue(all(tuple(w.shape) == (3,) for w in layer.weights))
        self.assertEqual(layer.statistics_axes(), [3])

    def test_gamma_and_beta_are_absent_when_switched_off(self) -> None:
        for kwargs, names in [
            ({"scale": False}, ["mean", "std", "beta"]),
            ({"center": False}, ["mean", "std", "gamma"]),
            ({"scale": False, "center": False}, ["mean", "std"]),
        ]:
            layer = BatchlessNormalization(**kwargs)
            layer.build((None, 3))
            self.assertEqual([w.name for w in layer.weights], names, kwargs)

    def test_initial_std_is_exact_in_every_parametrization(self) -> None:
        stored = {"log": np.log(2.5), "abs": 2.5 - 1e-5, "inv": 0.4}
        for kind, expected in stored.items():
            layer = BatchlessNormalization(
                std_parametrization=kind, initial_mean=0.5, initial_std=2.5
            )
            layer.build((None, 2))
            assert_close(layer.std.numpy(), [expected] * 2, atol=1e-7, rtol=1e-6, what=kind)
            mean, std = layer.get_statistics()
            assert_close(mean, [0.5, 0.5], atol=0, rtol=0, what=f"{kind} mean")
            assert_close(std, [2.5, 2.5], atol=0, rtol=1e-6, what=f"{kind} std")

    def test_multiple_statistics_axes(self) -> None:
        layer = BatchlessNormalization(axis=[1, -1])
        x = np.random.default_rng(0).normal(2.0, 3.0, size=(4, 3, 5, 2)).astype(np.float32)
        layer(x)
        self.assertEqual(tuple(layer.mean.shape), (3, 2))
        self.assertEqual(layer.statistics_axes(), [1, 3])
        mean = np.linspace(-1, 1, 6).reshape(3, 2)
        std = np.linspace(0.5, 2, 6).reshape(3, 2)
        layer.set_statistics(mean, std)
        expected_y = (x - mean[None, :, None, :]) / std[None, :, None, :]
        assert_close(layer(x), expected_y, what="output")
        z = (x.astype(np.float64) - mean[None, :, None, :]) / std[None, :, None, :]
        assert_close(layer.nll(x), 0.5 * np.mean(z**2) - 0.5, what="nll")

    def test_set_statistics_checks_sizes_and_values(self) -> None:
        layer = BatchlessNormalization()
        layer.build((None, 2))
        with self.assertRaisesRegex(ValueError, "expected 2 statistics per variable"):
            layer.set_statistics([0, 0, 0], [1, 1, 1])
        with self.assertRaisesRegex(ValueError, r"std\[1\] must be a finite number > 0, got 0"):
            layer.set_statistics([0, 0], [1, 0])


class ConversionTest(unittest.TestCase):
    """The engine's BN → batchless rule (method.md): μ = moving_mean, σ = sqrt(moving_variance +
    ε_BN), γ and β copied; the layer then computes what the BN layer computed in inference."""

    def test_a_converted_batch_normalization_computes_the_same(self) -> None:
        rng = np.random.default_rng(6)
        x = rng.normal(1.0, 2.0, size=(4, 5, 5, 3)).astype(np.float32)
        bn = keras.layers.BatchNormalization(epsilon=1e-3)
        bn.build(x.shape)
        gamma, beta = rng.normal(1, 0.2, 3), rng.normal(0, 0.5, 3)
        moving_mean, moving_variance = rng.normal(1, 0.3, 3), rng.uniform(0.5, 4, 3)
        bn.set_weights([gamma, beta, moving_mean, moving_variance])
        expected = bn(x, training=False).numpy()
        for kind in ("log", "abs", "inv"):
            with self.subTest(kind=kind):
                layer = BatchlessNormalization(std_parametrization=kind)
                layer.build(x.shape)
                layer.set_statistics(moving_mean, np.sqrt(moving_variance + 1e-3))
                layer.gamma.assign(gamma.astype(np.float32))
                layer.beta.assign(beta.astype(np.float32))
                assert_close(layer(x), expected, atol=1e-5, rtol=1e-5, what="output")


class BehaviourTest(unittest.TestCase):
    def test_training_flag_changes_nothing(self) -> None:
        model = small_model()
        x = np.random.default_rng(1).normal(size=(5, 6, 6, 2)).astype(np.float32)
        assert_close(model(x, training=True), model(x, training=False), atol=0, rtol=0, what="y")

    def test_an_instance_alone_gives_its_output_in_the_batch(self) -> None:
        # Nothing is computed across the batch (unlike BatchNormalization in training).
        model = small_model("abs")
        x = np.random.default_rng(2).normal(size=(6, 6, 6, 2)).astype(np.float32)
        batch = model(x, training=True).numpy()
        for i in range(len(x)):
            alone = model(x[i : i + 1], training=True).numpy()
            assert_close(alone, batch[i : i + 1], atol=1e-6, rtol=1e-6, what=f"instance {i}")

    def test_nll_gradients_accumulate_over_micro_batches(self) -> None:
        # Statistics fitted on other data from the same distribution, channel means far from 0:
        # m − μ and 1 − v/σ² are then small differences of large numbers. In float32 moments the
        # batch and accumulated gradients drifted apart by up to 2e-4; in float64 about 1e-7.
        rng = np.random.default_rng(5)
        channels = 8
        centres, spreads = rng.normal(0, 3, channels), rng.uniform(0.2, 2, channels)
        data = rng.normal(centres, spreads, size=(288, 8, 8, channels)).astype(np.float32)
        x = data[256:]
        for kind in ("log", "abs", "inv"):
            layer = BatchlessNormalization(std_parametrization=kind)
            layer.build((None, 8, 8, channels))
            layer.set_statistics(data[:256].mean(axis=(0, 1, 2)), data[:256].std(axis=(0, 1, 2)))

            def grads(batch: np.ndarray) -> list[np.ndarray]:
                with tf.GradientTape() as tape:
                    nll = layer.nll(tf.constant(batch))
                found = tape.gradient(nll, [layer.mean.value, layer.std.value])
                return [np.asarray(g, np.float64) for g in found]

            full = grads(x)
            accumulated = [np.zeros_like(g) for g in full]
            for start in range(0, len(x), 4):
                for total, g in zip(accumulated, grads(x[start : start + 4])):
                    total += g * 4 / len(x)
            for name, a, b in zip(("mean", "std"), full, accumulated):
                with self.subTest(kind=kind, variable=name):
                    self.assertLess(np.abs(a - b).max() / np.abs(a).max(), 1e-6)

    def test_fit_trains_mean_and_std_with_the_added_nll_alone(self) -> None:
        # No compiled loss: the only loss is the layers' NLL, so only μ and σ may move. One
        # branch per parametrization, so one fit (and one trace) covers all three.
        rng = np.random.default_rng(3)
        x = rng.normal([3.0, -1.0], [2.0, 0.5], size=(512, 2)).astype(np.float32)
        inputs = keras.Input((2,))
        layers = [
            BatchlessNormalization(std_parametrization=k, name=k) for k in ("log", "abs", "inv")
        ]
        model = keras.Model(inputs, keras.layers.Concatenate()([layer(inputs) for layer in layers]))
        model.compile(optimizer=keras.optimizers.Adam(0.1))
        with warnings.catch_warnings():
            # Keras warns that γ and β get no gradient: exactly the point here.
            warnings.simplefilter("ignore", UserWarning)
            model.fit(np.tile(x, (150, 1)), batch_size=512, shuffle=False, verbose=0)
        for layer in layers:
            with self.subTest(kind=layer.std_parametrization):
                mean, std = layer.get_statistics()
                assert_close(mean, x.mean(axis=0), atol=0.02, rtol=0.01, what="mean")
                assert_close(std, x.std(axis=0), atol=0.02, rtol=0.02, what="std")
                assert_close(layer.gamma.numpy(), [1, 1], atol=0, rtol=0, what="gamma")
                assert_close(layer.beta.numpy(), [0, 0], atol=0, rtol=0, what="beta")
                # The gauged NLL is about 0 once the Gaussian fits the data.
                self.assertLess(abs(float(layer.nll(x))), 0.01)


class SavingTest(unittest.TestCase):
    def test_keras_file_round_trip_and_config_entries(self) -> None:
        model = small_model("inv")
        model.get_layer("bln_conv").set_statistics([0.1, -0.2, 0.3, 0.0], [1.5, 0.5, 2.0, 1.0])
        x = np.random.default_rng(4).normal(size=(3, 6, 6, 2)).astype(np.float32)
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "small.keras")
            model.save(path)
            with zipfile.ZipFile(path) as archive:
                config = json.loads(archive.read("config.json"))
            entries = [
                l for l in config["config"]["layers"] if l["class_name"] == "BatchlessNormalization"
            ]
            self.assertEqual(len(entries), 2)
            for entry in entries:
                self.assertEqual(entry["module"], "batchless_keras")
                self.assertEqual(entry["registered_name"], "batchless>BatchlessNormalization")
            loaded = keras.saving.load_model(path)
        assert_close(
            loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=0, rtol=0, what="y"
        )
        for a, b in zip(model.weights, loaded.weights):
            self.assertEqual(a.path, b.path)
            assert_close(b.numpy(), a.numpy(), atol=0, rtol=0, what=a.path)
        self.assertEqual(
            loaded.get_layer("bln_head").get_config(), model.get_layer("bln_head").get_config()
        )

    def test_a_fresh_process_loads_it_only_after_importing_the_package(self) -> None:
        model = small_model()
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "small.keras")
            model.save(path)
            script = textwrap.dedent(f"""
                import os, sys
                os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
                sys.path.insert(0, {support.PACKAGE_DIR!r})
                import keras
                try:
                    keras.saving.load_model({path!r})
                    print("loaded without the package")
                except Exception as error:
                    print("refused without the package:", "BatchlessNormalization" in str(error))
                import batchless_keras
                model = keras.saving.load_model({path!r})
                print("loaded:", type(model.get_layer("bln_conv")).__name__)
                """)
            result = subprocess.run(
                [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
            )
        self.assertEqual(result.returncode, 0, result.stderr[-2000:])
        self.assertIn("refused without the package: True", result.stdout)
        self.assertIn("loaded: BatchlessNormalization", result.stdout)


if __name__ == "__main__":
    unittest.main()
