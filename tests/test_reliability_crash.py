"""SIGKILL during saving: the file on disk is always the previous complete file or the new one.

A subprocess saves two different networks to the same path in turns, as
fast as it can.  The test kills it with SIGKILL after delays spread over two
save durations, so the kills land in every phase of a save: creating the
temporary file, writing it, fsyncing it, renaming it, fsyncing the folder.
After each kill the file must load and be exactly one of the two networks,
and the only other files may be hidden temporary files (``.NAME.tmp*``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import mlpnet
from mlpnet.training.checkpoint import load_checkpoint

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="sends SIGKILL")

LAYERS = [64, 384, 384, 8]
SEEDS = (1, 2)

# Runs in the subprocess: build both networks, save until killed.  For
# checkpoints each network first trains one epoch with Adam, so the files
# also hold optimizer state and history.
SAVER = """
import sys, time
import numpy as np
import mlpnet
from mlpnet.training.checkpoint import save_checkpoint

path, kind = sys.argv[1], sys.argv[2]
layers = [int(n) for n in sys.argv[3].split(",")]
networks = []
for seed in (1, 2):
    net = mlpnet.Network(layers, activation="tanh", seed=seed)
    if kind == "checkpoint":
        rng = np.random.default_rng(seed)
        net.fit(rng.normal(size=(16, layers[0])), rng.normal(size=(16, layers[-1])), optimizer="adam", epochs=1)
    networks.append(net)

def save(net):
    if kind == "checkpoint":
        save_checkpoint(path, net)
    else:
        net.save(path)

save(networks[0])
start = time.perf_counter()
save(networks[1])
save(networks[0])
print("ready", (time.perf_counter() - start) / 2, flush=True)
turn = 1
while True:
    save(networks[turn % 2])
    turn += 1
"""


def expected_networks(kind: str) -> list[mlpnet.Network]:
    """Build the two networks exactly as the subprocess does."""
    networks = []
    for seed in SEEDS:
        net = mlpnet.Network(LAYERS, activation="tanh", seed=seed)
        if kind == "checkpoint":
            rng = np.random.default_rng(seed)
            net.fit(rng.normal(size=(16, LAYERS[0])), rng.normal(size=(16, LAYERS[-1])), optimizer="adam", epochs=1)
        networks.append(net)
    return networks


def load_state(path: Path, kind: str) -> tuple[bytes, bytes]:
    """Return the parameter bytes and, for a checkpoint, the optimizer moment bytes."""
    if kind == "checkpoint":
        net, _ = load_checkpoint(path)
        return net.parameters.tobytes(), net.training_state["optimizer"].state["second_moment"].tobytes()
    return mlpnet.load(path).parameters.tobytes(), b""


def state_of(net: mlpnet.Network, kind: str) -> tuple[bytes, bytes]:
    if kind == "checkpoint":
        return net.parameters.tobytes(), net.training_state["optimizer"].state["second_moment"].tobytes()
    return net.parameters.tobytes(), b""


@pytest.mark.parametrize(("kind", "n_kills"), [("model", 40), ("checkpoint", 20)])
def test_sigkill_during_save_leaves_a_complete_file(tmp_path, kind, n_kills):
    path = tmp_path / "model.npz"
    expected = [state_of(net, kind) for net in expected_networks(kind)]
    assert expected[0] != expected[1]
    found = {0: 0, 1: 0}
    kills_during_write = 0

    for index in range(n_kills):
        process = subprocess.Popen(
            [sys.executable, "-c", SAVER, str(path), kind, ",".join(map(str, LAYERS))],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        line = process.stdout.readline()
        assert line.startswith("ready "), process.communicate()
        save_duration = float(line.split()[1])
        # Spread the kills evenly over two save durations.
        time.sleep(2 * save_duration * index / n_kills)
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=60)
        assert process.returncode == -signal.SIGKILL

        state = load_state(path, kind)
        assert state in expected, f"kill {index}: the file is neither of the two networks"
        found[expected.index(state)] += 1

        others = sorted(p.name for p in tmp_path.iterdir() if p.name != path.name)
        assert all(name.startswith(".model.npz.tmp") for name in others), others
        kills_during_write += len(others)
        for name in others:
            os.unlink(tmp_path / name)

    assert found[0] + found[1] == n_kills
    print(f"{kind}: {n_kills} kills, file held network 1 {found[0]} times and network 2 {found[1]} times; "
          f"{kills_during_write} kills left a temporary file (killed while writing it)")
