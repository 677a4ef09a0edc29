"""The Keras 3 BatchlessNormalization layer.

Same semantics, argument names (in snake_case), variable names and variable order as the
TypeScript engine's `src/engine/layers/batchless-normalization.ts`, so that a model converted by
the engine and written as a `.keras` file trains here on Keras' own `model.fit` and
`tf.distribute` strategies.
"""

from __future__ import annotations

import contextlib
from typing import Any, Callable, Iterator, Sequence

import keras
import numpy as np
from keras import ops

from .parametrization import (
    STD_PARAMETRIZATIONS,
    inv_std,
    log_std,
    std_from_stored,
    stored_from_std,
)

InputObserver = Callable[["BatchlessNormalization", Any], None]
_input_observers: list[InputObserver] = []


@contextlib.contextmanager
def observe_inputs(observer: InputObserver) -> Iterator[None]:
    """Calls `observer(layer, input)` on every BatchlessNormalization call inside the block.

    Data-driven initialization needs each layer's input as the model really computes it (after
    the layers upstream already normalize), including layers inside nested models, which Keras
    offers no public hook for.
    """
    _input_observers.append(observer)
    try:
        yield
    finally:
        _input_observers.remove(observer)


@keras.saving.register_keras_serializable(package="batchless")
class BatchlessNormalization(keras.layers.Layer):
    """Batchless normalization (Berger & Uc Cetina, arXiv 2212.14729).

    Normalizes with a learned Gaussian per channel instead of batch statistics:

        y = (a − sg(μ)) · sg(1/σ) · γ + β           (sg = stop-gradient)

    the same in training and inference, so a replica's output never depends on other instances
    or other replicas: no cross-replica communication, and micro-batch gradients accumulate
    exactly. μ and σ are trained only by the layer's Gaussian NLL, which `call()` registers with
    `add_loss` (so `model.fit` trains them) and which never reaches the activations; the task
    loss reaches only γ, β and upstream weights.

    Args:
        axis: Axis or axes that keep their own statistics, like BatchNormalization's `axis`.
        epsilon: ε for the 'abs' and 'inv' parametrizations.
        std_parametrization: How σ is stored in the `std` variable: 'log' (log σ), 'abs' (σ,
            used as |s| + ε) or 'inv' (1/σ).
        gauge: Report the NLL shifted by −(sg(mean log σ) + 0.5) so it averages 0 on matching
            data; the gradient is unchanged.
        center: Learn an output shift β (variable `beta`).
        scale: Learn an output scale γ (variable `gamma`).
        initial_mean: Initial μ for every channel.
        initial_std: Initial σ for every channel (> 0).
    """

    def __init__(
        self,
        axis: int | Sequence[int] = -1,
        epsilon: float = 1e-5,
        std_parametrization: str = "log",
        gauge: bool = True,
        center: bool = True,
        scale: bool = True,
        initial_mean: float = 0.0,
        initial_std: float = 1.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True
        axes = [axis] if isinstance(axis, (int, np.integer)) else axis
        if (
            not isinstance(axes, (list, tuple))
            or not axes
            or any(isinstance(a, bool) or not isinstance(a, (int, np.integer)) for a in axes)
        ):
            raise ValueError(
                "BatchlessNormalization: axis must be an integer or a non-empty list of "
                f"integers, got {axis!r}"
            )
        if not _finite(epsilon) or epsilon < 0:
            raise ValueError(
                f"BatchlessNormalization: epsilon must be a finite number >= 0, got {epsilon!r}"
            )
        if std_parametrization not in STD_PARAMETRIZATIONS:
            raise ValueError(
                "BatchlessNormalization: std_parametrization must be one of "
                f"{', '.join(STD_PARAMETRIZATIONS)}, got {std_parametrization!r}"
            )
        if not _finite(initial_mean):
            raise ValueError(
                f"BatchlessNormalization: initial_mean must be finite, got {initial_mean!r}"
            )
        if not _finite(initial_std) or initial_std <= 0:
            raise ValueError(
                "BatchlessNormalization: initial_std must be a finite number > 0, "
                f"got {initial_std!r}"
            )
        self.axis: list[int] = [int(a) for a in axes]  # type: ignore[union-attr]
        self.epsilon = float(epsilon)
        self.std_parametrization = std_parametrization
        self.gauge = bool(gauge)
        self.center = bool(center)
        self.scale = bool(scale)
        self.initial_mean = float(initial_mean)
        self.initial_std = float(initial_std)
        self._stat_axes: list[int] = []
        self._input_rank = 0
        self.mean: keras.Variable | None = None
        self.std: keras.Variable | None = None
        self.gamma: keras.Variable | None = None
        self.beta: keras.Variable | None = None

    def build(self, input_shape: Sequence[int | None]) -> None:
        shape = tuple(input_shape)
        rank = len(shape)
        axes = [a + rank if a < 0 else a for a in self.axis]
        if any(a < 1 or a >= rank for a in axes) or len(set(axes)) != len(axes):
            raise ValueError(
                f"BatchlessNormalization: axis {self.axis!r} does not fit an input of shape "
                f"{shape!r} (axis 0 is the batch)"
            )
        stat_shape = []
        for a in axes:
            if shape[a] is None:
                raise ValueError(
                    f"BatchlessNormalization: axis {a} of input shape {shape!r} must be known"
                )
            stat_shape.append(int(shape[a]))
        self._stat_axes = axes
        self._input_rank = rank
        stored = stored_from_std(self.initial_std, self.std_parametrization, self.epsilon)
        # Names and order (mean, std, gamma, beta) are part of the format: the engine's converter
        # and .keras weight files rely on them. μ and σ are statistics, kept in float32 even
        # under a mixed-precision policy (autocast off); the forward casts them to the input.
        self.mean = self.add_weight(
            name="mean",
            shape=tuple(stat_shape),
            initializer=keras.initializers.Constant(self.initial_mean),
            autocast=False,
        )
        self.std = self.add_weight(
            name="std",
            shape=tuple(stat_shape),
            initializer=keras.initializers.Constant(stored),
            autocast=False,
        )
        self.gamma = (
            self.add_weight(name="gamma", shape=tuple(stat_shape), initializer="ones")
            if self.scale
            else None
        )
        self.beta = (
            self.add_weight(name="beta", shape=tuple(stat_shape), initializer="zeros")
            if self.center
            else None
        )

    def call(self, inputs, training: bool | None = None, mask=None):
        # `training` is accepted and ignored on purpose: the layer computes the same thing in
        # training and inference. The NLL is registered in both, so evaluate() reports it too.
        # `mask` is accepted like BatchNormalization's (a converted model's graph keeps BN's
        # call arguments, {"mask": null}); a mask passes through and does not change the result.
        for observer in list(_input_observers):
            observer(self, inputs)
        shape = self._broadcast_shape(len(inputs.shape))
        dtype = inputs.dtype
        mean = ops.cast(ops.stop_gradient(ops.reshape(self.mean, shape)), dtype)
        factor = ops.stop_gradient(inv_std(self.std, self.std_parametrization, self.epsilon))
        factor = ops.cast(factor, dtype)
        # γ/σ first: a [C]-sized multiply instead of a full-size one.
        if self.gamma is not None:
            factor = ops.multiply(factor, ops.cast(self.gamma, dtype))
        outputs = ops.multiply(ops.subtract(inputs, mean), ops.reshape(factor, shape))
        if self.beta is not None:
            outputs = ops.add(outputs, ops.reshape(ops.cast(self.beta, dtype), shape))
        self.add_loss(self.nll(inputs))
        return outputs

    def nll(self, inputs):
        """The layer's Gaussian NLL for an input batch, averaged over its elements.

        The 0.5·log 2π constant is left out; with `gauge` the value is shifted by
        −(sg(mean log σ) + 0.5), which centres it on 0 without changing the gradient. The input
        is a constant here (stop-gradient), so the gradient reaches only `mean` and `std`.

        The input enters only through its per-channel mean and biased variance:
        mean(((a − μ)/σ)²) = mean_c((v_c + (m_c − μ_c)²) / σ_c²). Same value and gradient as the
        element-wise form, but the part that depends on μ and σ is [C]-sized. Once μ and σ fit
        the data, m − μ and 1 − v/σ² are small differences of large numbers, so the moments are
        taken about sg(μ) and in float64 where the backend has it: in float32 the gradient of a
        batch and the weighted mean of its micro-batch gradients drifted apart by up to 1e-4
        (relative), in float64 by about 1e-7. The result has the variables' dtype (float32 unless
        the dtype policy is float64), which is what Keras adds losses in.
        """
        self._require_built()
        shape = self._broadcast_shape(len(inputs.shape))
        dtype = _statistics_dtype()
        axes = tuple(i for i in range(len(inputs.shape)) if i not in self._stat_axes)
        stored = ops.cast(self.std, dtype)
        mean = ops.reshape(ops.cast(self.mean, dtype), shape)
        centred = ops.subtract(ops.cast(ops.stop_gradient(inputs), dtype), ops.stop_gradient(mean))
        offset = ops.mean(centred, axis=axes, keepdims=True)  # m − μ, as a constant
        v = ops.mean(ops.square(ops.subtract(centred, offset)), axis=axes, keepdims=True)
        # Equals m − μ in value; its gradient with respect to μ is −1.
        difference = ops.add(offset, ops.subtract(ops.stop_gradient(mean), mean))
        inv = ops.reshape(inv_std(stored, self.std_parametrization, self.epsilon), shape)
        mean_square = ops.mean(ops.multiply(ops.add(v, ops.square(difference)), ops.square(inv)))
        mean_log_std = ops.mean(log_std(stored, self.std_parametrization, self.epsilon))
        half_mean_square = ops.multiply(mean_square, 0.5)
        if not self.gauge:
            return ops.cast(ops.add(mean_log_std, half_mean_square), self.variable_dtype)
        gauged_log = ops.subtract(mean_log_std, ops.stop_gradient(mean_log_std))
        return ops.cast(
            ops.subtract(ops.add(gauged_log, half_mean_square), 0.5), self.variable_dtype
        )

    def statistics_variables(self) -> list[keras.Variable]:
        """μ and σ: the variables only the NLL trains."""
        self._require_built()
        return [self.mean, self.std]

    def get_statistics(self) -> tuple[np.ndarray, np.ndarray]:
        """Learned μ and σ (decoded from its parametrization) as float64 host arrays."""
        self._require_built()
        mean = np.asarray(ops.convert_to_numpy(self.mean), dtype=np.float64)
        stored = np.asarray(ops.convert_to_numpy(self.std), dtype=np.float64)
        decode = np.vectorize(
            lambda s: std_from_stored(float(s), self.std_parametrization, self.epsilon)
        )
        return mean, decode(stored).astype(np.float64).reshape(stored.shape)

    def set_statistics(self, mean: Any, std: Any) -> None:
        """Sets μ and σ (σ encoded into this layer's parametrization); sizes must match."""
        self._require_built()
        shape = tuple(self.mean.shape)
        size = int(np.prod(shape))
        mean_array = np.asarray(mean, dtype=np.float64).reshape(-1)
        std_array = np.asarray(std, dtype=np.float64).reshape(-1)
        if mean_array.size != size or std_array.size != size:
            raise ValueError(
                f"{self.name}: expected {size} statistics per variable, got mean "
                f"{mean_array.size} and std {std_array.size}"
            )
        for i, s in enumerate(std_array):
            if not (np.isfinite(s) and s > 0):
                raise ValueError(f"{self.name}: std[{i}] must be a finite number > 0, got {s}")
        stored = [
            stored_from_std(float(s), self.std_parametrization, self.epsilon) for s in std_array
        ]
        self.mean.assign(mean_array.reshape(shape).astype(np.float32))
        self.std.assign(np.asarray(stored, dtype=np.float32).reshape(shape))

    def statistics_axes(self) -> list[int]:
        """The resolved axes that keep their own statistics (e.g. [3] for NHWC)."""
        return list(self._stat_axes)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict[str, Any]:
        config = {
            "axis": self.axis[0] if len(self.axis) == 1 else list(self.axis),
            "epsilon": self.epsilon,
            "std_parametrization": self.std_parametrization,
            "gauge": self.gauge,
            "center": self.center,
            "scale": self.scale,
            "initial_mean": self.initial_mean,
            "initial_std": self.initial_std,
        }
        return {**super().get_config(), **config}

    def _broadcast_shape(self, rank: int) -> list[int]:
        if rank != self._input_rank:
            raise ValueError(
                f"{self.name}: built for inputs of rank {self._input_rank}, got rank {rank}"
            )
        shape = [1] * rank
        for axis, dim in zip(self._stat_axes, self.mean.shape):
            shape[axis] = int(dim)
        return shape

    def _require_built(self) -> None:
        if not self.built:
            raise ValueError(f"{self.name}: the layer is not built yet")


# The public import path, so a saved config's "module" names the package users import; loading
# resolves the class by its registered name 'batchless>BatchlessNormalization'.
BatchlessNormalization.__module__ = "batchless_keras"


def _statistics_dtype() -> str:
    """float64 for the NLL's moments, except on JAX without x64 (where it would be float32)."""
    if keras.backend.backend() == "jax":
        import jax

        return "float64" if jax.config.read("jax_enable_x64") else "float32"
    return "float64"


def _finite(value: Any) -> bool:
    try:
        return bool(np.isfinite(float(value)))
    except (TypeError, ValueError):
        return False
