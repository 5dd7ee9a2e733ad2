"""Dask is optional: mlpnet imports it only for Dask input, and its absence gets a clear error."""

from __future__ import annotations

import subprocess
import sys

import pytest

from mlpnet.cli.main import main
from mlpnet.distributed import DaskNotInstalledError


def test_numpy_training_imports_no_dask():
    code = (
        "import sys, numpy as np, mlpnet, mlpnet.distributed\n"
        "net = mlpnet.Network([2, 2, 1], seed=0)\n"
        "net.fit(np.ones((4, 2)), np.ones(4), epochs=2)\n"
        "from mlpnet.cli.parser import build_parser; build_parser()\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] in ('dask', 'distributed')))\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert completed.stdout.strip() == "[]"


@pytest.fixture
def without_dask(monkeypatch):
    """Make ``import dask`` and ``import distributed`` fail as if the packages were not installed."""
    for name in ("dask", "dask.array", "distributed"):
        monkeypatch.setitem(sys.modules, name, None)


def test_read_csv_names_install_command(without_dask, tmp_path):
    from mlpnet.distributed import read_csv

    with pytest.raises(DaskNotInstalledError, match=r"pip install 'mlpnet\[dask\]'"):
        read_csv(str(tmp_path / "part-*.csv"))


def test_connect_names_install_command(without_dask):
    from mlpnet.distributed import connect

    with pytest.raises(DaskNotInstalledError, match=r"needs the package distributed .*pip install 'mlpnet\[dask\]'"):
        connect("tcp://127.0.0.1:1")


def test_error_is_an_import_error():
    assert issubclass(DaskNotInstalledError, ImportError)


def test_command_line_exits_2(without_dask, tmp_path, capsys):
    (tmp_path / "part-0.csv").write_text("a,y\n1,2\n")
    out = tmp_path / "model.npz"
    code = main(["train", str(tmp_path / "part-*.csv"), "--target", "y", "--out", str(out), "--dask", "local"])
    assert code == 2
    assert "pip install 'mlpnet[dask]'" in capsys.readouterr().err
    assert not out.exists()
