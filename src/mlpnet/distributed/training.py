"""Full-batch training on Dask input: chunk gradients where the chunks live, one update on the client.

:func:`mlpnet.training.fit` hands Dask input to a :class:`DaskBackend`.  The
backend validates and persists the data (:mod:`mlpnet.distributed.data`),
and the training loop runs unchanged except for two parts it takes from the
backend: the step, whose loss and gradient are the sums of the chunks'
shares (:mod:`mlpnet.distributed.chunk_steps`), and the epoch, which is one
such step followed by the update.  The optimizer, the schedule, the L2
penalty, gradient clipping, callbacks and early stopping are the in-memory
ones, applied on the client to the summed gradient.

Each step sends the parameter vector to every chunk and receives one loss
share, one gradient vector and, with metrics, a few sums per chunk.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InvalidParameterError
from ..training.callbacks import Callback
from ..training.options import split_data
from ..training.step import NonFiniteValue, TrainingStep
from .chunk_steps import NetworkSpec, chunk_evaluate, chunk_loss_and_gradient
from .data import ChunkedData, prepare_data
from .epoch_metrics import combine_partials, metric_values
from .executor import current_executor

if TYPE_CHECKING:
    from ..network import Network
    from ..training.options import FitSettings

logger = logging.getLogger(__name__)


class DistributedStep(TrainingStep):
    """A training step whose loss and gradient are summed over the chunks of the training data.

    Parameters
    ----------
    net : Network
    settings : FitSettings
        ``settings.train`` is the :class:`ChunkedData` to train on.
    executor : LocalExecutor or ClusterExecutor
    """

    def __init__(self, net: Network, settings: FitSettings, executor: Any):
        super().__init__(net, settings.loss, settings.l2, settings.clip_norm)
        self.executor = executor
        self.data: ChunkedData = settings.train
        self.spec = NetworkSpec.of(net, settings.loss.name)
        self.metric_names = tuple(settings.metrics)
        self.partials = None

    def loss_and_gradient(self) -> float:  # type: ignore[override]
        """Compute the full-batch loss and fill ``self.gradient`` from the chunks; return the loss.

        The chunk results are added in chunk order on the client, so a chunk
        recomputed on another worker gives the same sum, bit for bit.  The
        metric sums of the predictions are kept in ``self.partials``.

        Raises
        ------
        NonFiniteValue
            If the loss or the gradient norm is NaN or infinite.
        """
        results = self.executor.map(
            chunk_loss_and_gradient,
            self.data.chunks,
            parameters=self.net.parameters,
            spec=self.spec,
            metric_names=self.metric_names,
            **self.data.scale_arguments(),
        )
        L = 0.0
        self.gradient[...] = 0.0
        for result in results:
            L += result.loss
            self.gradient += result.gradient
        if self.metric_names:
            self.partials = combine_partials([result.partials for result in results])
        if not np.isfinite(L):
            raise NonFiniteValue("training loss", L)

        return self.finish_gradient(L)


def validation_records(net: Network, settings: FitSettings, executor: Any) -> dict[str, float]:
    """Compute ``val_loss`` (no L2 penalty) and the ``val_`` metrics of the current parameters, chunk by chunk."""
    validation: ChunkedData = settings.validation
    results = executor.map(
        chunk_evaluate,
        validation.chunks,
        parameters=net.parameters,
        spec=NetworkSpec.of(net, settings.loss.name),
        metric_names=tuple(settings.metrics),
        **validation.scale_arguments(),
    )
    records = {"val_loss": float(sum(result.loss for result in results))}
    if settings.metrics:
        partials = combine_partials([result.partials for result in results])
        records.update(metric_values(settings.metrics, partials, validation.target_moments, prefix="val_"))
    return records


class ReleaseWorkerSteps(Callback):
    """Free the training steps that worker threads keep (see :func:`chunk_steps.worker_step`) at the end of fit.

    After a failed fit they stay until the next one: at most one step, with
    buffers for the largest chunk, per worker thread.
    """

    def __init__(self, executor: Any):
        self.executor = executor

    def on_train_end(self, logs: dict[str, Any]) -> None:
        self.executor.release_worker_steps()


class DaskBackend:
    """The parts of :func:`mlpnet.training.fit` that differ for Dask input.

    Parameters
    ----------
    executor : LocalExecutor or ClusterExecutor
        Where the chunks are kept and the chunk functions run.
    """

    def __init__(self, executor: Any):
        self.executor = executor

    @classmethod
    def for_current_scheduler(cls) -> DaskBackend:
        """Use the active ``distributed.Client``, or Dask's local scheduler when there is none."""
        return cls(current_executor())

    def resolve_data(
        self,
        net: Network,
        X: Any,
        Y: Any,
        sample_weight: Any,
        validation_data: Any,
        validation_fraction: Any,
        validation_seed: Any,
        batch_size: int | None,
    ) -> tuple[ChunkedData, ChunkedData | None, int | None]:
        """Validate and persist the training and validation rows; return them and the split seed.

        Raises
        ------
        InvalidParameterError
            For a ``batch_size`` other than None, or invalid validation options.
        InvalidDataError
            For invalid data, with the messages of in-memory input.
        """
        if batch_size is not None:
            raise InvalidParameterError(
                f"batch_size={batch_size!r} is not supported with Dask input: distributed training "
                f"takes full-batch steps only, each summing the gradients of every chunk; "
                f"pass batch_size=None, or compute the data into memory for mini-batches"
            )
        train = prepare_data(
            self.executor, X, Y, sample_weight, net.n_inputs, net.n_outputs, net.dtype
        )
        logger.info(
            "training on %d rows in %d chunks on %s", train.n_samples, train.n_chunks, self.executor.description
        )
        if validation_data is not None and validation_fraction is None:
            return train, self.prepare_validation(net, validation_data), None
        # split_data selects rows with ChunkedData.rows, where the chunks live.
        return split_data(net, train, validation_data, validation_fraction, validation_seed)

    def prepare_validation(self, net: Network, validation_data: Any) -> ChunkedData:
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise InvalidParameterError(
                f"validation_data must be a tuple (X_val, Y_val) or (X_val, Y_val, sample_weight_val), "
                f"got {type(validation_data).__name__}"
                + (f" of length {len(validation_data)}" if isinstance(validation_data, (tuple, list)) else "")
            )
        weights = validation_data[2] if len(validation_data) == 3 else None
        return prepare_data(
            self.executor,
            validation_data[0],
            validation_data[1],
            weights,
            net.n_inputs,
            net.n_outputs,
            net.dtype,
            names=("X_val", "Y_val"),
        )

    def make_step(self, net: Network, settings: FitSettings) -> DistributedStep:
        """Return the step of this fit call, and free the workers' step buffers when training ends."""
        settings.callbacks.append(ReleaseWorkerSteps(self.executor))
        return DistributedStep(net, settings, self.executor)

    def run_epoch(
        self, net: Network, settings: FitSettings, step: DistributedStep, learning_rate: float
    ) -> dict[str, float]:
        """Take one full-batch step and return the epoch's records, as the in-memory epoch does.

        Raises
        ------
        NonFiniteValue
            When the loss or the gradient is NaN or infinite.
        """
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            L = step.loss_and_gradient()
            step.update(settings.optimizer, learning_rate)
            logs = {"loss": L}
            if settings.metrics:
                logs.update(metric_values(settings.metrics, step.partials, settings.train.target_moments))
            if settings.validation is not None:
                logs.update(validation_records(net, settings, self.executor))
        logs["learning_rate"] = learning_rate
        return logs
