"""Training's in-place pass (samples as columns, tiles, column blocks) against PyTorch autograd.

The tile and block sizes are shrunk so that small networks exercise every
path that large ones take.  Those paths are several tiles per layer,
several column blocks of W^T delta, tiles of one row, and a shorter batch
whose buffers are views into the storage of a larger one.  Every expected
value comes from PyTorch in float64, or is worked by hand in a comment.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import mlpnet
from mlpnet import activations as activation_module
from mlpnet.backprop import row_scale
from mlpnet.losses import get_loss
from mlpnet.training import optimizers as optimizer_module
from mlpnet.training import workspace as workspace_module
from mlpnet.training.step import TrainingStep

torch = pytest.importorskip("torch")

RTOL = 1e-10
ATOL = 1e-12

HIDDEN_ACTIVATIONS = ["identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus"]
LOSSES = {
    "mse": "identity",
    "mae": "identity",
    "huber": "identity",
    "binary_crossentropy": "sigmoid",
    "crossentropy": "softmax",
}


@pytest.fixture
def small_tiles(monkeypatch):
    """Make tiles at most 10 entries and W^T delta blocks at most 12, so every layer is split."""
    monkeypatch.setattr(workspace_module, "TILE_ELEMENTS", 10)
    monkeypatch.setattr(workspace_module, "BLOCK_ELEMENTS", 12)


def flat_gradient(dW, db):
    return np.concatenate([array.ravel() for pair in zip(dW, db) for array in pair])


def step_gradient(net, loss, X, Y, sample_weight=None):
    """Run one TrainingStep on (X, Y) under strict warnings; return (loss, flat gradient copy, predictions copy)."""
    step = TrainingStep(net, get_loss(loss), l2=0.0, clip_norm=None)
    return run_step(step, net, X, Y, sample_weight)


def run_step(step, net, X, Y, sample_weight=None):
    X = np.ascontiguousarray(X, dtype=net.dtype)
    Y = np.ascontiguousarray(Y, dtype=net.dtype)
    weights = None if sample_weight is None else np.asarray(sample_weight, dtype=net.dtype)
    scale = row_scale(X.shape[0], weights, net.dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            L, predictions = step.loss_and_gradient(X, Y, scale)
    return L, step.gradient.copy(), np.array(predictions)


@pytest.mark.parametrize("activation", HIDDEN_ACTIVATIONS)
@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_tiled_step_matches_torch(small_tiles, build_problem, torch_loss_and_gradients, activation, loss):
    layer_sizes = [4, 5, 3, 3]
    net, X, Y = build_problem(layer_sizes, activation, LOSSES[loss], loss, seed=3, n_samples=7)
    expected_L, dW, db = torch_loss_and_gradients(net.weights, net.biases, net.activations, loss, X, Y)

    L, gradient, predictions = step_gradient(net, loss, X, Y)

    assert L == pytest.approx(expected_L, rel=RTOL, abs=ATOL)
    np.testing.assert_allclose(gradient, flat_gradient(dW, db), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(predictions, net.predict(X), rtol=RTOL, atol=ATOL)


def test_tiled_step_with_sample_weights_matches_torch(small_tiles, build_problem, torch_loss_and_gradients):
    net, X, Y = build_problem([3, 6, 4, 2], "sigmoid", "identity", "mse", seed=5, n_samples=9)
    sample_weight = np.random.default_rng(5).uniform(0.0, 2.0, size=9)
    expected_L, dW, db = torch_loss_and_gradients(
        net.weights, net.biases, net.activations, "mse", X, Y, sample_weight=sample_weight
    )

    L, gradient, _ = step_gradient(net, "mse", X, Y, sample_weight)

    assert L == pytest.approx(expected_L, rel=RTOL)
    np.testing.assert_allclose(gradient, flat_gradient(dW, db), rtol=RTOL, atol=ATOL)


def test_shorter_then_longer_batches_match_torch(small_tiles, build_problem, torch_loss_and_gradients):
    # One step object takes 8 rows, then 3 (views into the 8-row storage),
    # then 11 (new storage), then 8 again.
    net, X, Y = build_problem([4, 5, 3, 1], "tanh", "identity", "mse", seed=7, n_samples=11)
    step = TrainingStep(net, get_loss("mse"), l2=0.0, clip_norm=None)
    for rows in (slice(0, 8), slice(8, 11), slice(0, 11), slice(0, 8)):
        expected_L, dW, db = torch_loss_and_gradients(
            net.weights, net.biases, net.activations, "mse", X[rows], Y[rows]
        )
        L, gradient, _ = run_step(step, net, X[rows], Y[rows])
        assert L == pytest.approx(expected_L, rel=RTOL), rows
        np.testing.assert_allclose(gradient, flat_gradient(dW, db), rtol=RTOL, atol=ATOL, err_msg=str(rows))


def test_wide_layer_gets_one_row_tiles(small_tiles):
    # With 10-entry tiles and 12-entry blocks, a batch of 7 rows gives tiles of
    # one row of 7 samples, and a layer of 5 units gets blocks of 12 // 5 = 2 columns.
    net = mlpnet.Network([2, 5, 1], seed=0)
    buffers = workspace_module.Workspace(net).buffers(7)

    assert [Z.shape for Z, _, _ in buffers.forward_tiles[0]] == [(1, 7)] * 5
    blocks = buffers.backward_blocks[0]
    assert [block.columns for block in blocks] == [slice(0, 2), slice(2, 4), slice(4, 6), slice(6, 7)]
    assert [block.dA.shape for block in blocks] == [(5, 2), (5, 2), (5, 2), (5, 1)]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_default_tiles_match_torch(build_problem, torch_loss_and_gradients, dtype):
    # A batch of 300 rows and 256 units: the default tiles of 65536 entries
    # contain 65536 // 300 = 218 units, so the layer has tiles of 218 and 38 units.
    net, X, Y = build_problem([6, 256, 1], "sigmoid", "identity", "mse", seed=1, n_samples=300, dtype=dtype)
    expected_L, dW, db = torch_loss_and_gradients(net.weights, net.biases, net.activations, "mse", X, Y)

    L, gradient, _ = step_gradient(net, "mse", X, Y)

    rtol = RTOL if dtype == "float64" else 1e-4
    assert L == pytest.approx(expected_L, rel=rtol)
    np.testing.assert_allclose(gradient, flat_gradient(dW, db), rtol=rtol, atol=1e-6 if dtype == "float32" else ATOL)
    assert gradient.dtype == np.dtype(dtype)


@pytest.mark.parametrize("name", HIDDEN_ACTIVATIONS)
def test_in_place_activation_matches_torch(name, strict_numerics):
    import torch.nn.functional as F

    g = activation_module.get_activation(name)
    Z = np.array([[-1e6, -30.0, -1.0, -1e-300, 0.0], [1e-300, 0.5, 2.0, 30.0, 1e6]])
    dA = np.array([[0.5, -1.0, 2.0, 1.5, -0.25], [3.0, -2.0, 0.75, 1.0, 0.1]])
    references = {
        "identity": lambda z: z,
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "relu": F.relu,
        "leaky_relu": lambda z: F.leaky_relu(z, 0.01),
        "elu": lambda z: F.elu(z, alpha=1.0),
        "softplus": lambda z: torch.logaddexp(z, torch.zeros_like(z)),
    }
    Z_t = torch.tensor(Z, requires_grad=True)
    A_t = references[name](Z_t)
    A_t.backward(torch.tensor(dA))

    A = Z.copy()
    with strict_numerics():
        g.forward_in_place(A, np.empty_like(A))
        np.testing.assert_allclose(A, A_t.detach().numpy(), rtol=1e-12, atol=0)
        g.backward_in_place(dA, A, np.empty_like(A))
    # elu's derivative for z < 0 is A + 1, which keeps about 1e-16 absolute
    # accuracy where exp(z) is tiny, hence the absolute tolerance.
    np.testing.assert_allclose(A, Z_t.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_sigmoid_extremes_are_exact(strict_numerics):
    # sigmoid(+-1e6) rounds to exactly 1 and 0; sigmoid(0) is 1/2; a NaN stays NaN.
    g = activation_module.get_activation("sigmoid")
    Z = np.array([[1e6, -1e6, 0.0, -0.0, np.nan]])
    A = Z.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise"):
            g.forward_in_place(A, np.empty_like(A))
    assert A[0, :4].tolist() == [1.0, 0.0, 0.5, 0.5]
    assert np.isnan(A[0, 4])


@pytest.mark.parametrize(
    "name, options, torch_class, torch_options",
    [
        ("gd", {}, "SGD", {}),
        ("momentum", {"momentum": 0.9, "nesterov": True}, "SGD", {"momentum": 0.9, "nesterov": True}),
        ("adam", {}, "Adam", {}),
        ("adamw", {"weight_decay": 0.1}, "AdamW", {"weight_decay": 0.1}),
        ("rmsprop", {}, "RMSprop", {"alpha": 0.99, "eps": 1e-8}),
    ],
)
def test_chunked_optimizer_matches_torch(monkeypatch, name, options, torch_class, torch_options):
    # 23 parameters in chunks of 5: four full chunks and a chunk of 3.
    monkeypatch.setattr(optimizer_module, "UPDATE_CHUNK", 5)
    rng = np.random.default_rng(2)
    parameters = rng.normal(size=23)
    gradients = [rng.normal(size=23) for _ in range(3)]
    # For AdamW every entry counts as a weight, matching torch's single parameter group.
    optimizer = optimizer_module.make_optimizer(name, **options)
    optimizer.prepare(parameters, np.ones(23, dtype=bool))

    reference = torch.tensor(parameters.copy(), requires_grad=True)
    torch_optimizer = getattr(torch.optim, torch_class)([reference], lr=0.05, **torch_options)
    for gradient in gradients:
        optimizer.step(parameters, gradient, 0.05)
        reference.grad = torch.tensor(gradient)
        torch_optimizer.step()
        np.testing.assert_allclose(parameters, reference.detach().numpy(), rtol=1e-13, atol=1e-15)


def test_float32_adam_matches_torch():
    parameters = np.linspace(-1.0, 1.0, 7, dtype=np.float32)
    gradient = np.linspace(0.5, -0.5, 7, dtype=np.float32)
    optimizer = optimizer_module.make_optimizer("adam")
    optimizer.prepare(parameters, np.ones(7, dtype=bool))

    reference = torch.tensor(parameters.copy(), requires_grad=True)
    torch_optimizer = torch.optim.Adam([reference], lr=0.01)
    for _ in range(3):
        optimizer.step(parameters, gradient, 0.01)
        reference.grad = torch.tensor(gradient)
        torch_optimizer.step()

    assert parameters.dtype == np.float32
    assert optimizer.state["second_moment"].dtype == np.float32
    np.testing.assert_allclose(parameters, reference.detach().numpy(), rtol=1e-6, atol=1e-7)


def test_fused_squared_error_matches_torch():
    rng = np.random.default_rng(4)
    A = rng.normal(size=(5, 2))
    Y = rng.normal(size=(5, 2))
    weights = rng.uniform(0.5, 1.5, size=5)
    loss = get_loss("mse")
    A_t = torch.tensor(A, requires_grad=True)
    for sample_weight in (None, weights):
        A_t.grad = None
        per_sample = ((A_t - torch.tensor(Y)) ** 2).sum(dim=1)
        if sample_weight is None:
            L_t = per_sample.mean()
        else:
            w = torch.tensor(sample_weight)
            L_t = (w * per_sample).sum() / w.sum()
        L_t.backward()

        out = np.empty_like(A)
        L = loss.value_and_gradient(A, A, Y, row_scale(5, sample_weight, A.dtype), out)

        assert L == pytest.approx(float(L_t.detach()), rel=1e-14)
        np.testing.assert_allclose(out, A_t.grad.numpy(), rtol=1e-14)


def test_overflowing_sum_of_finite_parameters_is_not_divergence():
    # Two parameters of 1e308 sum to infinity, but both are finite, so the
    # update must not count as a divergence.  With a zero gradient, gradient
    # descent leaves them unchanged.
    net = mlpnet.Network([1, 1], weights=[[[1e308]]], biases=[[1e308]])
    step = TrainingStep(net, get_loss("mse"), l2=0.0, clip_norm=None)
    step.gradient[...] = 0.0
    with np.errstate(over="ignore"):
        step.update(optimizer_module.make_optimizer("gd"), 0.1)
    assert net.parameters.tolist() == [1e308, 1e308]
