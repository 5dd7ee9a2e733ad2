"""Column statistics of row chunks, and their exact combination across chunks.

Each chunk contributes its row count n, its column means and M2, the sum of
squared deviations from its own means.  Two chunks a and b combine as

    n = n_a + n_b
    delta = mean_b - mean_a
    mean = mean_a + delta n_b / n
    M2 = M2_a + M2_b + delta^2 n_a n_b / n

(Chan, Golub and LeVeque, "Updating formulae and a pairwise algorithm for
computing sample variances", 1979).  The population variance of the whole
column is M2 / n, which is what ``numpy.var`` computes with ``ddof=0``.

A column with a large mean and a small spread (1e6 +- 0.01) would lose
digits in delta, so every mean is stored as a shift (the chunk's first row)
plus the mean of the shifted values: delta = (shift_b - shift_a) +
(offset_b - offset_a), where the difference of two close shifts is exact.
Minimum and maximum are kept too, to recognize constant columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Moments:
    """Count, mean, M2, minimum and maximum of every column of some rows.

    Attributes
    ----------
    count : int
    shift, offset : ndarray of float64, shape (n_columns,)
        The mean is shift + offset, with offset the mean of the values minus shift.
    m2 : ndarray of float64, shape (n_columns,)
        The sum of squared deviations from the mean.
    minimum, maximum : ndarray of float64, shape (n_columns,)
        +inf and -inf when ``count`` is 0.
    """

    count: int
    shift: np.ndarray
    offset: np.ndarray
    m2: np.ndarray
    minimum: np.ndarray
    maximum: np.ndarray

    @property
    def mean(self) -> np.ndarray:
        return self.shift + self.offset

    @property
    def variance(self) -> np.ndarray:
        """The population variance M2 / count (ddof=0) of every column."""
        return self.m2 / self.count


def empty_moments(n_columns: int) -> Moments:
    zeros = np.zeros(n_columns)
    return Moments(0, zeros, zeros, zeros, np.full(n_columns, np.inf), np.full(n_columns, -np.inf))


def column_moments(A: np.ndarray) -> Moments:
    """Compute the moments of the columns of A, (m, n) -> Moments over n columns, in float64."""
    A = np.asarray(A, dtype=np.float64)
    m, n = A.shape
    if m == 0:
        return empty_moments(n)
    shift = A[0].copy()
    shifted = A - shift
    offset = shifted.mean(axis=0)
    deviation = shifted - offset
    m2 = np.einsum("ij,ij->j", deviation, deviation)
    return Moments(m, shift, offset, m2, A.min(axis=0), A.max(axis=0))


def combine_two(a: Moments, b: Moments) -> Moments:
    if a.count == 0:
        return b
    if b.count == 0:
        return a
    count = a.count + b.count
    delta = (b.shift - a.shift) + (b.offset - a.offset)
    offset = a.offset + delta * (b.count / count)
    m2 = a.m2 + b.m2 + delta * delta * (a.count * b.count / count)
    return Moments(count, a.shift, offset, m2, np.minimum(a.minimum, b.minimum), np.maximum(a.maximum, b.maximum))


def combine_moments(parts: Sequence[Moments]) -> Moments:
    """Combine the moments of disjoint row sets into those of their union.

    Pairs are combined level by level, like a pairwise sum, so rounding
    errors grow with the logarithm of the number of chunks.
    """
    if not parts:
        raise ValueError("combine_moments needs at least one part")
    level = list(parts)
    while len(level) > 1:
        paired = [combine_two(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]
