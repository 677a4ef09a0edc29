"""Shared set-up for the Python tests: quiet TensorFlow, import the package from this tree.

The tests import `batchless_keras` from `<repo>/python`, not from site-packages, so they always
check the working tree (an installed copy could be stale).
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PACKAGE_DIR = os.path.join(REPO, "python")
FIXTURES = os.path.join(REPO, "test", "fixtures")
if PACKAGE_DIR not in sys.path:
    sys.path.insert(0, PACKAGE_DIR)

import numpy as np  # noqa: E402


def assert_close(actual, expected, atol: float = 1e-5, rtol: float = 1e-5, what: str = "") -> None:
    """Shape and values within atol + rtol·|expected|, naming the first element that is not."""
    a = np.asarray(_to_numpy(actual), dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    if a.shape != e.shape:
        raise AssertionError(f"{what}: shape {a.shape} != expected {e.shape}")
    bad = np.abs(a - e) > atol + rtol * np.abs(e)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise AssertionError(
            f"{what}: {int(bad.sum())} of {a.size} values differ; first at {index}: "
            f"{a[index]!r} != {e[index]!r}"
        )


def _to_numpy(value):
    # Backend tensors convert through their own method (np.asarray on them warns under NumPy 2).
    return value.numpy() if hasattr(value, "numpy") else value
