"""Training on ``distributed`` clusters on 127.0.0.1: equality, a killed worker, an unreachable scheduler.

Clusters listen on 127.0.0.1 only, with the dashboard on a free port, and
close at the end of each test or module even when a test fails.  The
reference is ``Network.fit`` on the same NumPy arrays.
"""

from __future__ import annotations

import os
import signal
import socket
import time

import dask
import dask.array as da
import distributed
import numpy as np
import pytest

from mlpnet import Network
from mlpnet.distributed import SchedulerConnectionError, connect, local_cluster, read_csv

RTOL = 1e-10
ATOL = 1e-13
ROWS = (11, 29, 5, 35)  # 80 rows in uneven chunks


def make_data(n_rows=80, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows, 5))
    Y = np.sin(X[:, :2] @ np.array([[1.0, -0.5], [0.3, 0.8]])) + 0.05 * rng.normal(size=(n_rows, 2))
    return X, Y


def from_arrays(X, Y):
    return da.from_array(X, chunks=(ROWS, 5)), da.from_array(Y, chunks=(ROWS, 2))


def from_csv_parts(X, Y, folder):
    """Write X and the first target column to part files, one per chunk, and read them back."""
    start = 0
    for number, size in enumerate(ROWS):
        rows = [",".join(repr(float(v)) for v in (*X[i], Y[i, 0])) for i in range(start, start + size)]
        (folder / f"part-{number}.csv").write_text("a,b,c,d,e,y\n" + "\n".join(rows) + "\n")
        start += size
    data = read_csv(str(folder / "part-*.csv"), target="y")
    return data.X, data.y


def fit_pair(X, Y, optimizer, epochs=20, callbacks=None, dask_data=None):
    net = Network([X.shape[1], 6, Y.shape[1]], seed=7, activation="tanh")
    twin = net.copy()
    history = net.fit(X, Y, optimizer=optimizer, learning_rate=0.05, epochs=epochs)
    dask_X, dask_Y = dask_data if dask_data is not None else from_arrays(X, Y)
    twin_history = twin.fit(
        dask_X, dask_Y, optimizer=optimizer, learning_rate=0.05, epochs=epochs, callbacks=callbacks
    )
    return net, history, twin, twin_history


def assert_equal_fits(net, history, twin, twin_history):
    np.testing.assert_allclose(twin.parameters, net.parameters, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(twin_history.loss, history.loss, rtol=RTOL, atol=ATOL)


# Threads first: the process cluster below starts when the first test that
# requests it runs and lives until the end of the module, and only one
# client at a time should be the default.


def test_thread_cluster_matches_memory():
    X, Y = make_data()
    with local_cluster(n_workers=2, threads_per_worker=1, processes=False) as client:
        assert client.scheduler.address.startswith("tcp://127.0.0.1:")
        for optimizer in ("gd", "momentum", "adam"):
            assert_equal_fits(*fit_pair(X, Y, optimizer))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_failed_connection_leaves_local_scheduler():
    with pytest.raises(SchedulerConnectionError):
        connect(f"tcp://127.0.0.1:{free_port()}", timeout=1)
    assert dask.config.get("scheduler", None) is None
    assert dask.compute(dask.delayed(sum)([1, 2])) == (3,)


@pytest.fixture(scope="module")
def process_client():
    with local_cluster(n_workers=2, threads_per_worker=1, processes=True) as client:
        client.wait_for_workers(2, timeout=60)
        yield client


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "adam"])
def test_process_cluster_matches_memory(process_client, optimizer):
    X, Y = make_data()
    assert_equal_fits(*fit_pair(X, Y, optimizer))


def test_read_csv_on_workers(process_client, tmp_path):
    X, Y = make_data(seed=2)
    Y = Y[:, :1]
    dask_X, dask_y = from_csv_parts(X, Y, tmp_path)
    # The files are read on the workers; the client only holds references.
    assert all(future.status == "finished" for future in distributed.futures_of(dask_X))
    assert_equal_fits(*fit_pair(X, Y, "momentum", dask_data=(dask_X, dask_y)))


def test_large_parameter_vector_scattered(process_client):
    # 400 * 400 + 400 + 400 + 1 = 160,801 parameters: 1.29 MB, above the 1 MiB
    # from which the parameter vector goes to each worker once per step.
    rng = np.random.default_rng(4)
    X, Y = rng.normal(size=(40, 400)), rng.normal(size=(40, 1))
    net = Network([400, 400, 1], seed=0, activation="relu")
    assert net.parameters.nbytes > 1 << 20
    twin = net.copy()
    history = net.fit(X, Y, optimizer="adam", learning_rate=1e-3, epochs=3)
    twin_history = twin.fit(da.from_array(X, chunks=(15, 400)), da.from_array(Y, chunks=(15, 1)),
                            optimizer="adam", learning_rate=1e-3, epochs=3)
    assert_equal_fits(net, history, twin, twin_history)


def test_cluster_listens_on_loopback(process_client):
    assert process_client.scheduler.address.startswith("tcp://127.0.0.1:")
    workers = process_client.scheduler_info()["workers"]
    assert len(workers) == 2
    assert all(address.startswith("tcp://127.0.0.1:") for address in workers)


@pytest.mark.parametrize("source", ["from_array", "read_csv"])
def test_killed_worker_recomputed(process_client, source, tmp_path):
    X, Y = make_data(seed=1)
    if source == "read_csv":
        Y = Y[:, :1]
        dask_data = from_csv_parts(X, Y, tmp_path)
    else:
        dask_data = from_arrays(X, Y)
    killed = {}

    def kill_a_worker(epoch, logs):
        if epoch != 4 or killed:
            return None
        # Kill the worker that stores the most data, between two steps.
        holders = {}
        for key, addresses in process_client.who_has().items():
            for address in addresses:
                holders[address] = holders.get(address, 0) + 1
        victim = max(holders, key=holders.get)
        pid = process_client.run(os.getpid, workers=[victim])[victim]
        os.kill(pid, signal.SIGKILL)
        killed.update(address=victim, pid=pid, keys=holders[victim])
        return None

    result = fit_pair(X, Y, "adam", epochs=20, callbacks=[kill_a_worker], dask_data=dask_data)
    assert killed, "the callback never killed a worker"
    assert killed["keys"] >= 1, "the killed worker held no data"
    assert_equal_fits(*result)
    assert len(result[3].loss) == 20

    # The nanny replaces the killed worker process.
    process_client.wait_for_workers(2, timeout=60)
    assert killed["pid"] not in process_client.run(os.getpid).values()


def test_unreachable_scheduler_times_out():
    address = f"tcp://127.0.0.1:{free_port()}"
    timeout = 1.5
    started = time.monotonic()
    with pytest.raises(SchedulerConnectionError) as error:
        connect(address, timeout=timeout)
    elapsed = time.monotonic() - started
    assert error.value.address == address
    assert error.value.timeout == timeout
    assert f"cannot reach the Dask scheduler at {address} within 1.5 s" in str(error.value)
    # The error arrives after the timeout, not after Dask's default of 30 s.
    assert elapsed < timeout + 20


def test_invalid_scheduler_address():
    from mlpnet import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="invalid Dask scheduler address 'foo://127.0.0.1:1'"):
        connect("foo://127.0.0.1:1", timeout=1)
    with pytest.raises(InvalidParameterError, match="timeout must be a finite number > 0"):
        connect("tcp://127.0.0.1:1", timeout=0)

