"""Shared fixtures: the failure-case folder, strict floating-point checks, and an
independent PyTorch reference for the loss and its gradients."""

from __future__ import annotations

import contextlib
import json
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def find_cases_dir() -> Path | None:
    """Return ``<repo>/shared/cases`` if it exists, else ``<repo>/../shared/cases``, else None."""
    for candidate in (REPO_ROOT / "shared" / "cases", REPO_ROOT.parent / "shared" / "cases"):
        if candidate.is_dir():
            return candidate
    return None


@pytest.fixture(scope="session")
def cases_dir() -> Path:
    """The folder of failure cases, each a subfolder with a ``case.json``.

    Fails (never skips) when the folder is missing, because CI always has it.
    """
    found = find_cases_dir()
    if found is None:
        pytest.fail(
            f"failure cases not found: neither {REPO_ROOT / 'shared' / 'cases'} nor "
            f"{REPO_ROOT.parent / 'shared' / 'cases'} exists; check out the shared "
            f"folder beside the repository",
            pytrace=False,
        )
    return found


@pytest.fixture(scope="session")
def load_case(cases_dir: Path) -> Callable[[str], dict]:
    """Return a function that reads ``<cases_dir>/<name>/case.json``."""

    def load(name: str) -> dict:
        path = cases_dir / name / "case.json"
        if not path.is_file():
            pytest.fail(f"failure case file not found: {path}", pytrace=False)
        return json.loads(path.read_text())

    return load


@contextlib.contextmanager
def strict_numerics_context() -> Iterator[None]:
    """Turn every warning into an error and make overflow, invalid and divide-by-zero raise.

    Underflow stays ignored: exp(-1e6) rounding to 0 is the intended result.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            yield


@pytest.fixture
def strict_numerics() -> Callable[[], contextlib.AbstractContextManager[None]]:
    """A context manager factory: ``with strict_numerics(): ...``."""
    return strict_numerics_context


# -- PyTorch reference -------------------------------------------------------


def torch_activation(name: str, Z):
    """Apply an activation written from its textbook formula with torch operations."""
    import torch
    import torch.nn.functional as F

    if name == "identity":
        return Z
    if name == "sigmoid":
        return torch.sigmoid(Z)
    if name == "tanh":
        return torch.tanh(Z)
    if name == "relu":
        return F.relu(Z)
    if name == "leaky_relu":
        return F.leaky_relu(Z, 0.01)
    if name == "elu":
        return F.elu(Z, alpha=1.0)
    if name == "softplus":
        # F.softplus switches to the identity above a threshold, which differs by ~1e-9.
        return torch.logaddexp(Z, torch.zeros_like(Z))
    if name == "softmax":
        return F.softmax(Z, dim=1)
    raise ValueError(f"no torch reference for activation {name!r}")


def torch_per_sample_loss(name: str, Z, A, Y):
    """Compute each sample's loss, summed over outputs, shape (m,)."""
    import torch.nn.functional as F

    if name == "mse":
        return ((A - Y) ** 2).sum(dim=1)
    if name == "mae":
        return (A - Y).abs().sum(dim=1)
    if name == "huber":
        return F.huber_loss(A, Y, reduction="none", delta=1.0).sum(dim=1)
    if name == "binary_crossentropy":
        return F.binary_cross_entropy_with_logits(Z, Y, reduction="none").sum(dim=1)
    if name == "crossentropy":
        return -(Y * F.log_softmax(Z, dim=1)).sum(dim=1)
    raise ValueError(f"no torch reference for loss {name!r}")


def torch_loss_and_gradients_impl(
    weights: Sequence[np.ndarray],
    biases: Sequence[np.ndarray],
    activations: Sequence[str],
    loss: str,
    X: np.ndarray,
    Y: np.ndarray,
    sample_weight: np.ndarray | None = None,
) -> tuple[float, list[np.ndarray], list[np.ndarray]]:
    """Compute L, dL/dW and dL/db with torch autograd in float64.

    ``weights[l]`` is (n_out, n_in) as in mlpnet, X is (m, n_in), Y is (m, n_out).
    L = sum_i w_i l_i / sum_i w_i, which is the plain mean over samples without weights.
    """
    import torch

    W = [torch.tensor(np.asarray(w, dtype=np.float64), requires_grad=True) for w in weights]
    b = [torch.tensor(np.asarray(v, dtype=np.float64), requires_grad=True) for v in biases]
    A = torch.tensor(np.asarray(X, dtype=np.float64))
    Y_t = torch.tensor(np.asarray(Y, dtype=np.float64))

    Z = A
    for W_l, b_l, name in zip(W, b, activations):
        Z = A @ W_l.T + b_l
        A = torch_activation(name, Z)

    per_sample = torch_per_sample_loss(loss, Z, A, Y_t)
    if sample_weight is None:
        L = per_sample.sum() / per_sample.shape[0]
    else:
        w = torch.tensor(np.asarray(sample_weight, dtype=np.float64))
        L = (w * per_sample).sum() / w.sum()

    L.backward()
    dW = [W_l.grad.numpy() for W_l in W]
    db = [b_l.grad.numpy() for b_l in b]
    return float(L.detach()), dW, db


@pytest.fixture(scope="session")
def torch_loss_and_gradients() -> Callable[..., tuple[float, list[np.ndarray], list[np.ndarray]]]:
    """The PyTorch autograd reference; see :func:`torch_loss_and_gradients_impl`."""
    return torch_loss_and_gradients_impl


# -- test problems -------------------------------------------------------------


def build_problem_impl(
    layer_sizes: Sequence[int],
    activation: str | Sequence[str],
    output_activation: str,
    loss: str,
    seed: int = 0,
    dtype: str = "float64",
    n_samples: int = 6,
):
    """Build a network with random weights and nonzero biases, and data that suits the loss.

    Regression targets sit 0.2 to 2.6 away from the initial predictions, on both
    sides of the Huber threshold of 1, so no sample lies on the kink of the
    absolute or Huber loss.  Binary targets are 0 or 1, and categorical targets
    are one-hot rows.

    Returns
    -------
    net : mlpnet.Network
    X : ndarray of shape (n_samples, layer_sizes[0]), float64
    Y : ndarray of shape (n_samples, layer_sizes[-1]), float64
    """
    from mlpnet import Network

    rng = np.random.default_rng(seed)
    net = Network(
        layer_sizes,
        activation=activation,
        output_activation=output_activation,
        seed=seed,
        dtype=dtype,
    )
    net.biases = [rng.normal(0.0, 0.5, size=b.shape) for b in net.biases]

    n_outputs = layer_sizes[-1]
    X = rng.normal(size=(n_samples, layer_sizes[0]))
    if loss == "binary_crossentropy":
        Y = rng.integers(0, 2, size=(n_samples, n_outputs)).astype(np.float64)
    elif loss == "crossentropy":
        Y = np.eye(n_outputs)[rng.integers(0, n_outputs, size=n_samples)]
    else:
        shape = (n_samples, n_outputs)
        distance = rng.choice([0.3, 0.6, 1.5, 2.5], size=shape) + rng.uniform(-0.1, 0.1, size=shape)
        sign = rng.choice([-1.0, 1.0], size=shape)
        Y = net.predict(X).astype(np.float64) + sign * distance
    return net, X, Y


@pytest.fixture(scope="session")
def build_problem() -> Callable:
    """A function that builds (net, X, Y); see :func:`build_problem_impl`."""
    return build_problem_impl
