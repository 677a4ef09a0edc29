"""The Keras layer against the authors' own Keras layer.

Reference: test/fixtures/layer-reference.json, copied from ../shared/fixtures/layer-reference.json
(the reference code's batchless_normalization.py, github.com/ichteltelch/Batchless, run under
TensorFlow 2.21 / Keras 3; task loss = sum(output * task_weights); the stored variable set
directly from 'std' as log σ, σ or 1/σ). The TypeScript engine's test/unit/layer-reference.test.ts
checks the same numbers, so both implementations agree with the reference and with each other.
"""

from __future__ import annotations

import json
import os
import unittest

import support
from support import assert_close

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from batchless_keras import BatchlessNormalization  # noqa: E402

with open(os.path.join(support.FIXTURES, "layer-reference.json"), encoding="utf-8") as f:
    REFERENCE = json.load(f)

TOL = {"atol": 1e-5, "rtol": 1e-5}


def layer_for(kind: str) -> tuple[BatchlessNormalization, dict]:
    ref = REFERENCE[kind]
    layer = BatchlessNormalization(std_parametrization=kind)
    layer.build((None, 3, 3, 2))
    std = np.asarray(ref["std"], dtype=np.float64)
    stored = {"log": np.log(std), "abs": std, "inv": 1.0 / std}[kind]
    layer.set_weights(
        [np.asarray(v, dtype=np.float32) for v in (ref["mean"], stored, ref["gamma"], ref["beta"])]
    )
    return layer, ref


def flat(values) -> np.ndarray:
    """The reference's [1,1,1,C] gradients as [C]."""
    return np.asarray(values, dtype=np.float64).reshape(-1)


class ReferenceMixin:
    kind = "log"

    def test_forward_output(self) -> None:
        layer, ref = layer_for(self.kind)
        y = layer(tf.constant(ref["input"], tf.float32))
        assert_close(y, ref["output"], what="output", **TOL)

    def test_gauged_nll(self) -> None:
        layer, ref = layer_for(self.kind)
        nll = layer.nll(tf.constant(ref["input"], tf.float32))
        assert_close(nll, ref["nll_gauged"], what="nll", **TOL)

    def test_call_registers_the_gauged_nll(self) -> None:
        layer, ref = layer_for(self.kind)
        layer(tf.constant(ref["input"], tf.float32))
        self.assertEqual(len(layer.losses), 1)
        assert_close(layer.losses[0], ref["nll_gauged"], what="added loss", **TOL)

    def test_task_gradients_reach_gamma_beta_input_never_mean_std(self) -> None:
        layer, ref = layer_for(self.kind)
        x = tf.constant(ref["input"], tf.float32)
        task_weights = tf.constant(ref["task_weights"], tf.float32)
        with tf.GradientTape() as tape:
            tape.watch(x)
            task = tf.reduce_sum(layer(x) * task_weights)
        variables = [layer.mean, layer.std, layer.gamma, layer.beta]
        self.assertEqual([v.name for v in layer.weights], ["mean", "std", "gamma", "beta"])
        d_mean, d_std, d_gamma, d_beta, d_x = tape.gradient(
            task, [v.value for v in variables] + [x]
        )
        self.assertIsNone(ref["grad_task"]["mean"])
        self.assertIsNone(ref["grad_task"]["std_variable"])
        # The stop-gradient cuts μ and σ off the task loss: no gradient at all, not even zeros.
        self.assertIsNone(d_mean, "task loss reached mean")
        self.assertIsNone(d_std, "task loss reached std")
        assert_close(d_gamma, flat(ref["grad_task"]["gamma"]), what="d task/d gamma", **TOL)
        assert_close(d_beta, flat(ref["grad_task"]["beta"]), what="d task/d beta", **TOL)
        assert_close(d_x, ref["grad_task"]["input"], what="d task/d input", **TOL)

    def test_nll_gradients_reach_mean_std_never_gamma_beta_input(self) -> None:
        layer, ref = layer_for(self.kind)
        x = tf.constant(ref["input"], tf.float32)
        with tf.GradientTape() as tape:
            tape.watch(x)
            nll = layer.nll(x)
        variables = [layer.mean, layer.std, layer.gamma, layer.beta]
        d_mean, d_std, d_gamma, d_beta, d_x = tape.gradient(nll, [v.value for v in variables] + [x])
        assert_close(d_mean, flat(ref["grad_nll"]["mean"]), what="d nll/d mean", **TOL)
        assert_close(d_std, flat(ref["grad_nll"]["std_variable"]), what="d nll/d std", **TOL)
        self.assertEqual(flat(ref["grad_nll"]["gamma"]).tolist(), [0, 0])
        self.assertEqual(flat(ref["grad_nll"]["beta"]).tolist(), [0, 0])
        self.assertTrue(np.all(np.asarray(ref["grad_nll"]["input"]) == 0))
        self.assertIsNone(d_gamma, "NLL reached gamma")
        self.assertIsNone(d_beta, "NLL reached beta")
        self.assertIsNone(d_x, "NLL reached the input")

    def test_elementwise_nll_form_agrees(self) -> None:
        # The moments form used by the layer equals the definition element by element.
        layer, ref = layer_for(self.kind)
        a = np.asarray(ref["input"], dtype=np.float64)
        mean, std = layer.get_statistics()
        expected = 0.5 * np.mean(((a - mean) / std) ** 2) - 0.5
        assert_close(layer.nll(tf.constant(a, tf.float32)), expected, what="nll", **TOL)


class LogReferenceTest(ReferenceMixin, unittest.TestCase):
    kind = "log"


class AbsReferenceTest(ReferenceMixin, unittest.TestCase):
    kind = "abs"


class InvReferenceTest(ReferenceMixin, unittest.TestCase):
    kind = "inv"


if __name__ == "__main__":
    unittest.main()
