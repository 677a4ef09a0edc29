"""python/examples/train_distributed.py end to end: two replicas on logical CPUs, the
no-communication and accumulation checks, a few training steps, save, then a fresh process that
loads the .keras file and trains it again.

The script runs in subprocesses because it must split the CPU into logical devices before
TensorFlow initializes, which this test process has already done.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import unittest

import support

import keras  # noqa: E402

SCRIPT = os.path.join(support.PACKAGE_DIR, "examples", "train_distributed.py")
sys.path.insert(0, os.path.dirname(SCRIPT))
import train_distributed  # noqa: E402


def run_script(*args: str) -> tuple[dict, str]:
    env = {**os.environ, "PYTHONPATH": support.PACKAGE_DIR, "TF_CPP_MIN_LOG_LEVEL": "3"}
    completed = subprocess.run(
        [sys.executable, SCRIPT, *args], capture_output=True, text=True, timeout=300, env=env
    )
    lines = [l for l in completed.stdout.splitlines() if l.startswith("RESULT ")]
    if completed.returncode != 0 or not lines:
        raise AssertionError(
            f"{' '.join(args)} exited {completed.returncode}\n{completed.stdout[-3000:]}\n"
            f"{completed.stderr[-3000:]}"
        )
    return json.loads(lines[-1][len("RESULT ") :]), completed.stdout


class TrainDistributedTest(unittest.TestCase):
    def check_run(self, result: dict, stdout: str, steps: int) -> None:
        self.assertTrue(result["passed"], stdout)
        self.assertEqual(result["replicas"], 2)
        self.assertEqual(len(result["losses"]), steps)
        self.assertTrue(all(math.isfinite(l) for l in result["losses"]), result["losses"])
        for step in range(1, steps + 1):
            self.assertIn(f"step {step:3d}  loss", stdout)
        accumulation = result["accumulation"]
        self.assertLess(accumulation["micro_batch"], accumulation["batch"])
        self.assertTrue(accumulation["passed"], accumulation)
        self.assertLessEqual(accumulation["max_relative_difference"], 1e-5, accumulation)
        self.assertLessEqual(accumulation["float32_max_relative_difference"], 1e-3, accumulation)
        self.assertLessEqual(result["independence"]["max_relative_difference"], 1e-5)
        self.assertEqual(result["independence"]["replica_shard_sizes"], [16, 16])
        # The batchless forward + NLL holds no collective op; the SyncBatchNorm control does.
        self.assertEqual(result["collectives_in_forward"], {})
        self.assertGreater(sum(result["sync_batchnorm_collectives"].values()), 0)
        self.assertLessEqual(result["first_step"]["max_relative_difference"], 1e-5)

    def test_builds_trains_saves_then_reloads_and_trains_again(self) -> None:
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "demo.keras")
            built, stdout = run_script("--steps", "3", "--save", path)
            self.check_run(built, stdout, 3)
            self.assertEqual(built["source"], "built the demo CNN")
            self.assertIn("data-driven init: strata [['bln1'], ['bln2'], ['bln3']]", stdout)
            self.assertTrue(os.path.exists(path))

            loaded, stdout = run_script("--steps", "2", "--model", path)
            self.check_run(loaded, stdout, 2)
            self.assertEqual(loaded["source"], f"loaded {path}")
            self.assertIn("3 batchless layers", stdout)


class AccumulationCheckTest(unittest.TestCase):
    """The script's check itself: it passes for batchless layers and fails for batch norm."""

    def run_check(self, norm: keras.layers.Layer) -> dict:
        keras.utils.set_random_seed(0)
        inputs = keras.Input((6,))
        x = norm(keras.layers.Dense(5)(inputs))
        model = keras.Model(inputs, keras.layers.Dense(3)(keras.layers.ReLU()(x)))
        x, y = train_distributed.synthetic_task((6,), 3, 16, seed=1)
        loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        return train_distributed.check_accumulation(model, loss_fn, x, y, micro_batch=4)

    def test_batchless_layers_accumulate_exactly(self) -> None:
        report = self.run_check(train_distributed.BatchlessNormalization())
        self.assertTrue(report["passed"], report)
        self.assertLess(report["max_relative_difference"], 1e-10, report)

    def test_batch_normalization_does_not(self) -> None:
        # In training BN normalizes each micro-batch with that micro-batch's own statistics.
        report = self.run_check(keras.layers.BatchNormalization())
        self.assertFalse(report["passed"], report)
        self.assertGreater(report["max_relative_difference"], 1e-2, report)


if __name__ == "__main__":
    unittest.main()
