"""Checkpoints in the library: a resumed fit equals an uninterrupted one bit for bit.

The reference for every resumed run is the same run without interruption:
parameters, optimizer state, schedule state, random generator and history
must be identical, not merely close.  Interruptions are made with a callback
that stops training after a chosen epoch, the way a signal handler stops it
through ``Checkpointer.request_stop``.
"""

from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest

import mlpnet
from mlpnet.errors import DivergenceError, InvalidParameterError, ModelFormatError
from mlpnet.training.checkpoint import Checkpointer, load_checkpoint, save_checkpoint
from mlpnet.training.optimizers import Adam

LAYERS = [3, 5, 2]


def problem(seed: int = 0, n_samples: int = 45) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, 3))
    Y = np.column_stack([X @ [1.0, -2.0, 0.5], np.sin(X[:, 0])]) + 0.1 * rng.normal(size=(n_samples, 2))
    weights = rng.uniform(0.5, 2.0, size=n_samples)
    return X, Y, weights


def make_network(seed: int | None = 0, dtype: str = "float64") -> mlpnet.Network:
    return mlpnet.Network(LAYERS, activation="tanh", seed=seed, dtype=dtype)


X, Y, SAMPLE_WEIGHT = problem()

# Each configuration uses mini-batches with shuffling, so the order of every
# later epoch depends on the random generator state in the checkpoint.
CONFIGURATIONS = {
    "adam_step_schedule": dict(
        optimizer="adam", learning_rate=0.01, batch_size=8, schedule="step",
        schedule_options={"step_size": 3, "gamma": 0.5}, validation_fraction=0.2, metrics=["mae", "r2"],
    ),
    "nesterov_cosine_float32": dict(
        optimizer="momentum", nesterov=True, learning_rate=0.02, batch_size=7, schedule="cosine",
        schedule_options={"t_max": 5}, l2=0.01, clip_norm=1.0, dtype="float32",
    ),
    "rmsprop_plateau_early_stopping": dict(
        optimizer="rmsprop", learning_rate=0.01, batch_size=10, schedule="plateau",
        schedule_options={"patience": 1, "factor": 0.5}, early_stopping=True, patience=50,
        restore_best_weights=True, validation_fraction=0.25, sample_weight=SAMPLE_WEIGHT,
    ),
    "adamw_exponential_validation_data": dict(
        optimizer="adamw", weight_decay=0.05, learning_rate=0.01, batch_size=16, schedule="exponential",
        schedule_options={"gamma": 0.9}, validation_data=(X[:10], Y[:10]), metrics=["rmse"],
    ),
    "gd_full_batch": dict(optimizer="gd", learning_rate=0.05),
}


def split_options(options: dict) -> tuple[str, dict]:
    options = dict(options)
    return options.pop("dtype", "float64"), options


def stop_after(epoch: int):
    """A callback that stops training once the 0-based epoch ``epoch`` is complete."""
    return lambda current, logs: current == epoch


def assert_same_training_state(resumed: mlpnet.Network, straight: mlpnet.Network) -> None:
    assert resumed.parameters.dtype == straight.parameters.dtype
    assert resumed.parameters.tobytes() == straight.parameters.tobytes()
    assert resumed.training_state["epoch"] == straight.training_state["epoch"]
    assert resumed.rng.bit_generator.state == straight.rng.bit_generator.state

    ours, theirs = resumed.training_state["optimizer"], straight.training_state["optimizer"]
    assert ours.config() == theirs.config()
    ours_state, theirs_state = ours.state_dict(), theirs.state_dict()
    assert sorted(ours_state) == sorted(theirs_state)
    assert ours_state.pop("step_count") == theirs_state.pop("step_count")
    for key in theirs_state:
        assert ours_state[key].dtype == theirs_state[key].dtype
        assert ours_state[key].tobytes() == theirs_state[key].tobytes(), key

    assert resumed.training_state["schedule"].state_dict() == straight.training_state["schedule"].state_dict()


@pytest.mark.parametrize("stop_epoch", [0, 3, 8])
@pytest.mark.parametrize("name", sorted(CONFIGURATIONS))
def test_resume_equals_uninterrupted_run(tmp_path, name, stop_epoch):
    dtype, options = split_options(CONFIGURATIONS[name])
    epochs = 10
    straight = make_network(dtype=dtype)
    straight_history = straight.fit(X, Y, epochs=epochs, **options)

    path = tmp_path / "run.npz"
    interrupted = make_network(dtype=dtype)
    partial = interrupted.fit(X, Y, epochs=epochs, checkpoint=path, callbacks=[stop_after(stop_epoch)], **options)
    assert len(partial) == stop_epoch + 1

    # A network without a seed: everything that matters must come from the checkpoint.
    resumed = make_network(seed=None, dtype=dtype)
    history = resumed.fit(X, Y, epochs=epochs, resume=path, **options)

    assert_same_training_state(resumed, straight)
    assert history.to_dict() == straight_history.to_dict()
    assert history.loss == straight_history.loss
    assert resumed.seed == straight.seed
    _, checkpoint = load_checkpoint(path)
    assert checkpoint.epoch == epochs
    assert checkpoint.remaining_epochs == 0


def test_resume_restores_early_stopping_counters(tmp_path):
    # min_delta makes most epochs count as no improvement, so the counters matter.
    options = dict(optimizer="adam", learning_rate=0.05, batch_size=8, early_stopping=True, patience=3,
                   min_delta=0.02, restore_best_weights=True, validation_fraction=0.2)
    straight = make_network()
    expected = straight.fit(X, Y, epochs=60, **options)
    assert expected.stopped_epoch is not None and expected.stopped_epoch > 3

    path = tmp_path / "run.npz"
    make_network().fit(X, Y, epochs=60, checkpoint=path, callbacks=[stop_after(expected.stopped_epoch - 2)], **options)
    resumed = make_network()
    history = resumed.fit(X, Y, epochs=60, resume=path, **options)

    assert history.to_dict() == expected.to_dict()
    assert resumed.parameters.tobytes() == straight.parameters.tobytes()


def test_resume_of_finished_run_trains_nothing(tmp_path):
    path = tmp_path / "run.npz"
    options = dict(optimizer="adam", learning_rate=0.01, batch_size=8, epochs=4)
    finished = make_network()
    expected = finished.fit(X, Y, checkpoint=path, **options)

    resumed = make_network(seed=5)
    history = resumed.fit(X, Y, resume=path, **options)

    assert history.to_dict() == expected.to_dict()
    assert resumed.parameters.tobytes() == finished.parameters.tobytes()
    assert resumed.training_state["epoch"] == 4


def test_request_stop_ends_at_epoch_boundary(tmp_path):
    path = tmp_path / "run.npz"
    checkpointer = Checkpointer(path, every=None)

    def press_ctrl_c(epoch, logs):
        if epoch == 2:
            checkpointer.request_stop("interrupted by a test")

    net = make_network()
    history = net.fit(X, Y, optimizer="adam", batch_size=8, epochs=10, callbacks=[press_ctrl_c], checkpoint=checkpointer)

    assert history.stop_reason == "interrupted by a test"
    assert len(history) == 3
    restored, checkpoint = load_checkpoint(path)
    assert checkpoint.epoch == 3
    assert restored.parameters.tobytes() == net.parameters.tobytes()


def test_checkpoint_every_n_epochs_and_at_the_end(tmp_path):
    path = tmp_path / "run.npz"
    seen = []

    def read_checkpoint_epoch(epoch, logs):
        # User callbacks run before the checkpointer, so this reads the file as it was before this epoch.
        seen.append(load_checkpoint(path)[1].epoch if path.exists() else None)

    make_network().fit(X, Y, epochs=7, checkpoint=path, checkpoint_every=3, callbacks=[read_checkpoint_epoch])

    assert seen == [None, None, None, 3, 3, 3, 6]
    assert load_checkpoint(path)[1].epoch == 7


def test_checkpointer_without_every_writes_nothing_on_completion(tmp_path):
    path = tmp_path / "run.npz"
    make_network().fit(X, Y, epochs=3, checkpoint=Checkpointer(path, every=None))
    assert not path.exists()


def test_loaded_checkpoint_continues_like_second_fit_call(tmp_path):
    options = dict(optimizer="adam", learning_rate=0.01, batch_size=8, schedule="step",
                   schedule_options={"step_size": 2, "gamma": 0.5})
    straight = make_network()
    straight.fit(X, Y, epochs=9, **options)

    path = tmp_path / "run.npz"
    make_network().fit(X, Y, epochs=4, checkpoint=path, **options)
    net, checkpoint = load_checkpoint(path)
    net.fit(X, Y, epochs=5, **options)

    assert checkpoint.epoch == 4
    assert_same_training_state(net, straight)


def test_resume_with_optimizer_instance(tmp_path):
    options = dict(learning_rate=0.01, batch_size=8, epochs=6)
    straight = make_network()
    straight.fit(X, Y, optimizer=Adam(beta1=0.8), **options)

    path = tmp_path / "run.npz"
    make_network().fit(X, Y, optimizer=Adam(beta1=0.8), checkpoint=path, callbacks=[stop_after(2)], **options)
    resumed = make_network()
    instance = Adam(beta1=0.8)
    resumed.fit(X, Y, optimizer=instance, resume=path, **options)

    assert resumed.training_state["optimizer"] is instance
    assert_same_training_state(resumed, straight)


# -- a resumed call must continue the same run ---------------------------------------------


@pytest.fixture
def interrupted_run(tmp_path) -> pathlib.Path:
    path = tmp_path / "run.npz"
    make_network().fit(X, Y, optimizer="adam", learning_rate=0.01, batch_size=8, epochs=10,
                       checkpoint=path, callbacks=[stop_after(3)])
    return path


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"learning_rate": 0.02}, ["learning_rate", "0.02", "0.01"]),
        ({"epochs": 12}, ["epochs", "12", "10"]),
        ({"batch_size": 9}, ["batch_size", "9", "8"]),
        ({"optimizer": "rmsprop"}, ["optimizer", "rmsprop", "adam"]),
        ({"beta1": 0.5}, ["optimizer", "0.5", "0.9"]),
        ({"l2": 0.1}, ["l2", "0.1", "0.0"]),
        ({"shuffle": False}, ["shuffle", "False", "True"]),
        ({"metrics": ["mae"]}, ["metrics", "['mae']", "[]"]),
        ({"Y": Y + 1.0}, ["train data differ"]),
        ({"sample_weight": SAMPLE_WEIGHT}, ["train data differ"]),
        ({"validation_fraction": 0.2}, ["validation"]),
    ],
)
def test_resume_rejects_other_settings(interrupted_run, change, words):
    options = dict(optimizer="adam", learning_rate=0.01, batch_size=8, epochs=10)
    options.update(change)
    targets = options.pop("Y", Y)
    net = make_network(seed=3)
    before = net.parameters.copy()

    with pytest.raises(InvalidParameterError) as info:
        net.fit(X, targets, resume=interrupted_run, **options)

    message = str(info.value)
    assert str(interrupted_run) in message
    for word in words:
        assert word in message
    assert net.parameters.tobytes() == before.tobytes()
    assert net.training_state == {}


@pytest.mark.parametrize(
    ("network", "words"),
    [
        (mlpnet.Network([3, 4, 2], activation="tanh"), ["layer_sizes", "[3, 4, 2]", "[3, 5, 2]"]),
        (mlpnet.Network(LAYERS, activation="relu"), ["activations", "relu", "tanh"]),
        (mlpnet.Network(LAYERS, activation="tanh", dtype="float32"), ["dtype", "float32", "float64"]),
    ],
)
def test_resume_rejects_other_network(interrupted_run, network, words):
    with pytest.raises(InvalidParameterError) as info:
        network.fit(X, Y, optimizer="adam", learning_rate=0.01, batch_size=8, epochs=10, resume=interrupted_run)
    for word in words:
        assert word in str(info.value)


def test_resume_missing_file_leaves_network_unchanged(tmp_path):
    net = make_network()
    before = net.parameters.copy()
    with pytest.raises(ModelFormatError, match="file not found"):
        net.fit(X, Y, epochs=3, resume=tmp_path / "absent.npz")
    assert net.parameters.tobytes() == before.tobytes()


def test_resume_needs_checkpoint_written_by_fit(tmp_path):
    path = tmp_path / "manual.npz"
    net = make_network()
    net.fit(X, Y, epochs=2)
    save_checkpoint(path, net)
    with pytest.raises(InvalidParameterError, match="records no run"):
        make_network().fit(X, Y, epochs=2, resume=path)


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"checkpoint_every": 2}, ["checkpoint_every", "checkpoint"]),
        ({"checkpoint": 5}, ["checkpoint must be a file path"]),
        ({"checkpoint": "run.npz", "checkpoint_every": 0}, ["checkpoint_every"]),
        ({"checkpoint": "missing/run.npz"}, ["does not exist"]),
    ],
)
def test_invalid_checkpoint_arguments(tmp_path, monkeypatch, options, words):
    monkeypatch.chdir(tmp_path)
    net = make_network()
    before = net.parameters.copy()
    with pytest.raises(InvalidParameterError) as info:
        net.fit(X, Y, epochs=2, **options)
    for word in words:
        assert word in str(info.value)
    assert net.parameters.tobytes() == before.tobytes()
    assert list(tmp_path.iterdir()) == []


def test_unsupported_generator_rejected_before_training(tmp_path):
    net = make_network()
    net.rng = np.random.Generator(np.random.MT19937(0))
    before = net.parameters.copy()
    with pytest.raises(InvalidParameterError, match="MT19937"):
        net.fit(X, Y, epochs=2, checkpoint=tmp_path / "run.npz")
    assert net.parameters.tobytes() == before.tobytes()
    assert not (tmp_path / "run.npz").exists()


# -- what the file contains -------------------------------------------------------------------


def read_entries(path: pathlib.Path) -> tuple[dict, dict[str, np.ndarray]]:
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    header = json.loads(arrays.pop("metadata").tobytes().decode("utf-8"))
    return header, arrays


def write_entries(path: pathlib.Path, header: dict, arrays: dict[str, np.ndarray]) -> None:
    np.savez(path, metadata=np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8), **arrays)


def test_file_layout(interrupted_run):
    header, arrays = read_entries(interrupted_run)
    state = make_network()
    state.fit(X, Y, optimizer="adam", learning_rate=0.01, batch_size=8, epochs=4)
    generator_state = state.rng.bit_generator.state

    assert header["format"] == "mlpnet-checkpoint"
    assert header["format_version"] == 1
    assert header["layer_sizes"] == LAYERS
    checkpoint = header["checkpoint"]
    assert checkpoint["epoch"] == 4
    assert checkpoint["seed"] == "0"
    assert checkpoint["rng"] == {
        "bit_generator": "PCG64",
        "state": str(generator_state["state"]["state"]),
        "inc": str(generator_state["state"]["inc"]),
        "has_uint32": generator_state["has_uint32"],
        "uinteger": generator_state["uinteger"],
    }
    assert checkpoint["optimizer"]["config"] == {"name": "adam", "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8}
    assert checkpoint["optimizer"]["step_count"] == 4 * 6
    assert sorted(arrays) == ["biases_0", "biases_1", "optimizer_first_moment", "optimizer_second_moment",
                              "weights_0", "weights_1"]
    assert arrays["optimizer_first_moment"].tobytes() == state.training_state["optimizer"].state["first_moment"].tobytes()
    assert checkpoint["history"]["epochs"] == [0, 1, 2, 3]
    assert checkpoint["run"]["epochs"] == 10
    assert len(checkpoint["run"]["data"]["train"]) == 64


def test_infinite_schedule_state_round_trips(tmp_path):
    # The plateau schedule starts with best = +inf, which JSON cannot hold as a number.
    net = make_network()
    net.fit(X, Y, epochs=1, schedule="plateau", schedule_options={"monitor": "loss"})
    net.training_state["schedule"].best = np.inf
    save_checkpoint(tmp_path / "c.npz", net)
    header, _ = read_entries(tmp_path / "c.npz")
    assert header["checkpoint"]["schedule"]["state"]["best"] == "inf"
    restored, _ = load_checkpoint(tmp_path / "c.npz")
    assert restored.training_state["schedule"].best == np.inf


def test_model_file_is_not_a_checkpoint(tmp_path):
    make_network().save(tmp_path / "model.npz")
    with pytest.raises(ModelFormatError, match="it is a model file, not a training checkpoint"):
        load_checkpoint(tmp_path / "model.npz")


def test_checkpoint_is_not_a_model(interrupted_run):
    with pytest.raises(ModelFormatError, match="it is a training checkpoint"):
        mlpnet.load(interrupted_run)


# -- non-finite values never reach a checkpoint ---------------------------------------------------


def test_save_rejects_non_finite_parameters(interrupted_run):
    before = interrupted_run.read_bytes()
    net, _ = load_checkpoint(interrupted_run)
    net._weights[0][1, 1] = np.nan
    with pytest.raises(InvalidParameterError, match="NaN or infinite"):
        save_checkpoint(interrupted_run, net)
    assert interrupted_run.read_bytes() == before
    assert sorted(p.name for p in interrupted_run.parent.iterdir()) == [interrupted_run.name]


def test_save_rejects_non_finite_optimizer_state(interrupted_run):
    before = interrupted_run.read_bytes()
    net, _ = load_checkpoint(interrupted_run)
    net.training_state["optimizer"].state["second_moment"][3] = np.inf
    with pytest.raises(InvalidParameterError, match="optimizer_second_moment"):
        save_checkpoint(interrupted_run, net)
    assert interrupted_run.read_bytes() == before


def test_divergence_keeps_last_finite_checkpoint(tmp_path):
    rng = np.random.default_rng(0)
    X_wild = rng.normal(size=(20, 3))
    y_wild = rng.uniform(-30.0, 45.0, size=20)
    path = tmp_path / "run.npz"
    net = mlpnet.Network([3, 3, 1], activation="sigmoid", seed=0)

    with pytest.raises(DivergenceError) as info:
        net.fit(X_wild, y_wild, learning_rate=5.0, epochs=1000, checkpoint=path)

    restored, checkpoint = load_checkpoint(path)
    assert info.value.epoch > 0
    assert checkpoint.epoch == info.value.epoch
    assert np.isfinite(restored.parameters).all()
    assert np.isfinite(checkpoint.history.loss).all()
    assert len(checkpoint.history) == info.value.epoch


# -- damaged checkpoint objects ------------------------------------------------------------------


def set_field(*keys, value):
    def change(header, arrays):
        target = header["checkpoint"]
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value
    return change


def drop_array(name):
    def change(header, arrays):
        del arrays[name]
        del header["arrays"][name]
    return change


def add_array(header, arrays):
    arrays["optimizer_velocity"] = np.zeros(arrays["optimizer_first_moment"].shape)
    header["arrays"]["optimizer_velocity"] = {"shape": list(arrays["optimizer_velocity"].shape), "dtype": "float64"}


def shorten_moment(header, arrays):
    arrays["optimizer_first_moment"] = arrays["optimizer_first_moment"][:-1].copy()
    header["arrays"]["optimizer_first_moment"]["shape"] = [arrays["optimizer_first_moment"].size]


DAMAGE = {
    "negative_epoch": (set_field("epoch", value=-1), "checkpoint.epoch"),
    "epoch_as_text": (set_field("epoch", value="4"), "checkpoint.epoch"),
    "rng_state_not_digits": (set_field("rng", "state", value="12ab"), "checkpoint.rng.state"),
    "rng_state_as_number": (set_field("rng", "state", value=12), "checkpoint.rng.state"),
    "rng_state_too_large": (set_field("rng", "inc", value=str(2**128)), "checkpoint.rng.inc"),
    "rng_other_generator": (set_field("rng", "bit_generator", value="MT19937"), "checkpoint.rng.bit_generator"),
    "rng_missing": (set_field("rng", value=None), "checkpoint.rng"),
    "unknown_optimizer": (set_field("optimizer", "config", value={"name": "lbfgs"}), "checkpoint.optimizer.config"),
    "invalid_optimizer_setting": (set_field("optimizer", "config", "beta1", value=1.5), "checkpoint.optimizer.config"),
    "optimizer_array_names": (set_field("optimizer", "arrays", value=["velocity"]), "checkpoint.optimizer.arrays"),
    "negative_step_count": (set_field("optimizer", "step_count", value=-3), "checkpoint.optimizer.step_count"),
    "missing_optimizer_array": (drop_array("optimizer_second_moment"), "optimizer_second_moment"),
    "unexpected_array": (add_array, "optimizer_velocity"),
    "short_optimizer_array": (shorten_moment, "optimizer_first_moment"),
    "unknown_schedule": (set_field("schedule", "config", value={"name": "warmup"}), "checkpoint.schedule.config"),
    "schedule_state_fields": (set_field("schedule", "state", value={"epoch": 1}), "checkpoint.schedule.state"),
    "schedule_rate_negative": (set_field("schedule", "state", "learning_rate", value=-0.1),
                               "checkpoint.schedule.state.learning_rate"),
    "history_lengths": (set_field("history", "loss", value=[0.5]), "checkpoint.history.loss"),
    "history_text_value": (set_field("history", "learning_rate", value=["x"] * 4), "checkpoint.history.learning_rate"),
    "history_metric_length": (set_field("history", "metrics", value={"mae": [1.0]}), "checkpoint.history.metrics.mae"),
    "run_digest": (set_field("run", "data", "train", value="abc"), "checkpoint.run.data.train"),
    "run_epochs_zero": (set_field("run", "epochs", value=0), "checkpoint.run.epochs"),
    "early_stopping_config": (set_field("early_stopping", value={"config": {"patience": 0}}),
                              "checkpoint.early_stopping.config"),
    "checkpoint_not_object": (lambda header, arrays: header.update(checkpoint=[1, 2]), "'checkpoint'"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_checkpoint_object_rejected(interrupted_run, damage):
    change, words = DAMAGE[damage]
    header, arrays = read_entries(interrupted_run)
    change(header, arrays)
    write_entries(interrupted_run, header, arrays)

    with pytest.raises(ModelFormatError) as info:
        load_checkpoint(interrupted_run)
    message = str(info.value)
    assert message.startswith(f"cannot load checkpoint file {str(interrupted_run)!r}: ")
    assert words in message

    net = make_network(seed=1)
    before = net.parameters.copy()
    with pytest.raises(ModelFormatError):
        net.fit(X, Y, optimizer="adam", learning_rate=0.01, batch_size=8, epochs=10, resume=interrupted_run)
    assert net.parameters.tobytes() == before.tobytes()


def test_resume_network_without_seed(tmp_path):
    # Without a seed the validation split seed is drawn once and kept in the
    # checkpoint, so the resumed call must split the rows the same way as a
    # second fit call on the interrupted network.
    options = dict(optimizer="adam", learning_rate=0.01, batch_size=8, validation_fraction=0.2, metrics=["mae"])
    path = tmp_path / "run.npz"
    interrupted = make_network(seed=None)
    interrupted.fit(X, Y, epochs=10, checkpoint=path, callbacks=[stop_after(3)], **options)
    continued = interrupted.copy()
    continued_history = continued.fit(X, Y, epochs=6, **options)

    resumed = make_network(seed=None)
    history = resumed.fit(X, Y, epochs=10, resume=path, **options)

    assert resumed.seed is None
    assert_same_training_state(resumed, continued)
    assert history.val_loss[4:] == continued_history.val_loss
    assert history.epochs == list(range(10))
