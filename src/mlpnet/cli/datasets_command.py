"""``mlpnet datasets``: list the bundled datasets."""

from __future__ import annotations


def run(args) -> int:
    from ..datasets import list_datasets

    for info in list_datasets():
        print(f"{info.name}")
        print(f"  {info.description}")
        print(f"  rows: {info.rows}, columns: {info.columns}")
        print(f"  default target: {info.default_target} ({info.task})")
        print(f"  licence: {info.licence}")
        print(f"  source: {info.source}")
        print(f"  train: mlpnet train --dataset {info.name} --out {info.name}.npz")
        print()
    return 0
