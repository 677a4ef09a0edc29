"""The layer on Keras' JAX backend: same numbers as the reference, fit, save and load.

The layer uses keras.ops only, so it should not care about the backend; this runs the reference
checks under KERAS_BACKEND=jax in a subprocess (a process has one Keras backend), with JAX's
default float32 and with x64 on (the NLL's moments then use float64, as on TensorFlow). Skipped
when JAX is not installed: the provisioned venv has only TensorFlow; `pip install jax` adds it.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import unittest

import support

CHECK = r"""
import json, os, sys, tempfile
import numpy as np
import jax, jax.numpy as jnp
import keras
sys.path.insert(0, os.environ["BATCHLESS_PACKAGE_DIR"])
from batchless_keras import BatchlessNormalization
assert keras.backend.backend() == "jax"
ref_all = json.load(open(os.environ["BATCHLESS_REFERENCE"]))

def close(a, e, what, tol=1e-5):
    a, e = np.asarray(a, np.float64), np.asarray(e, np.float64).reshape(np.shape(a))
    assert np.all(np.abs(a - e) <= tol + tol * np.abs(e)), (what, a, e)

for kind in ("log", "abs", "inv"):
    ref = ref_all[kind]
    layer = BatchlessNormalization(std_parametrization=kind)
    layer.build((None, 3, 3, 2))
    std = np.asarray(ref["std"])
    stored = {"log": np.log(std), "abs": std, "inv": 1 / std}[kind]
    values = (ref["mean"], stored, ref["gamma"], ref["beta"])
    layer.set_weights([np.asarray(v, np.float32) for v in values])
    x = jnp.asarray(ref["input"], jnp.float32)
    w = jnp.asarray(ref["task_weights"], jnp.float32)
    values = [v.value for v in layer.trainable_variables]
    close(layer(x), ref["output"], f"{kind} output")
    close(layer.nll(x), ref["nll_gauged"], f"{kind} nll")

    def task(tv, x):
        y, _ = layer.stateless_call(tv, [], x)
        return jnp.sum(y * w)

    def nll(tv, x):
        _, _, losses = layer.stateless_call(tv, [], x, return_losses=True)
        return losses[0]

    d_mean, d_std, d_gamma, d_beta = jax.grad(task)(values, x)
    assert not np.any(d_mean) and not np.any(d_std), f"{kind}: task loss reached mean/std"
    close(d_gamma, ref["grad_task"]["gamma"], f"{kind} d task/d gamma")
    close(d_beta, ref["grad_task"]["beta"], f"{kind} d task/d beta")
    close(jax.grad(task, argnums=1)(values, x), ref["grad_task"]["input"], f"{kind} d task/d x")
    n_mean, n_std, n_gamma, n_beta = jax.grad(nll)(values, x)
    close(n_mean, ref["grad_nll"]["mean"], f"{kind} d nll/d mean")
    close(n_std, ref["grad_nll"]["std_variable"], f"{kind} d nll/d std")
    assert not np.any(n_gamma) and not np.any(n_beta), f"{kind}: NLL reached gamma/beta"
    assert not np.any(jax.grad(nll, argnums=1)(values, x)), f"{kind}: NLL reached the input"

rng = np.random.default_rng(0)
data = rng.normal([3.0, -1.0], [2.0, 0.5], size=(256, 2)).astype(np.float32)
layer = BatchlessNormalization(name="bln")
model = keras.Sequential([keras.Input((2,)), layer])
model.compile(optimizer=keras.optimizers.Adam(0.1))
model.fit(np.tile(data, (100, 1)), batch_size=256, shuffle=False, verbose=0)
mean, sigma = layer.get_statistics()
close(mean, data.mean(axis=0), "fitted mean", 0.03)
close(sigma, data.std(axis=0), "fitted std", 0.03)
path = os.path.join(tempfile.mkdtemp(), "m.keras")
model.save(path)
loaded = keras.saving.load_model(path)
close(loaded.predict(data[:4], verbose=0), model.predict(data[:4], verbose=0), "reloaded", 0)
print("jax ok", jax.__version__, "x64" if jax.config.read("jax_enable_x64") else "float32")
"""


@unittest.skipIf(importlib.util.find_spec("jax") is None, "JAX is not installed in this Python")
class JaxBackendTest(unittest.TestCase):
    def run_check(self, x64: bool) -> None:
        env = {
            **os.environ,
            "KERAS_BACKEND": "jax",
            "JAX_ENABLE_X64": "1" if x64 else "0",
            "JAX_PLATFORMS": "cpu",
            "BATCHLESS_PACKAGE_DIR": support.PACKAGE_DIR,
            "BATCHLESS_REFERENCE": os.path.join(support.FIXTURES, "layer-reference.json"),
        }
        result = subprocess.run(
            [sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=300, env=env
        )
        self.assertEqual(result.returncode, 0, result.stderr[-3000:])
        self.assertIn("jax ok", result.stdout)

    def test_reference_fit_and_saving_in_float32(self) -> None:
        self.run_check(x64=False)

    def test_reference_fit_and_saving_with_x64(self) -> None:
        self.run_check(x64=True)


if __name__ == "__main__":
    unittest.main()
