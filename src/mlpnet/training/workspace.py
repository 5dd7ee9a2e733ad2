"""Preallocated buffers for training steps, so a step allocates no large arrays.

Training computes the forward and backward pass with samples as columns
(see :func:`mlpnet.backprop.forward_columns`): every layer's activation is
an (n_l, m) array.  This module owns those arrays and cuts them into the
views that the passes work on:

* one buffer per layer, shape (n_l, m).  A hidden layer's buffer contains
  Z_l, then A_l = g(Z_l) in place, then delta_l in place during the
  backward pass.  The output layer's buffer keeps Z_N;
* tiles: row blocks of a buffer of at most :data:`TILE_ELEMENTS` entries,
  each with a scratch array of its shape.  The elementwise passes of an
  activation (eight for the sigmoid) run tile by tile, so a tile is reread
  from cache instead of main memory;
* column blocks for the product W_l^T delta_l of the backward pass: a block
  of at most :data:`BLOCK_ELEMENTS` entries is computed, then multiplied by
  g'(A) into the layer's buffer, so no full (n_l, m) array is needed for it.

Batches of different sizes (the last batch of an epoch is often shorter)
share one allocation: the views for m rows are the first n_l * m entries of
storage sized for the largest batch seen so far.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ..network import Network

TILE_ELEMENTS = 1 << 16
"""Largest tile of the elementwise passes: 512 KiB in float64.  A tile and its
scratch (1 MiB) are meant to stay in a core's L2 or L3 cache.  That size is
an estimate for current x86 CPUs, not tuned per machine."""

BLOCK_ELEMENTS = 1 << 20
"""Largest column block of W_l^T delta_l: 8 MiB in float64, which is 512
columns for a layer of 2048 units.  Measured on a 2-core AMD EPYC with
OpenBLAS, 2048 x 2048 times 2048 x 8192 alone took 5 % longer in blocks of
512 columns than in blocks of 1024, and 15 % longer in blocks of 256.  A
whole epoch of the 512-2048-2048-10 benchmark network took the same time
with 512 or 1024 columns (2.50 to 2.65 s in two runs each), and 12 MiB less
memory with 512."""

ForwardTile = tuple[np.ndarray, np.ndarray, np.ndarray]
"""(Z rows, their bias column, scratch of the same shape)."""

BackwardTile = tuple[np.ndarray, np.ndarray, np.ndarray]
"""(rows of the dA block, the same rows and columns of the layer's buffer, scratch)."""


@dataclass
class BackwardBlock:
    """One column block of the backward product W_l^T delta_l.

    Attributes
    ----------
    columns : slice
        The samples of this block.
    dA : ndarray of shape (n_l, number of columns)
        Receives W_(l+1)^T delta_(l+1) for these columns.
    tiles : list of BackwardTile
        Row blocks of ``dA`` with the matching part of the layer's buffer.
    """

    columns: slice
    dA: np.ndarray
    tiles: list[BackwardTile]


@dataclass
class BatchBuffers:
    """The views that one training step on m rows uses.

    Attributes
    ----------
    Z : list of ndarray
        ``Z[l]`` has shape (n_(l+1), m): layer l + 1's pre-activation, which
        hidden layers overwrite with their activation and later with delta.
    forward_tiles : list of list of ForwardTile
        For each hidden layer, the tiles of ``Z[l]``.
    backward_blocks : list of list of BackwardBlock
        For each hidden layer, the column blocks that fill ``Z[l]`` with delta.
    output_gradient : ndarray of shape (n_N, m)
        Receives the loss gradient of the output layer, where the loss can
        write it in place.
    """

    Z: list[np.ndarray]
    forward_tiles: list[list[ForwardTile]]
    backward_blocks: list[list[BackwardBlock]]
    output_gradient: np.ndarray


def row_tiles(n_rows: int, n_columns: int) -> list[slice]:
    """Split the rows of an (n_rows, n_columns) array into blocks of at most TILE_ELEMENTS entries (one row at least)."""
    rows_per_tile = max(1, TILE_ELEMENTS // max(n_columns, 1))
    return [slice(start, min(start + rows_per_tile, n_rows)) for start in range(0, n_rows, rows_per_tile)]


def block_columns(n_rows: int, m: int) -> int:
    """Return the number of columns per block of W^T delta for a layer of n_rows units."""
    if n_rows * m <= BLOCK_ELEMENTS:
        return m
    return max(1, BLOCK_ELEMENTS // n_rows)


def scratch_view(storage: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """View the first entries of a flat array as a C-contiguous array of ``shape``."""
    return storage[: shape[0] * shape[1]].reshape(shape)


class Workspace:
    """The buffers of the training steps of one network, allocated on first use.

    Parameters
    ----------
    net : Network
        Its layer sizes and dtype size the buffers; its bias vectors are
        viewed as columns, so later changes to the parameters are seen.
    """

    def __init__(self, net: Network):
        self.layer_sizes = list(net.layer_sizes)
        self.dtype = net.dtype
        self.bias_columns = [b[:, np.newaxis] for b in net._biases]
        self.capacity = 0
        self.layer_storage: list[np.ndarray] = []
        self.output_gradient_storage = np.empty(0, dtype=self.dtype)
        self.dA_storage = np.empty(0, dtype=self.dtype)
        self.scratch_storage = np.empty(0, dtype=self.dtype)
        self.views: dict[int, BatchBuffers] = {}

    def buffers(self, m: int) -> BatchBuffers:
        """Return the views for a batch of m rows, allocating storage when m is the largest yet."""
        buffers = self.views.get(m)
        if buffers is None:
            if m > self.capacity:
                self.allocate(m)
            buffers = self.views[m] = self.make_views(m)
        return buffers

    def allocate(self, m: int) -> None:
        """Allocate storage for batches of up to m rows, replacing smaller storage.

        For any batch of m' <= m rows, a tile has at most max(TILE_ELEMENTS, m')
        entries and a dA block at most max(BLOCK_ELEMENTS, n_l) (a block is one
        column at least), and neither exceeds the layer's n_l * m'.
        """
        sizes = self.layer_sizes[1:]
        hidden = sizes[:-1]
        tile_size = max((min(n * m, max(TILE_ELEMENTS, m)) for n in hidden), default=0)
        block_size = max((min(n * m, max(BLOCK_ELEMENTS, n)) for n in hidden), default=0)

        self.views = {}
        self.layer_storage = [np.empty(n * m, dtype=self.dtype) for n in sizes]
        self.output_gradient_storage = np.empty(sizes[-1] * m, dtype=self.dtype)
        self.dA_storage = np.empty(block_size, dtype=self.dtype)
        self.scratch_storage = np.empty(tile_size, dtype=self.dtype)
        self.capacity = m

    def make_views(self, m: int) -> BatchBuffers:
        """Cut the storage into the buffers, tiles and blocks of a batch of m rows (m <= capacity)."""
        sizes = self.layer_sizes[1:]
        n_hidden = len(sizes) - 1
        Z = [storage[: n * m].reshape(n, m) for storage, n in zip(self.layer_storage, sizes)]
        scratch = self.scratch_storage

        forward_tiles = []
        backward_blocks = []
        for l in range(n_hidden):
            n = sizes[l]
            forward_tiles.append(
                [
                    (Z[l][rows], self.bias_columns[l][rows], scratch_view(scratch, (rows.stop - rows.start, m)))
                    for rows in row_tiles(n, m)
                ]
            )

            width = block_columns(n, m)
            blocks = []
            for start in range(0, m, width):
                columns = slice(start, min(start + width, m))
                dA = scratch_view(self.dA_storage, (n, columns.stop - columns.start))
                tiles = [
                    (dA[rows], Z[l][rows, columns], scratch_view(scratch, (rows.stop - rows.start, dA.shape[1])))
                    for rows in row_tiles(n, dA.shape[1])
                ]
                blocks.append(BackwardBlock(columns, dA, tiles))
            backward_blocks.append(blocks)

        output_gradient = scratch_view(self.output_gradient_storage, (sizes[-1], m))
        return BatchBuffers(Z, forward_tiles, backward_blocks, output_gradient)
