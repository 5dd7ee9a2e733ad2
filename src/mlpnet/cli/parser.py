"""The argument parser of the ``mlpnet`` command: every subcommand and option.

Option values are checked here, while parsing, so a bad value stops the run
before any file is read.  Each subcommand stores its handler as ``args.handler``, a
"module:function" name inside this package that main imports only when the
command runs, so ``mlpnet --help`` does not load every module.
"""

from __future__ import annotations

import argparse
import math

from ..activations import get_activation
from ..errors import InvalidParameterError, MlpnetError
from ..losses import LOSSES, get_loss
from ..training.optimizers import OPTIMIZERS
from .errors import CommandLineError

# Defaults of `mlpnet train`.  They differ from the library's Network.fit
# defaults (plain full-batch gradient descent) because Adam on mini-batches
# trains the bundled datasets well in a few hundred epochs without tuning.
DEFAULT_HIDDEN = "16"
DEFAULT_ACTIVATION = "tanh"
DEFAULT_OPTIMIZER = "adam"
DEFAULT_LEARNING_RATE = 0.01
DEFAULT_EPOCHS = 200
DEFAULT_BATCH_SIZE = 32
DEFAULT_SEED = 0
DEFAULT_VALIDATION_FRACTION = 0.2


# Defaults of `mlpnet explain`.
EXPLAIN_ROWS = 4
EXPLAIN_LEARNING_RATE = 0.1
EXPLAIN_PRECISION = 6


class ArgumentParser(argparse.ArgumentParser):
    """An argparse parser that raises CommandLineError instead of printing usage and exiting."""

    def error(self, message: str):  # type: ignore[override]
        raise CommandLineError(message, help=f"run '{self.prog} --help' to see the options")


# -- option types -----------------------------------------------------------


def option_type(check):
    """Wrap a checking function as an argparse type whose errors become usage errors."""

    def parse(text: str):
        try:
            return check(text)
        except MlpnetError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from exc

    parse.__name__ = check.__name__
    return parse


def parse_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InvalidParameterError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise InvalidParameterError(f"expected a finite number, got {text!r}")
    return value


def parse_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise InvalidParameterError(f"expected an integer, got {text!r}") from None


@option_type
def positive_float(text: str) -> float:
    value = parse_float(text)
    if value <= 0:
        raise InvalidParameterError(f"expected a number > 0, got {text!r}")
    return value


@option_type
def non_negative_float(text: str) -> float:
    value = parse_float(text)
    if value < 0:
        raise InvalidParameterError(f"expected a number >= 0, got {text!r}")
    return value


@option_type
def fraction(text: str) -> float:
    value = parse_float(text)
    if not 0 <= value < 1:
        raise InvalidParameterError(f"expected a fraction in [0, 1), got {text!r}")
    return value


@option_type
def positive_int(text: str) -> int:
    value = parse_int(text)
    if value < 1:
        raise InvalidParameterError(f"expected an integer >= 1, got {text!r}")
    return value


@option_type
def any_int(text: str) -> int:
    return parse_int(text)


@option_type
def batch_size(text: str) -> int | None:
    """Parse a batch size: a positive integer, or "full" for the whole training set."""
    if text.strip().lower() == "full":
        return None
    value = parse_int(text)
    if value < 1:
        raise InvalidParameterError(f"expected an integer >= 1 or 'full', got {text!r}")
    return value


@option_type
def precision(text: str) -> int:
    value = parse_int(text)
    if not 1 <= value <= 17:
        raise InvalidParameterError(f"expected an integer from 1 to 17, got {text!r}")
    return value


@option_type
def hidden_sizes(text: str) -> list[int]:
    """Parse "16,8" into [16, 8]; "none" means no hidden layer."""
    if text.strip().lower() == "none":
        return []
    sizes = []
    for part in text.split(","):
        part = part.strip()
        if not part.isdigit() or int(part) < 1:
            raise InvalidParameterError(
                f"expected comma-separated layer sizes >= 1 such as 16,8 (or 'none'), "
                f"got {text!r}: {part!r} is not a positive integer"
            )
        sizes.append(int(part))
    return sizes


@option_type
def name_list(text: str) -> list[str]:
    """Parse "a,b,c" into ["a", "b", "c"]."""
    names = [name.strip() for name in text.split(",")]
    if any(not name for name in names):
        raise InvalidParameterError(f"expected comma-separated column names such as a,b,c, got {text!r}")
    return names


@option_type
def activation_name(text: str) -> str:
    return get_activation(text).name


@option_type
def loss_name(text: str) -> str:
    return get_loss(text).name


@option_type
def delimiter(text: str) -> str:
    if text in ("\\t", "tab"):
        return "\t"
    if len(text) != 1 or text in ('"', "\n", "\r"):
        raise InvalidParameterError(f"expected one character such as , or ; or 'tab', got {text!r}")
    return text


# -- subcommands ------------------------------------------------------------


def add_csv_options(parser: argparse.ArgumentParser, follows_model: bool) -> None:
    """Add --no-header and --delimiter; for a saved model they default to the training file's."""
    if follows_model:
        header = parser.add_mutually_exclusive_group()
        header.add_argument(
            "--header", dest="header", action="store_true", default=None,
            help="the first line of DATA.csv contains column names (default: as in the training file)",
        )
        header.add_argument(
            "--no-header", dest="header", action="store_false",
            help="DATA.csv has no header line; columns are named by 0-based position "
            "(default: as in the training file)",
        )
        parser.add_argument(
            "--delimiter", type=delimiter, default=None,
            help="field separator, one character or 'tab' (default: as in the training file)",
        )
    else:
        parser.add_argument(
            "--no-header", dest="header", action="store_false", default=True,
            help="the CSV has no header line; columns are then named by 0-based position "
            "'0', '1', ... (default: the first line contains column names)",
        )
        parser.add_argument(
            "--delimiter", type=delimiter, default=",",
            help="field separator, one character or 'tab' (default: ,)",
        )


def add_train(subparsers) -> None:
    losses = ", ".join(sorted(LOSSES))
    parser = subparsers.add_parser(
        "train",
        help="train a network on a CSV file or a bundled dataset and save it",
        description="Train a network on the rows of a CSV file or of a bundled dataset and "
        "save it, with its input scaling and class labels, to one model file. "
        "The defaults (Adam, mini-batches of 32, 200 epochs) differ from the library's "
        "Network.fit, whose default is plain full-batch gradient descent.",
    )
    parser.set_defaults(handler="train:run")

    source = parser.add_argument_group("data")
    source.add_argument("data", nargs="?", metavar="DATA.csv", help="the training data, one sample per row")
    source.add_argument("--dataset", metavar="NAME", help="train on a bundled dataset instead of a file (see 'mlpnet datasets')")
    source.add_argument(
        "--target", metavar="COLUMN",
        help="the column to predict, by name or 0-based index (default: the dataset's target, "
        "or the last column of DATA.csv)",
    )
    source.add_argument(
        "--features", type=name_list, metavar="A,B,C",
        help="comma-separated input columns (default: every column but the target)",
    )
    source.add_argument(
        "--task", choices=("auto", "regression", "classification"), default="auto",
        help="what to learn; auto means classification when the target contains text labels or the "
        "loss is a cross-entropy, else regression (default: auto)",
    )
    add_csv_options(source, follows_model=False)
    source.add_argument(
        "--drop-missing", action="store_true",
        help="drop rows with an empty cell in a used column instead of stopping with an error "
        "(default: off)",
    )
    source.add_argument(
        "--no-standardize", dest="standardize", action="store_false",
        help="use inputs and regression targets as they are (default: standardize each column "
        "to mean 0 and standard deviation 1 from the training rows)",
    )

    network = parser.add_argument_group("network")
    network.add_argument(
        "--hidden", type=hidden_sizes, default=hidden_sizes(DEFAULT_HIDDEN), metavar="SIZES",
        help=f"comma-separated hidden layer sizes in units, such as 16,8, or 'none' "
        f"(default: {DEFAULT_HIDDEN})",
    )
    network.add_argument(
        "--activation", type=activation_name, default=DEFAULT_ACTIVATION,
        help="hidden activation: identity, sigmoid, tanh, relu, leaky_relu, elu or softplus "
        f"(default: {DEFAULT_ACTIVATION})",
    )
    network.add_argument(
        "--output-activation", type=activation_name,
        help="output activation (default: identity for regression, sigmoid for two classes, "
        "softmax for more)",
    )
    network.add_argument(
        "--dtype", choices=("float64", "float32"), default="float64",
        help="floating-point type of weights and computations (default: float64)",
    )
    network.add_argument(
        "--seed", type=any_int, default=DEFAULT_SEED,
        help="seed of the initial weights, the mini-batch order and the validation split; "
        f"the same seed gives the same model (default: {DEFAULT_SEED})",
    )

    training = parser.add_argument_group("training")
    training.add_argument(
        "--loss", type=loss_name,
        help=f"loss function: {losses} (default: mse for regression, binary_crossentropy for "
        "two classes, crossentropy for more)",
    )
    training.add_argument(
        "--optimizer", choices=tuple(OPTIMIZERS), default=DEFAULT_OPTIMIZER,
        help="update rule; gd with --batch-size full is the library's plain full-batch gradient "
        f"descent (default: {DEFAULT_OPTIMIZER})",
    )
    training.add_argument(
        "--learning-rate", type=positive_float, default=DEFAULT_LEARNING_RATE, metavar="RATE",
        help=f"step size of the optimizer (default: {DEFAULT_LEARNING_RATE})",
    )
    training.add_argument(
        "--epochs", type=positive_int, default=DEFAULT_EPOCHS,
        help=f"number of passes over the training rows (default: {DEFAULT_EPOCHS})",
    )
    training.add_argument(
        "--batch-size", type=batch_size, default=DEFAULT_BATCH_SIZE, metavar="ROWS",
        help=f"rows per gradient step, or 'full' for the whole training set "
        f"(default: {DEFAULT_BATCH_SIZE})",
    )
    training.add_argument(
        "--l2", type=non_negative_float, default=0.0, metavar="STRENGTH",
        help="L2 penalty on the weights: the loss gains (l2/2) * sum of squared weights "
        "(default: 0)",
    )
    training.add_argument(
        "--validation-fraction", type=fraction, default=DEFAULT_VALIDATION_FRACTION,
        metavar="FRACTION",
        help="share of the rows held out to measure validation loss, rounded down to whole rows; "
        f"0 holds out none (default: {DEFAULT_VALIDATION_FRACTION})",
    )
    training.add_argument(
        "--patience", type=positive_int, metavar="EPOCHS",
        help="stop when the validation loss (the training loss without validation rows) has not "
        "improved for this many epochs, and keep the best epoch's weights (default: off)",
    )

    output = parser.add_argument_group("output")
    output.add_argument("--out", required=True, metavar="MODEL.npz", help="the model file to write")
    output.add_argument(
        "--plot", metavar="LOSS.png",
        help="also write the training and validation loss curves as a PNG image "
        "(needs matplotlib: pip install 'mlpnet[plot]'; default: no plot)",
    )
    verbosity = output.add_mutually_exclusive_group()
    verbosity.add_argument(
        "--verbose", action="store_true",
        help="print one line per epoch to stderr, and the library's info messages (default: a "
        "progress bar when stderr is a terminal, else one line per epoch)",
    )
    verbosity.add_argument(
        "--quiet", action="store_true", help="print nothing but errors (default: off)"
    )
    add_checkpoint_options(parser)

    from ..distributed.cli_options import add_dask_options

    add_dask_options(parser)


def add_checkpoint_options(parser: argparse.ArgumentParser) -> None:
    """Add --checkpoint, --checkpoint-every and --resume to ``mlpnet train``."""
    group = parser.add_argument_group(
        "checkpoints",
        description="Ctrl-C (SIGINT) or SIGTERM stops training after the current epoch and saves "
        "MODEL.interrupted.npz and a checkpoint (--checkpoint, else MODEL.checkpoint.npz beside "
        "--out); a second signal stops at once without saving.",
    )
    group.add_argument(
        "--checkpoint", metavar="CHECKPOINT.npz",
        help="write the training state (weights, optimizer state, random generator, epoch count, "
        "history) to this file every --checkpoint-every epochs, replacing it atomically "
        "(default: none, but an interrupted run writes MODEL.checkpoint.npz)",
    )
    group.add_argument(
        "--checkpoint-every", type=positive_int, metavar="EPOCHS",
        help="epochs between checkpoints, with --checkpoint or --resume (default: 1)",
    )
    group.add_argument(
        "--resume", metavar="CHECKPOINT.npz",
        help="continue the run that wrote this checkpoint, with the same data and options, and "
        "keep writing checkpoints to it unless --checkpoint names another file (default: start "
        "a new run)",
    )


def add_predict(subparsers) -> None:
    parser = subparsers.add_parser(
        "predict",
        help="predict the target of each row of a CSV file with a saved model",
        description="Write one prediction per row of DATA.csv as CSV: the predicted value, or "
        "for a classifier the predicted label and one probability column per class. "
        "DATA.csv must hold the model's feature columns by name; other columns are ignored.",
    )
    parser.set_defaults(handler="predict:run_predict")
    parser.add_argument("model", metavar="MODEL.npz", help="a model file written by 'mlpnet train'")
    parser.add_argument("data", metavar="DATA.csv", help="the rows to predict")
    parser.add_argument("--out", metavar="PREDICTIONS.csv", help="write here instead of to standard output")
    add_csv_options(parser, follows_model=True)


def add_evaluate(subparsers) -> None:
    parser = subparsers.add_parser(
        "evaluate",
        help="score a saved model on a CSV file that contains the target",
        description="Print the model's metrics on the rows of DATA.csv: MSE, RMSE, MAE and R2 "
        "for a regression, accuracy, log loss and the confusion matrix for a classifier.",
    )
    parser.set_defaults(handler="predict:run_evaluate")
    parser.add_argument("model", metavar="MODEL.npz", help="a model file written by 'mlpnet train'")
    parser.add_argument("data", metavar="DATA.csv", help="rows with the feature columns and the target")
    parser.add_argument(
        "--target", metavar="COLUMN",
        help="the column holding the true values (default: the target column the model was trained on)",
    )
    add_csv_options(parser, follows_model=True)


def add_describe(subparsers) -> None:
    parser = subparsers.add_parser(
        "describe",
        help="show a saved model's layers, columns, training settings and metrics",
        description="Print a saved model's layers, parameter count, activations, loss, the "
        "columns it expects, how it was trained and its final metrics.",
    )
    parser.set_defaults(handler="describe:run")
    parser.add_argument("model", metavar="MODEL.npz", help="a model file")


def add_datasets(subparsers) -> None:
    parser = subparsers.add_parser(
        "datasets",
        help="list the bundled datasets",
        description="List the datasets bundled with mlpnet, for 'mlpnet train --dataset NAME'.",
    )
    parser.set_defaults(handler="datasets_command:run")


def add_explain(subparsers) -> None:
    parser = subparsers.add_parser(
        "explain",
        help="print every quantity of one gradient-descent step",
        description="Print one full step of plain gradient descent: the forward pass, the loss, "
        "every gradient of the backward pass and the updated parameters, each with its formula "
        "and shape. Without --model it uses the 3-3-1 network (sigmoid hidden layer, identity "
        "output, squared error) on the first rows of the standardized stackloss dataset.",
    )
    parser.set_defaults(handler="explain:run")
    parser.add_argument("--model", metavar="MODEL.npz", help="explain a step of this saved model (needs --data)")
    parser.add_argument("--data", metavar="DATA.csv", help="rows with the model's features and target (with --model)")
    parser.add_argument(
        "--rows", type=positive_int, default=EXPLAIN_ROWS,
        help=f"number of rows m to use, from the top of the data (default: {EXPLAIN_ROWS})",
    )
    parser.add_argument(
        "--learning-rate", type=positive_float, default=EXPLAIN_LEARNING_RATE, metavar="RATE",
        help=f"step size of the gradient-descent update (default: {EXPLAIN_LEARNING_RATE})",
    )
    parser.add_argument(
        "--seed", type=any_int, default=DEFAULT_SEED,
        help=f"seed of the 3-3-1 network's initial weights (default: {DEFAULT_SEED})",
    )
    parser.add_argument(
        "--precision", type=precision, default=EXPLAIN_PRECISION,
        help=f"significant digits of each printed number, 1 to 17 (default: {EXPLAIN_PRECISION}; "
        "17 prints every float64 exactly)",
    )
    add_csv_options(parser, follows_model=True)


def build_parser() -> ArgumentParser:
    """Build the parser of ``mlpnet`` and all its subcommands."""
    from .. import __version__

    parser = ArgumentParser(
        prog="mlpnet",
        description="Train, inspect and apply multi-layer perceptrons from the command line.",
        epilog="Exit status: 0 on success, 2 for invalid options or input, 1 for any other failure.",
    )
    parser.add_argument("--version", action="version", version=f"mlpnet {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    add_train(subparsers)
    add_predict(subparsers)
    add_evaluate(subparsers)
    add_describe(subparsers)
    add_datasets(subparsers)
    add_explain(subparsers)
    return parser
