"""Mini-batch order and the held-out validation split."""

from __future__ import annotations

import functools
import math

import numpy as np


def epoch_order(n_samples: int, batch_size: int, shuffle: bool, rng: np.random.Generator) -> np.ndarray | None:
    """Return this epoch's row order, or None to keep the stored order.

    A shuffled epoch draws one permutation from ``rng``.  Nothing is drawn
    when one batch contains every row, because the order of the rows in a
    single batch changes nothing but rounding.
    """
    if not shuffle or batch_size >= n_samples:
        return None
    return rng.permutation(n_samples)


@functools.lru_cache(maxsize=16)
def batch_slices(n_samples: int, batch_size: int) -> tuple[slice, ...]:
    """Return consecutive slices of ``batch_size`` rows; the last one may be shorter.

    The result is cached, because every epoch of a fit call uses the same slices.
    """
    return tuple(slice(start, min(start + batch_size, n_samples)) for start in range(0, n_samples, batch_size))


def validation_split(n_samples: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Split row indices into training and validation rows, reproducibly from ``seed``.

    The validation set has ceil(fraction * n_samples) rows, chosen by a
    permutation from a generator of its own, so the split does not touch the
    network's generator and is the same on every call with the same seed.
    Both index arrays are sorted, so the rows keep their original order.

    Returns
    -------
    train_rows, validation_rows : ndarray of int
    """
    n_validation = math.ceil(fraction * n_samples)
    permutation = np.random.default_rng(seed).permutation(n_samples)
    return np.sort(permutation[n_validation:]), np.sort(permutation[:n_validation])
