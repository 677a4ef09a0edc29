"""How σ is stored in a BatchlessNormalization layer's `std` variable.

Mirrors the TypeScript engine's `std-parametrization.ts` value for value, so a model converted by
the engine computes the same function in Keras:

- 'log': s = log σ, 1/σ = exp(−s), no epsilon (σ is positive by construction);
- 'abs': s = σ, σ = |s| + ε (the ε keeps 1/σ finite when s crosses zero);
- 'inv': p = 1/σ, the forward multiplies by p directly, and log σ = −log(|p| + ε).
"""

from __future__ import annotations

import math
from typing import Literal

from keras import ops

StdParametrization = Literal["log", "abs", "inv"]

STD_PARAMETRIZATIONS: tuple[str, ...] = ("log", "abs", "inv")


def stored_from_std(std: float, kind: str, epsilon: float) -> float:
    """The value to store so that the layer's σ is exactly `std`.

    For 'abs' the ε is taken back out; a σ at or below ε is stored as 0, the smallest σ that
    parametrization can represent.
    """
    if kind == "log":
        return math.log(std)
    if kind == "abs":
        return max(std - epsilon, 0.0)
    if kind == "inv":
        return 1.0 / std
    raise ValueError(f"unknown std_parametrization {kind!r}")


def std_from_stored(stored: float, kind: str, epsilon: float) -> float:
    """σ as the layer sees it, from a stored value (host side, for reports and conversion)."""
    if kind == "log":
        return math.exp(stored)
    if kind == "abs":
        return abs(stored) + epsilon
    if kind == "inv":
        return 1.0 / stored
    raise ValueError(f"unknown std_parametrization {kind!r}")


def inv_std(stored, kind: str, epsilon: float):
    """1/σ, the factor the forward pass multiplies by."""
    if kind == "log":
        return ops.exp(ops.negative(stored))
    if kind == "abs":
        return ops.reciprocal(ops.add(ops.abs(stored), epsilon))
    if kind == "inv":
        return stored
    raise ValueError(f"unknown std_parametrization {kind!r}")


def log_std(stored, kind: str, epsilon: float):
    """log σ, the first term of the NLL."""
    if kind == "log":
        return stored
    if kind == "abs":
        return ops.log(ops.add(ops.abs(stored), epsilon))
    if kind == "inv":
        return ops.negative(ops.log(ops.add(ops.abs(stored), epsilon)))
    raise ValueError(f"unknown std_parametrization {kind!r}")
