"""Training trajectories against torch.optim and torch.optim.lr_scheduler in float64.

Each test trains an mlpnet network and a PyTorch copy of it from the same
initial parameters, with the same batches, and compares the parameters
after every epoch and the per-epoch losses.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

import mlpnet
import mlpnet.training

torch = pytest.importorskip("torch")

RTOL = 1e-10
ATOL = 1e-13
EPOCHS = 25

TORCH_ACTIVATIONS = {
    "identity": lambda Z: Z,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
}


def regression_data(m=20, n_in=3, n_out=1, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(m, n_in))
    W = rng.normal(size=(n_in, n_out))
    Y = np.tanh(X @ W) + 0.1 * rng.normal(size=(m, n_out))
    return X, Y


def torch_parameters(net):
    """Copy the network's parameters into float64 leaf tensors: [W1, b1, W2, b2, ...]."""
    params = []
    for W, b in zip(net.weights, net.biases):
        params.append(torch.tensor(W, dtype=torch.float64, requires_grad=True))
        params.append(torch.tensor(b, dtype=torch.float64, requires_grad=True))
    return params


def flat(params):
    """Concatenate [W1, b1, W2, b2, ...] in mlpnet's flat layout."""
    return np.concatenate([p.detach().numpy().ravel() for p in params])


def torch_loss(params, activations, X, Y, loss="mse", weights=None, l2=0.0):
    """The batch loss in PyTorch: forward pass, per-sample loss, weighted mean, L2 penalty."""
    A = X
    for l, name in enumerate(activations):
        W, b = params[2 * l], params[2 * l + 1]
        Z = A @ W.T + b
        if name == "softmax" or (name == "sigmoid" and loss == "binary_crossentropy" and l == len(activations) - 1):
            break
        A = TORCH_ACTIVATIONS[name](Z)
    else:
        Z = None

    if loss == "mse":
        per_sample = ((A - Y) ** 2).sum(dim=1)
    elif loss == "crossentropy":
        per_sample = -(Y * torch.log_softmax(Z, dim=1)).sum(dim=1)
    elif loss == "binary_crossentropy":
        per_sample = torch.nn.functional.binary_cross_entropy_with_logits(Z, Y, reduction="none").sum(dim=1)
    else:
        raise ValueError(loss)

    if weights is None:
        L = per_sample.mean()
    else:
        L = (weights * per_sample).sum() / weights.sum()
    if l2:
        L = L + 0.5 * l2 * sum((params[2 * l] ** 2).sum() for l in range(len(activations)))
    return L


def torch_train(
    net,
    X,
    Y,
    make_optimizer,
    epochs=EPOCHS,
    batch_size=None,
    loss="mse",
    sample_weight=None,
    l2=0.0,
    clip_norm=None,
    make_scheduler=None,
    plateau=False,
    orders=None,
):
    """Train a PyTorch copy of ``net``; return parameters after each epoch, epoch losses and rates."""
    params = torch_parameters(net)
    optimizer = make_optimizer(params)
    scheduler = make_scheduler(optimizer) if make_scheduler else None
    X_t, Y_t = torch.tensor(X), torch.tensor(Y)
    w_t = None if sample_weight is None else torch.tensor(sample_weight)
    m = X.shape[0]
    batch_size = batch_size or m

    trajectory, losses, rates, norms = [], [], [], []
    for epoch in range(epochs):
        order = torch.arange(m) if orders is None else torch.tensor(orders[epoch])
        rates.append(optimizer.param_groups[0]["lr"])
        total = 0.0
        for start in range(0, m, batch_size):
            rows = order[start : start + batch_size]
            optimizer.zero_grad()
            L = torch_loss(
                params, net.activations, X_t[rows], Y_t[rows], loss, None if w_t is None else w_t[rows], l2
            )
            L.backward()
            if clip_norm is not None:
                norms.append(float(torch.nn.utils.clip_grad_norm_(params, clip_norm)))
            optimizer.step()
            total += float(L.detach()) * len(rows)
        losses.append(total / m)
        trajectory.append(flat(params))
        if scheduler is not None:
            scheduler.step(losses[-1]) if plateau else scheduler.step()
    return np.array(trajectory), np.array(losses), np.array(rates), norms


def mlpnet_train(net, X, Y, epochs=EPOCHS, **options):
    """Train ``net`` with mlpnet; return parameters after each epoch and the history."""
    trajectory = []

    def record(epoch, logs):
        trajectory.append(net.parameters.copy())

    history = net.fit(X, Y, epochs=epochs, callbacks=[record], **options)
    return np.array(trajectory), history


def assert_trajectories_match(ours, theirs):
    assert ours.shape == theirs.shape
    for epoch, (p_ours, p_theirs) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(
            p_ours, p_theirs, rtol=RTOL, atol=ATOL, err_msg=f"parameters differ after epoch {epoch}"
        )


OPTIMIZER_CASES = {
    "gd": ({"optimizer": "gd", "learning_rate": 0.1}, lambda p: torch.optim.SGD(p, lr=0.1)),
    "sgd": ({"optimizer": "sgd", "learning_rate": 0.05}, lambda p: torch.optim.SGD(p, lr=0.05)),
    "momentum": (
        {"optimizer": "momentum", "learning_rate": 0.05, "momentum": 0.8},
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8),
    ),
    "nesterov": (
        {"optimizer": "momentum", "learning_rate": 0.05, "momentum": 0.9, "nesterov": True},
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
    ),
    "adam": ({"optimizer": "adam", "learning_rate": 0.01}, lambda p: torch.optim.Adam(p, lr=0.01)),
    "adam_settings": (
        {"optimizer": "adam", "learning_rate": 0.02, "beta1": 0.8, "beta2": 0.95, "epsilon": 1e-6},
        lambda p: torch.optim.Adam(p, lr=0.02, betas=(0.8, 0.95), eps=1e-6),
    ),
    "adamw": (
        {"optimizer": "adamw", "learning_rate": 0.01, "weight_decay": 0.5},
        lambda p: torch.optim.AdamW(
            [{"params": p[0::2], "weight_decay": 0.5}, {"params": p[1::2], "weight_decay": 0.0}], lr=0.01
        ),
    ),
    "adamw_default_decay": (
        {"optimizer": "adamw", "learning_rate": 0.01},
        lambda p: torch.optim.AdamW(
            [{"params": p[0::2]}, {"params": p[1::2], "weight_decay": 0.0}], lr=0.01
        ),
    ),
    "rmsprop": ({"optimizer": "rmsprop", "learning_rate": 0.01}, lambda p: torch.optim.RMSprop(p, lr=0.01)),
    "rmsprop_rho": (
        {"optimizer": "rmsprop", "learning_rate": 0.005, "rho": 0.9, "epsilon": 1e-7},
        lambda p: torch.optim.RMSprop(p, lr=0.005, alpha=0.9, eps=1e-7),
    ),
}


@pytest.mark.parametrize("batch_size", [None, 7], ids=["full_batch", "batch_7"])
@pytest.mark.parametrize("case", list(OPTIMIZER_CASES))
def test_optimizer_matches_torch(case, batch_size):
    options, make_torch_optimizer = OPTIMIZER_CASES[case]
    X, Y = regression_data(m=20)
    net = mlpnet.Network([3, 4, 2, 1], activation="tanh", seed=1)
    theirs, torch_losses, _, _ = torch_train(net, X, Y, make_torch_optimizer, batch_size=batch_size)

    ours, history = mlpnet_train(net, X, Y, batch_size=batch_size, shuffle=False, **options)

    assert_trajectories_match(ours, theirs)
    np.testing.assert_allclose(history.loss, torch_losses, rtol=RTOL)


def test_momentum_state_is_flat_and_restorable():
    X, Y = regression_data(m=20)
    net = mlpnet.Network([3, 4, 1], seed=2)
    optimizer = mlpnet.training.Momentum(momentum=0.9)
    net.fit(X, Y, optimizer=optimizer, learning_rate=0.05, epochs=3)
    state = optimizer.state_dict()

    assert state["step_count"] == 3
    assert state["velocity"].shape == (net.n_parameters,)

    restored = mlpnet.training.Momentum(momentum=0.9)
    restored.load_state_dict(state)
    twin = net.copy()
    twin.training_state = {}
    net.fit(X, Y, optimizer=optimizer, learning_rate=0.05, epochs=4)
    twin.fit(X, Y, optimizer=restored, learning_rate=0.05, epochs=4)
    np.testing.assert_array_equal(twin.parameters, net.parameters)


@pytest.mark.parametrize("optimizer", ["momentum", "adam"])
def test_shuffled_batches_match_torch(optimizer):
    X, Y = regression_data(m=23)
    net = mlpnet.Network([3, 5, 1], activation="sigmoid", seed=3)
    generator = copy.deepcopy(net.rng)
    orders = [generator.permutation(23) for _ in range(EPOCHS)]
    options, make_torch_optimizer = OPTIMIZER_CASES[optimizer]
    theirs, torch_losses, _, _ = torch_train(net, X, Y, make_torch_optimizer, batch_size=8, orders=orders)

    ours, history = mlpnet_train(net, X, Y, batch_size=8, shuffle=True, **options)

    assert_trajectories_match(ours, theirs)
    np.testing.assert_allclose(history.loss, torch_losses, rtol=RTOL)


@pytest.mark.parametrize("batch_size", [None, 6], ids=["full_batch", "batch_6"])
@pytest.mark.parametrize("optimizer", ["gd", "adam"])
def test_l2_penalty_matches_torch(optimizer, batch_size):
    X, Y = regression_data(m=20)
    net = mlpnet.Network([3, 4, 1], activation="tanh", seed=4)
    options, make_torch_optimizer = OPTIMIZER_CASES[optimizer]
    theirs, torch_losses, _, _ = torch_train(net, X, Y, make_torch_optimizer, batch_size=batch_size, l2=0.3)

    ours, history = mlpnet_train(net, X, Y, batch_size=batch_size, shuffle=False, l2=0.3, **options)

    assert_trajectories_match(ours, theirs)
    np.testing.assert_allclose(history.loss, torch_losses, rtol=RTOL)


def test_l2_equals_torch_weight_decay_on_weights():
    # SGD's weight_decay adds wd * P to the gradient, which is the gradient of (wd / 2) ||P||^2.
    X, Y = regression_data(m=20)
    net = mlpnet.Network([3, 4, 1], activation="tanh", seed=5)

    def make_torch_optimizer(p):
        return torch.optim.SGD([{"params": p[0::2], "weight_decay": 0.2}, {"params": p[1::2]}], lr=0.1)

    theirs, _, _, _ = torch_train(net, X, Y, make_torch_optimizer)

    ours, _ = mlpnet_train(net, X, Y, optimizer="gd", learning_rate=0.1, l2=0.2)

    assert_trajectories_match(ours, theirs)


@pytest.mark.parametrize("batch_size", [None, 5], ids=["full_batch", "batch_5"])
def test_clip_norm_matches_torch(batch_size):
    X, Y = regression_data(m=20)
    Y = 5.0 * Y
    net = mlpnet.Network([3, 4, 1], activation="tanh", seed=6)
    options, make_torch_optimizer = OPTIMIZER_CASES["momentum"]
    theirs, torch_losses, _, norms = torch_train(
        net, X, Y, make_torch_optimizer, batch_size=batch_size, l2=0.1, clip_norm=4.0
    )
    assert max(norms) > 4.0, "the test needs some gradients large enough to be clipped"
    assert min(norms) < 4.0, "the test needs some gradients below the clipping norm"

    ours, history = mlpnet_train(net, X, Y, batch_size=batch_size, shuffle=False, l2=0.1, clip_norm=4.0, **options)

    assert_trajectories_match(ours, theirs)
    np.testing.assert_allclose(history.loss, torch_losses, rtol=RTOL)


def test_sample_weight_matches_torch():
    X, Y = regression_data(m=20)
    sample_weight = np.random.default_rng(7).uniform(0.1, 3.0, size=20)
    net = mlpnet.Network([3, 4, 1], activation="sigmoid", seed=7)
    options, make_torch_optimizer = OPTIMIZER_CASES["adam"]
    theirs, torch_losses, _, _ = torch_train(net, X, Y, make_torch_optimizer, batch_size=6, sample_weight=sample_weight)

    ours, history = mlpnet_train(net, X, Y, batch_size=6, shuffle=False, sample_weight=sample_weight, **options)

    assert_trajectories_match(ours, theirs)
    np.testing.assert_allclose(history.loss, torch_losses, rtol=RTOL)


@pytest.mark.parametrize(
    "loss, output_activation",
    [("crossentropy", "softmax"), ("binary_crossentropy", "sigmoid")],
)
def test_classification_losses_match_torch(loss, output_activation):
    rng = np.random.default_rng(8)
    X = rng.normal(size=(21, 3))
    if loss == "crossentropy":
        Y = np.eye(3)[rng.integers(0, 3, size=21)]
    else:
        Y = rng.integers(0, 2, size=(21, 2)).astype(float)
    net = mlpnet.Network([3, 5, Y.shape[1]], activation="relu", output_activation=output_activation, seed=8)
    options, make_torch_optimizer = OPTIMIZER_CASES["nesterov"]
    theirs, torch_losses, _, _ = torch_train(net, X, Y, make_torch_optimizer, batch_size=8, loss=loss)

    ours, history = mlpnet_train(net, X, Y, loss=loss, batch_size=8, shuffle=False, **options)

    assert_trajectories_match(ours, theirs)
    np.testing.assert_allclose(history.loss, torch_losses, rtol=RTOL)


SCHEDULE_CASES = {
    "step": (
        {"schedule": "step", "schedule_options": {"step_size": 4, "gamma": 0.5}},
        lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=4, gamma=0.5),
    ),
    "exponential": (
        {"schedule": "exponential", "schedule_options": {"gamma": 0.9}},
        lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.9),
    ),
    "cosine": (
        {"schedule": "cosine", "schedule_options": {"t_max": 10, "eta_min": 0.001}},
        lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=10, eta_min=0.001),
    ),
    "cosine_object": (
        {"schedule": "object"},
        lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=7),
    ),
}


@pytest.mark.parametrize("batch_size", [None, 7], ids=["full_batch", "batch_7"])
@pytest.mark.parametrize("case", list(SCHEDULE_CASES))
def test_schedule_matches_torch(case, batch_size):
    options, make_scheduler = SCHEDULE_CASES[case]
    if options["schedule"] == "object":
        options = {"schedule": mlpnet.training.CosineSchedule(t_max=7)}
    X, Y = regression_data(m=20)
    net = mlpnet.Network([3, 4, 1], activation="tanh", seed=9)
    theirs, torch_losses, torch_rates, _ = torch_train(
        net, X, Y, lambda p: torch.optim.SGD(p, lr=0.2, momentum=0.5), batch_size=batch_size,
        make_scheduler=make_scheduler,
    )

    ours, history = mlpnet_train(
        net, X, Y, optimizer="momentum", momentum=0.5, learning_rate=0.2, batch_size=batch_size,
        shuffle=False, **options,
    )

    np.testing.assert_allclose(history.learning_rate, torch_rates, rtol=1e-12)
    assert_trajectories_match(ours, theirs)
    np.testing.assert_allclose(history.loss, torch_losses, rtol=RTOL)


def test_plateau_schedule_matches_torch():
    # With a 5 % threshold and a patience of 2 the loss counts as stalled several
    # times in 40 epochs, so the schedule cuts the rate more than once.
    X, Y = regression_data(m=20)
    net = mlpnet.Network([3, 4, 1], activation="tanh", seed=10)
    options = {"factor": 0.5, "patience": 2, "threshold": 0.05, "cooldown": 1}
    theirs, torch_losses, torch_rates, _ = torch_train(
        net, X, Y, lambda p: torch.optim.SGD(p, lr=0.5), epochs=40,
        make_scheduler=lambda o: torch.optim.lr_scheduler.ReduceLROnPlateau(o, **options), plateau=True,
    )
    assert len(set(torch_rates)) >= 3, "the reference run should reduce the rate at least twice"

    ours, history = mlpnet_train(
        net, X, Y, epochs=40, learning_rate=0.5, schedule="plateau", schedule_options=options
    )

    np.testing.assert_allclose(history.learning_rate, torch_rates, rtol=1e-12)
    assert_trajectories_match(ours, theirs)
    np.testing.assert_allclose(history.loss, torch_losses, rtol=RTOL)


def test_float32_network_follows_float64_reference_loosely():
    X, Y = regression_data(m=20)
    net64 = mlpnet.Network([3, 4, 1], activation="tanh", seed=11)
    net32 = mlpnet.Network([3, 4, 1], activation="tanh", dtype="float32", weights=net64.weights, biases=net64.biases)
    theirs, _, _, _ = torch_train(net64, X, Y, lambda p: torch.optim.Adam(p, lr=0.01))

    ours, history = mlpnet_train(net32, X, Y, optimizer="adam", learning_rate=0.01)

    assert net32.parameters.dtype == np.float32
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)
