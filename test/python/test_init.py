"""Data-driven initialization by strata (method.md, "Initialization"; the engine's data-init.ts).

After it, every layer's μ and σ are the per-channel mean and biased std of the input that layer
receives with all layers upstream already initialized, so each layer's output is standardized on
the sample. Strata only decide how many forward passes that takes, never the result.
"""

from __future__ import annotations

import unittest

import support
from support import assert_close

import keras  # noqa: E402
import numpy as np  # noqa: E402

from batchless_keras import (  # noqa: E402
    MIN_INIT_STD,
    BatchlessNormalization,
    batchless_strata,
    initialize_from_data,
)
from batchless_keras.layer import observe_inputs  # noqa: E402


def branching_model() -> keras.Model:
    # a and b sit on parallel branches (stratum 0); c depends on both (stratum 1).
    inputs = keras.Input((5,), name="features")
    left = BatchlessNormalization(name="a")(keras.layers.Dense(4, name="left")(inputs))
    right = BatchlessNormalization(std_parametrization="abs", name="b")(
        keras.layers.Dense(4, name="right")(inputs)
    )
    merged = keras.layers.Add(name="add")([left, right])
    merged = BatchlessNormalization(std_parametrization="inv", name="c")(
        keras.layers.Dense(3, activation="relu", name="mix")(merged)
    )
    return keras.Model(inputs, keras.layers.Dense(2, name="head")(merged))


def inputs_seen(model: keras.Model, x: np.ndarray) -> dict[str, np.ndarray]:
    seen: dict[str, np.ndarray] = {}
    with observe_inputs(lambda layer, a: seen.__setitem__(layer.name, np.asarray(a))):
        model(x, training=False)
    return seen


def sample(size: int = 300, features: int = 5, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(2.0, 3.0, size=(size, features)).astype(np.float32)


class StrataTest(unittest.TestCase):
    def test_parallel_layers_share_a_stratum(self) -> None:
        model = branching_model()
        layers = [model.get_layer(n) for n in ("a", "b", "c")]
        strata = batchless_strata(model, layers)
        self.assertEqual([[l.name for l in s] for s in strata], [["a", "b"], ["c"]])

    def test_sequential_and_nested_models_fall_back_to_one_layer_per_stratum(self) -> None:
        sequential = keras.Sequential(
            [
                keras.Input((3,)),
                BatchlessNormalization(name="s1"),
                BatchlessNormalization(name="s2"),
            ]
        )
        layers = [sequential.get_layer("s1"), sequential.get_layer("s2")]
        self.assertEqual(batchless_strata(sequential, layers), [[layers[0]], [layers[1]]])
        inputs = keras.Input((3,))
        outer = keras.Model(inputs, BatchlessNormalization(name="after")(sequential(inputs)))
        inner = [sequential.get_layer("s1"), sequential.get_layer("s2"), outer.get_layer("after")]
        self.assertEqual(len(batchless_strata(outer, inner)), 3)


class InitializeTest(unittest.TestCase):
    def check_standardized(self, model: keras.Model, x: np.ndarray, names: list[str]) -> None:
        seen = inputs_seen(model, x)
        for name in names:
            layer = _find(model, name)
            a = seen[name].astype(np.float64)
            mean, std = layer.get_statistics()
            assert_close(mean, a.mean(axis=0), atol=1e-5, rtol=1e-5, what=f"{name} mean")
            assert_close(std, a.std(axis=0), atol=1e-5, rtol=1e-5, what=f"{name} std")

    def test_every_layer_gets_the_statistics_of_its_own_input(self) -> None:
        model = branching_model()
        x = sample()
        result = initialize_from_data(model, x, batch_size=64)
        self.assertEqual(result.samples, 300)
        self.assertEqual(result.strata, [["a", "b"], ["c"]])
        self.check_standardized(model, x, ["a", "b", "c"])

    def test_chunking_does_not_change_the_result(self) -> None:
        x = sample(seed=1)
        first, second = branching_model(), branching_model()
        second.set_weights(first.get_weights())
        initialize_from_data(first, x, batch_size=300)
        initialize_from_data(second, x, batch_size=70)  # the last chunk is short
        for a, b in zip(first.weights, second.weights):
            assert_close(b.numpy(), a.numpy(), atol=1e-6, rtol=1e-5, what=a.path)

    def test_nested_model_layers_are_initialized_in_order(self) -> None:
        block = keras.Sequential(
            [
                keras.Input((4,)),
                keras.layers.Dense(4, name="inner_dense"),
                BatchlessNormalization(name="inner_bln"),
                keras.layers.Dense(4, name="inner_dense2"),
                BatchlessNormalization(name="inner_bln2"),
            ],
            name="block",
        )
        inputs = keras.Input((5,))
        x = keras.layers.Dense(4, name="stem")(inputs)
        x = BatchlessNormalization(name="stem_bln")(x)
        outputs = BatchlessNormalization(name="after")(block(x) * 3.0 + 1.0)
        model = keras.Model(inputs, outputs)
        x = sample(seed=2)
        result = initialize_from_data(model, x)
        self.assertEqual(len(result.strata), 4)
        seen = inputs_seen(model, x)
        for name in ["stem_bln", "inner_bln", "inner_bln2", "after"]:
            layer = _find(model, name)
            a = seen[name].astype(np.float64)
            mean, std = layer.get_statistics()
            assert_close(mean, a.mean(axis=0), atol=1e-5, rtol=1e-5, what=f"{name} mean")
            assert_close(std, a.std(axis=0), atol=1e-5, rtol=1e-5, what=f"{name} std")

    def test_convolutional_statistics_are_per_channel(self) -> None:
        model = keras.Sequential(
            [keras.Input((6, 6, 2)), keras.layers.Conv2D(3, 3), BatchlessNormalization(name="bln")]
        )
        x = np.random.default_rng(3).normal(1.0, 2.0, size=(20, 6, 6, 2)).astype(np.float32)
        initialize_from_data(model, x, batch_size=6)
        a = inputs_seen(model, x)["bln"].astype(np.float64)
        mean, std = model.get_layer("bln").get_statistics()
        assert_close(mean, a.mean(axis=(0, 1, 2)), atol=1e-5, rtol=1e-5, what="mean")
        assert_close(std, a.std(axis=(0, 1, 2)), atol=1e-5, rtol=1e-5, what="std")

    def test_constant_channels_are_floored(self) -> None:
        inputs = keras.Input((3,))
        dead = keras.layers.Dense(
            3, activation="relu", kernel_initializer="zeros", bias_initializer="zeros"
        )
        model = keras.Model(inputs, BatchlessNormalization(name="bln")(dead(inputs)))
        result = initialize_from_data(model, sample(features=3))
        self.assertEqual(result.floored_channels, {"bln": 3})
        _, std = model.get_layer("bln").get_statistics()
        assert_close(std, [MIN_INIT_STD] * 3, atol=0, rtol=1e-6, what="std")

    def test_bad_arguments(self) -> None:
        model = branching_model()
        with self.assertRaisesRegex(ValueError, "batch_size must be >= 1, got 0"):
            initialize_from_data(model, sample(), batch_size=0)
        with self.assertRaisesRegex(ValueError, "the sample is empty"):
            initialize_from_data(model, sample()[:0])


def _find(model: keras.Model, name: str) -> BatchlessNormalization:
    for layer in model._flatten_layers(include_self=False):
        if layer.name == name and isinstance(layer, BatchlessNormalization):
            return layer
    raise KeyError(name)


if __name__ == "__main__":
    unittest.main()
