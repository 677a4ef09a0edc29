"""Batchless normalization for Keras 3.

`import batchless_keras` registers `BatchlessNormalization` with Keras' serialization under the
registered name 'batchless>BatchlessNormalization', so `.keras` files that use it (for example
ones written by the Batchless engine's converter) load with `keras.saving.load_model`.
"""

from .init import initialize_from_data, batchless_strata, MIN_INIT_STD
from .layer import BatchlessNormalization, observe_inputs
from .parametrization import STD_PARAMETRIZATIONS, std_from_stored, stored_from_std

__all__ = [
    "BatchlessNormalization",
    "MIN_INIT_STD",
    "STD_PARAMETRIZATIONS",
    "batchless_strata",
    "initialize_from_data",
    "observe_inputs",
    "std_from_stored",
    "stored_from_std",
]

__version__ = "0.1.0"

REGISTERED_NAME = "batchless>BatchlessNormalization"
