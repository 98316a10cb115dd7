"""jaxunlearn: train a model, unlearn part of its training data, and compare the result with a
model retrained without that data.

Commands (jaxunlearn COMMAND --help explains each option):
  quickstart  the whole story on scikit-learn digits in one command
  train       train an original model (--config), or its retrained reference on the same split
              (--from ORIGINAL --subset retain); resumable, checkpointed with Orbax
  unlearn     run an unlearning method (with add-ons) on a trained model
  evaluate    put the original, the retrained and unlearned models side by side, with plots
  report      combine result JSON files into tables and plots

Example (digits, forgetting every "3"):
  jaxunlearn train --config experiments/configs/digits_mlp.py --workdir runs/digits \
      --set data.forget_fraction=none --set data.forget_classes=3
  jaxunlearn train --from runs/digits --subset retain --workdir runs/digits_ref
  jaxunlearn unlearn --from runs/digits --method salun --addon prob_mask \
      --hp learning_rate=0.001 --reference runs/digits_ref --out runs/digits_salun
  jaxunlearn evaluate --original runs/digits --retrained runs/digits_ref \
      --unlearned runs/digits_salun --out runs/evaluation

Errors are one or two lines and exit with status 2; --debug (or JAXUNLEARN_DEBUG=1) shows the
traceback. Compiled programs are cached in ~/.cache/jaxunlearn/jax (JAXUNLEARN_CACHE_DIR moves
it; --no-compile-cache or JAXUNLEARN_NO_COMPILE_CACHE=1 turns it off).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Sequence


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line, with where to look."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the descriptions' line breaks; fills in the registered method and add-on names
    (imported only when help is shown)."""

    def _expand_help(self, action):
        text = super()._expand_help(action)
        if "{methods}" in text or "{addons}" in text:
            from jaxunlearn.methods import ADDONS, METHODS

            text = text.replace("{methods}", ", ".join(sorted(METHODS)))
            text = text.replace("{addons}", ", ".join(sorted(ADDONS)))
        return text


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("jaxunlearn")
    except PackageNotFoundError:  # run from a source tree that was not installed
        return "unknown"


def _common(parser: argparse.ArgumentParser, set_help: str | None) -> None:
    if set_help is not None:
        parser.add_argument("--set", dest="overrides", action="append", default=[],
                            metavar="PATH=VALUE", help=set_help)
    else:
        parser.set_defaults(overrides=[])
    parser.add_argument("--no-progress", action="store_true",
                        help="hide the progress bars (JAXUNLEARN_NO_PROGRESS=1 does too)")
    parser.add_argument(
        "--distributed", action="store_true",
        help="join a multi-process run with jax.distributed (processes from JAXUNLEARN_* "
             "variables or SLURM/Open MPI; see docs/distributed.md)")
    parser.add_argument(
        "--no-compile-cache", action="store_true",
        help="do not reuse or store compiled programs in the persistent compilation cache "
             "(default: ~/.cache/jaxunlearn/jax, or $JAXUNLEARN_CACHE_DIR/jax; "
             "JAXUNLEARN_NO_COMPILE_CACHE=1 turns it off too)")
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback of an error (JAXUNLEARN_DEBUG=1 does too)")


_DATA_DIR_ONLY = ("only data.data_dir=DIR, where the dataset files are now if they moved since "
                  "training; the data, split and model are the train workdir's (repeatable)")


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="jaxunlearn", description=__doc__,
                     formatter_class=_HelpFormatter)
    parser.add_argument("--version", action="version", version=f"jaxunlearn {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                     parser_class=_Parser)

    def command(name: str, summary: str, description: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=summary, description=description,
                                   formatter_class=_HelpFormatter)

    quick = command(
        "quickstart", "train, retrain, unlearn with seven methods, evaluate and audit on digits",
        "Train an MLP on scikit-learn's digits, retrain it without a random 10% (the reference),\n"
        "unlearn that 10% with fine-tuning, gradient ascent, NegGrad+, random labels, SalUn, AMUN\n"
        "and random labels with the PROB mask, evaluate every model (UA, RA, TA, MIA, gap), audit\n"
        "each method with U-LiRA, and write results.{md,csv,json,png} and splits.json to --out.\n"
        "An --out that already holds the same quickstart is left as it is.")
    quick.add_argument("--out", default="quickstart_out",
                       help="output directory (default: quickstart_out)")
    _common(quick, "override a field of the quickstart's config (repeatable): ulira_models=0 "
                   "skips the U-LiRA audit, variants=finetune,amun picks the methods, "
                   "experiment.train.epochs=10, experiment.data.forget_fraction=0.2, ...")

    train = command(
        "train", "train and checkpoint a model (an original, or its retrained reference)",
        "Train the original model on the full training set (--config FILE), or the retrained\n"
        "reference on the retain set of an original's split (--from ORIGINAL --subset retain).\n"
        "Checkpoints go to --workdir/checkpoints; the same command again resumes from the newest\n"
        "one (and says from which step), and a finished run is left as it is.")
    train.add_argument("--config", default=None, metavar="FILE",
                       help="Python file whose get_config() returns an ExperimentConfig (data, "
                            "model, train), e.g. experiments/configs/digits_mlp.py")
    train.add_argument("--from", dest="source", default=None, metavar="WORKDIR",
                       help="instead of --config: the --workdir of a trained original; its config "
                            "and saved split are used (with --subset retain: its reference)")
    train.add_argument("--workdir", required=True,
                       help="where run.json, splits.json, checkpoints/ and metrics.json go")
    train.add_argument(
        "--subset", choices=("full", "retain"), default="full",
        help="full: train the original on the whole training set (default); retain: train the "
             "reference on the retain set only (the forget set left out)")
    train.add_argument("--restore-step", type=int, default=None, metavar="STEP",
                       help="resume from checkpoint STEP instead of the newest (newer ones are "
                            "moved to checkpoints_superseded/, never deleted)")
    _common(train, "override a config field (repeatable), e.g. train.learning_rate=0.05, "
                   "train.epochs=10, data.forget_fraction=none data.forget_classes=3; every "
                   "value is checked before anything runs (with --from: train.* only)")

    unlearn = command(
        "unlearn", "unlearn the forget set from a trained model",
        "Restore the original model from a `jaxunlearn train` workdir (--from), unlearn the\n"
        "forget set of its split with --method (and --addon transforms), and write the unlearned\n"
        "variables, checkpoints and metrics.json to --out. With --reference it also reports the\n"
        "MIA-efficacy and the gap to the retrained model.")
    unlearn.add_argument("--from", dest="source", required=True, metavar="WORKDIR",
                         help="--workdir of `jaxunlearn train` holding the original model")
    unlearn.add_argument("--restore-step", type=int, default=None, metavar="STEP",
                         help="use the original's checkpoint STEP instead of the newest")
    unlearn.add_argument("--method", required=True,
                         help="the unlearning method, one of: {methods}")
    unlearn.add_argument("--addon", dest="addons", action="append", default=[],
                         metavar="NAME[:key=value,...]",
                         help="an Optax transformation chained after the method's optimizer "
                              "(repeatable), one of: {addons}; e.g. prob_mask or "
                              "clip_spectral_norm:max_norm=2")
    unlearn.add_argument("--hp", dest="hyperparams", action="append", default=[],
                         metavar="KEY=VALUE",
                         help="override one of the method's hyperparameters (repeatable), e.g. "
                              "learning_rate=0.001; unknown keys and values of the wrong kind "
                              "are refused before anything runs")
    unlearn.add_argument("--steps", type=int, default=None,
                         help="run exactly this many unlearning steps (wins over --epochs)")
    unlearn.add_argument("--epochs", type=int, default=None,
                         help="run this many epochs over the method's data (default: the "
                              "method's epochs hyperparameter)")
    unlearn.add_argument("--key", type=int, default=0,
                         help="seed of the data order, augmentation and the method's randomness "
                              "(default 0)")
    unlearn.add_argument("--reference", default=None, metavar="WORKDIR",
                         help="--workdir of the retrained reference (`jaxunlearn train --from "
                              "ORIGINAL --subset retain`): adds MIA and the gap to the table")
    unlearn.add_argument("--reference-step", type=int, default=None, metavar="STEP",
                         help="use the reference's checkpoint STEP instead of the newest")
    unlearn.add_argument("--out", required=True,
                         help="where the unlearned variables, checkpoints and metrics.json go; "
                              "the same command again resumes or, when finished, leaves it as it is")
    unlearn.add_argument(
        "--public", default=None, metavar="FRACTION|key=value,...",
        help="public data for methods that use it (alu), drawn from the held-out test set: a "
             "fraction, or fraction=/size=, skew= (class skew), corruption= (noise std)")
    unlearn.add_argument(
        "--epsilon", type=float, default=None, metavar="TARGET",
        help="pick the number of unlearning steps K from the method's certificate for this "
             "target epsilon (alu; full-batch PNGD) and print the certificate")
    _common(unlearn, _DATA_DIR_ONLY)

    evaluate = command(
        "evaluate", "compare unlearned models with the original and the retrained one",
        "Put the original, the retrained reference and every unlearned model side by side:\n"
        "UA, RA, TA, MIA-efficacy, agreement and TV distance to the reference, the gap, and a\n"
        "threshold attack's ROC (reconstruction metrics for image-to-image models). Writes\n"
        "evaluation.{md,csv,json,png} and evaluation_roc.png to --out.")
    evaluate.add_argument("--original", required=True, metavar="WORKDIR",
                          help="--workdir of `jaxunlearn train` (the original model)")
    evaluate.add_argument("--original-step", type=int, default=None, metavar="STEP",
                          help="use the original's checkpoint STEP instead of the newest")
    evaluate.add_argument("--retrained", required=True, metavar="WORKDIR",
                          help="--workdir of `jaxunlearn train --from ORIGINAL --subset retain` "
                               "(the reference; it must have the original's split)")
    evaluate.add_argument("--retrained-step", type=int, default=None, metavar="STEP",
                          help="use the reference's checkpoint STEP instead of the newest")
    evaluate.add_argument("--unlearned", action="append", default=[], required=True,
                          metavar="DIR",
                          help="--out of `jaxunlearn unlearn` (repeatable)")
    evaluate.add_argument("--out", required=True,
                          help="where the table (md/csv/json) and the plots (bars, ROC) go")
    _common(evaluate, _DATA_DIR_ONLY)

    report = command(
        "report", "combine result JSONs into one table and plots per experiment",
        "Combine result JSON files (from quickstart, evaluate or the experiments) into one table\n"
        "per experiment (Markdown, CSV, JSON with every source's provenance), metric bars with\n"
        "the retrained model's value marked, ROC curves and an optional trade-off plot.")
    report.add_argument("results", nargs="+", metavar="RESULTS",
                        help="result JSON files (as evaluate/quickstart write them) or "
                             "directories holding them")
    report.add_argument("--out", required=True, help="where the tables and plots go")
    report.add_argument("--metrics", default=None, metavar="M1,M2,...",
                        help="table columns and bar panels, e.g. UA,RA,TA,MIA (default: the "
                             "standard metrics present)")
    report.add_argument("--x", default=None, metavar="KEY",
                        help="trade-off plot: x key (dotted for nested fields, e.g. "
                             "hyperparams.sigma); needs --y")
    report.add_argument("--y", default=None, metavar="KEY", help="trade-off plot: y key")
    report.add_argument("--group", default=None, metavar="KEY",
                        help="trade-off plot: one line per value of KEY (default method)")
    report.add_argument("--annotate", default=None, metavar="KEY",
                        help="trade-off plot: write KEY's value at each point (e.g. epsilon)")
    report.add_argument("--xlog", action="store_true", help="trade-off plot: log x axis")
    report.add_argument("--ylog", action="store_true", help="trade-off plot: log y axis")
    _common(report, None)
    return parser


def _compile_cache_dir() -> str | None:
    """Where compiled programs are kept between runs, or None when turned off."""
    if os.environ.get("JAXUNLEARN_NO_COMPILE_CACHE", "") not in ("", "0"):
        return None
    base = os.environ.get("JAXUNLEARN_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
        "jaxunlearn")
    return os.path.join(base, "jax")


def _enable_compile_cache() -> None:
    """JAX's persistent compilation cache: a repeated command loads its compiled programs
    instead of compiling them again (every program, however fast its compilation)."""
    path = _compile_cache_dir()
    if path is None:
        return
    try:
        os.makedirs(path, exist_ok=True)
    except OSError:  # a read-only home: run without the cache
        return
    import jax

    jax.config.update("jax_compilation_cache_dir", path)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


_EXPECTED_ERRORS = (ValueError, TypeError, FileNotFoundError, NotADirectoryError,
                    PermissionError, IsADirectoryError)


def _error_text(command: str, error: BaseException) -> str:
    """One or two lines: the command, what is wrong and what to do."""
    from jaxunlearn.train.checkpoint import CheckpointError

    message = str(error).strip() or type(error).__name__
    if isinstance(error, OSError) and error.filename is not None and error.strerror:
        message = f"{error.filename}: {error.strerror}"
    lines = message.splitlines()
    if len(lines) > 2:
        lines = [*lines[:1], lines[1].rstrip() + " ... (--debug shows the rest)"]
    text = f"jaxunlearn {command}: error: " + "\n".join(lines)
    if not isinstance(error, (*_EXPECTED_ERRORS, CheckpointError)):
        text = (f"jaxunlearn {command}: error: {type(error).__name__}: {lines[0]}\n"
                "this looks like a bug; rerun with --debug (or JAXUNLEARN_DEBUG=1) for the "
                "traceback")
    return text


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``jaxunlearn`` console script."""
    args = _build_parser().parse_args(argv)
    debug = args.debug or os.environ.get("JAXUNLEARN_DEBUG", "") not in ("", "0")
    if not args.no_compile_cache:
        _enable_compile_cache()
    if getattr(args, "distributed", False):  # before anything touches the devices
        from jaxunlearn.distributed import initialize_command_line

        initialize_command_line(args.command)
    try:
        return _run(args)
    except KeyboardInterrupt:
        print(f"jaxunlearn {args.command}: interrupted; the same command resumes from the newest "
              "checkpoint", file=sys.stderr)
        return 130
    except Exception as error:
        if debug:
            raise
        print(_error_text(args.command, error), file=sys.stderr)
        # a failed Orbax read can leave coroutines that complain at exit: the message is above
        sys.unraisablehook = lambda unraisable: None
        return 2


def _run(args: argparse.Namespace) -> int:
    if args.command in ("quickstart", "train"):
        from jaxunlearn.cli_train import quickstart_command, train_command

        return (quickstart_command if args.command == "quickstart" else train_command)(args)
    if args.command == "unlearn":
        from jaxunlearn.cli_unlearn import unlearn_command

        return unlearn_command(args)
    from jaxunlearn.cli_evaluate import evaluate_command, report_command

    return (evaluate_command if args.command == "evaluate" else report_command)(args)


if __name__ == "__main__":
    sys.exit(main())
