"""Data-driven initialization of BatchlessNormalization layers, stratum by stratum.

With the defaults μ = 0, σ = 1 a short training run barely moves the statistics (about one
learning rate per step), so the layer behaves almost like no normalization. Setting μ and σ from
a data sample instead (the reference code's `init_bln`) makes every layer normalize from the
first step. Mirrors the engine's `src/engine/train/data-init.ts` and `strata.ts`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import keras
import numpy as np
from keras import ops

from .layer import BatchlessNormalization, observe_inputs

MIN_INIT_STD = 1e-4
"""σ below this would make 1/σ explode on channels that are constant in the sample (dead ReLUs)."""


@dataclass
class DataInitResult:
    """What `initialize_from_data` did: sample size, layer names per stratum, floored channels."""

    samples: int
    strata: list[list[str]]
    floored_channels: dict[str, int] = field(default_factory=dict)


def batchless_strata(
    model: keras.Model, layers: Sequence[BatchlessNormalization]
) -> list[list[BatchlessNormalization]]:
    """Orders batchless layers in strata: a layer comes after every batchless layer it depends on.

    Layers in one stratum are independent and share a forward pass. `layers` must be in a
    topological order (the order they run in). Dependencies are read from the functional graph;
    where that graph does not show them all (Sequential models, nested models that hold batchless
    layers, a batchless layer called more than once), the always-correct fallback is one layer
    per stratum in the given order.
    """
    layers = list(layers)
    if not layers:
        return []
    depths = _graph_depths(model, layers)
    if depths is None:
        return [[layer] for layer in layers]
    strata: dict[int, list[BatchlessNormalization]] = {}
    for layer in layers:
        strata.setdefault(depths[id(layer)], []).append(layer)
    return [strata[d] for d in sorted(strata)]


def initialize_from_data(model: keras.Model, x: Any, batch_size: int = 256) -> DataInitResult:
    """Sets every batchless layer's μ and σ to the per-channel mean and biased std of its input.

    Runs `x` (an array, or a list/dict of arrays for multi-input models) through the model in
    inference mode, once per stratum, in chunks of `batch_size`; each stratum sees inputs already
    normalized by the strata before it. σ is floored at MIN_INIT_STD.
    """
    if batch_size < 1:
        raise ValueError(f"initialize_from_data: batch_size must be >= 1, got {batch_size!r}")
    samples = _sample_count(x)
    if samples == 0:
        raise ValueError("initialize_from_data: the sample is empty")
    order: list[BatchlessNormalization] = []

    def record(layer: BatchlessNormalization, _input: Any) -> None:
        if all(layer is not seen for seen in order):
            order.append(layer)

    # One instance is enough to learn the order the layers run in.
    with observe_inputs(record):
        model(_slice(x, 0, 1), training=False)
    missing = [
        layer.name
        for layer in model._flatten_layers(include_self=False)
        if isinstance(layer, BatchlessNormalization) and all(layer is not o for o in order)
    ]
    if missing:
        raise ValueError(
            f"initialize_from_data: layers {missing} were never reached by the model's forward pass"
        )

    strata = batchless_strata(model, order)
    floored: dict[str, int] = {}
    for stratum in strata:
        moments = {id(layer): _RunningMoments() for layer in stratum}

        def measure(layer: BatchlessNormalization, inputs: Any) -> None:
            running = moments.get(id(layer))
            if running is None:
                return
            a = np.asarray(ops.convert_to_numpy(inputs), dtype=np.float64)
            keep = layer.statistics_axes()
            axes = tuple(i for i in range(a.ndim) if i not in keep)
            running.add(
                a.mean(axis=axes), a.var(axis=axes), int(np.prod([a.shape[i] for i in axes]))
            )

        with observe_inputs(measure):
            for start in range(0, samples, batch_size):
                model(_slice(x, start, min(start + batch_size, samples)), training=False)
        for layer in stratum:
            mean, variance = moments[id(layer)].result(layer.name)
            std = np.sqrt(np.maximum(variance, 0.0))
            low = std < MIN_INIT_STD
            if low.any():
                floored[layer.name] = int(low.sum())
            layer.set_statistics(mean, np.where(low, MIN_INIT_STD, std))
    return DataInitResult(samples, [[layer.name for layer in s] for s in strata], floored)


def _graph_depths(
    model: keras.Model, layers: Sequence[BatchlessNormalization]
) -> dict[int, int] | None:
    """Stratum index per layer id from the functional graph, or None where it cannot be trusted."""
    if isinstance(model, keras.Sequential) or not hasattr(model, "_nodes_by_depth"):
        return None
    for operation in model.operations:
        if isinstance(operation, keras.Model) and any(
            isinstance(inner, BatchlessNormalization)
            for inner in operation._flatten_layers(include_self=False)
        ):
            return None  # edges inside a nested model stop at its own inputs
    targets = {id(layer) for layer in layers}
    node_depth: dict[int, int] = {}
    stratum: dict[int, int] = {}
    calls: dict[int, int] = {}

    # Depth of the deepest batchless call at or above `node` (0 when there is none).
    def depth_of(node: Any) -> int:
        known = node_depth.get(id(node))
        if known is not None:
            return known
        deepest = max((depth_of(parent) for parent in node.parent_nodes), default=0)
        if id(node.operation) in targets:
            calls[id(node.operation)] = calls.get(id(node.operation), 0) + 1
            stratum[id(node.operation)] = deepest
            deepest += 1
        node_depth[id(node)] = deepest
        return deepest

    for output in model.outputs:
        history = output._keras_history
        if history.operation is not None:
            depth_of(history.operation._inbound_nodes[history.node_index])
    # A layer called twice could sit in two strata at once: fall back rather than guess.
    if any(calls.get(id(layer), 0) != 1 for layer in layers):
        return None
    return stratum


def _sample_count(x: Any) -> int:
    if isinstance(x, dict):
        return _sample_count(next(iter(x.values())))
    if isinstance(x, (list, tuple)):
        return _sample_count(x[0])
    return int(np.shape(x)[0])


def _slice(x: Any, start: int, end: int) -> Any:
    if isinstance(x, dict):
        return {key: _slice(value, start, end) for key, value in x.items()}
    if isinstance(x, (list, tuple)):
        return [_slice(value, start, end) for value in x]
    return np.asarray(x[start:end], dtype=np.float32)


class _RunningMoments:
    """Combines per-chunk means and variances exactly (Chan et al.), in float64."""

    def __init__(self) -> None:
        self.count = 0
        self.mean: np.ndarray | None = None
        self.m2: np.ndarray | None = None

    def add(self, mean: np.ndarray, variance: np.ndarray, count: int) -> None:
        if self.mean is None or self.m2 is None:
            self.mean, self.m2, self.count = mean.copy(), variance * count, count
            return
        total = self.count + count
        delta = mean - self.mean
        self.mean = self.mean + delta * count / total
        self.m2 = self.m2 + variance * count + delta * delta * self.count * count / total
        self.count = total

    def result(self, layer_name: str) -> tuple[np.ndarray, np.ndarray]:
        if self.mean is None or self.m2 is None:
            raise ValueError(
                f"initialize_from_data: layer '{layer_name}' was never reached by the sample"
            )
        return self.mean, self.m2 / self.count
