"""The machine, BLAS and library versions behind a benchmark run."""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
import platform
import subprocess

BLAS_ENVIRONMENT = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
"""Environment variables that change which BLAS kernel runs or how many threads it uses."""

PACKAGES = ("mlpnet", "numpy", "scikit-learn", "torch", "scipy", "pandas", "threadpoolctl", "psutil", "matplotlib")


def cpu_model() -> str:
    """Return the CPU model name from /proc/cpuinfo, or what :mod:`platform` reports elsewhere."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def numpy_blas() -> dict:
    """Return threadpoolctl's record of the BLAS that NumPy's matmul calls."""
    import numpy as np
    from threadpoolctl import threadpool_info

    numpy_dir = os.path.dirname(np.__file__)
    blas = [info for info in threadpool_info() if info["user_api"] == "blas"]
    for info in blas:
        # The wheel of NumPy ships its OpenBLAS in site-packages/numpy.libs.
        if os.path.dirname(info["filepath"]).startswith(numpy_dir):
            return info
    return blas[0] if blas else {}


def blas_threads() -> int:
    """Return the thread count of NumPy's BLAS, or the CPU count if threadpoolctl finds none."""
    return int(numpy_blas().get("num_threads") or os.cpu_count() or 1)


def versions() -> dict[str, str]:
    found = {}
    for package in PACKAGES:
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def mlpnet_source_digest() -> str:
    """Return the first 12 hex digits of a SHA-256 over mlpnet's .py files, by relative path.

    The working tree may hold uncommitted changes, so the git commit alone
    does not identify the code that was measured.
    """
    spec = importlib.util.find_spec("mlpnet")
    if spec is None or spec.origin is None:
        return "not installed"
    package_dir = os.path.dirname(spec.origin)
    digest = hashlib.sha256()
    for directory, subdirectories, files in os.walk(package_dir):
        subdirectories.sort()
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(directory, name)
                digest.update(os.path.relpath(path, package_dir).encode())
                with open(path, "rb") as file:
                    digest.update(file.read())
    return digest.hexdigest()[:12]


def git_state() -> dict:
    """Return the commit of the repository around this folder and the paths it reports as changed."""
    def git(*arguments: str) -> str:
        completed = subprocess.run(
            ["git", *arguments], cwd=os.path.dirname(os.path.abspath(__file__)), capture_output=True, text=True
        )
        return completed.stdout if completed.returncode == 0 else ""

    # Each porcelain line is two status letters, a space and the path.
    changed = [line[3:] for line in git("status", "--porcelain", "--", ":/src").splitlines()]
    return {"commit": git("rev-parse", "HEAD").strip() or "unknown", "changed_under_src": changed}


def describe_machine() -> dict:
    """Collect the CPU, memory, BLAS, thread pools, environment and versions of this run."""
    import psutil
    from threadpoolctl import threadpool_info

    return {
        "cpu": cpu_model(),
        "logical_cores": os.cpu_count(),
        "physical_cores": psutil.cpu_count(logical=False),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy_blas": numpy_blas(),
        "thread_pools": threadpool_info(),
        "environment": {name: os.environ.get(name) for name in BLAS_ENVIRONMENT},
        "versions": versions(),
        "mlpnet_source_digest": mlpnet_source_digest(),
        "git": git_state(),
    }
