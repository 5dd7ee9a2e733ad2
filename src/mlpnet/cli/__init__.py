"""The ``mlpnet`` command: train, predict, evaluate, describe, datasets and explain.

The entry point is :func:`mlpnet.cli.main.main`; ``python -m mlpnet`` runs it too.
"""

from __future__ import annotations

from .main import main

__all__ = ["main"]
