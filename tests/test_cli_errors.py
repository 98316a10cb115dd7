"""Every bad input we tried, on the command line and in Python: each is refused with a message
that names the file or argument, says what is wrong and what to do (at most two lines, exit
status 2, no traceback), and leaves every directory byte-identical.

The trained directories are built once per module (in-process, two epochs of the digits MLP):
``original`` (forgets every 3), ``reference`` (``train --from original --subset retain``),
``other_reference`` (retrained on another split, a random 10 %), ``unlearned`` (fine-tuning from
``original``), ``evaluation`` (of the three), and damaged copies of ``original`` (a truncated
array file in the newest checkpoint; a cut-off ``run.json``).
"""

import os
import pathlib

import pytest

from jaxunlearn.cli import main

ROOT = pathlib.Path(__file__).resolve().parents[1]
CONFIG = ROOT / "experiments" / "configs" / "digits_mlp.py"
CLASS_3 = ["--set", "data.forget_fraction=none", "--set", "data.forget_classes=3"]
EPOCHS = ["--set", "train.epochs=2"]  # 23 steps an epoch: checkpoints 23 and 46


def _run(argv, capsys):
    try:
        status = main([*argv, "--no-progress"] if argv and argv[0] != "--version" else argv)
    except SystemExit as exit_:  # argparse's usage errors
        status = exit_.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def _tree(root: pathlib.Path) -> dict:
    """Every file and directory under ``root`` with its bytes (None for a directory)."""
    return {str(path.relative_to(root)): (None if path.is_dir() else path.read_bytes())
            for path in sorted(root.rglob("*"))}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    os.environ.setdefault("JAXUNLEARN_NO_PROGRESS", "1")

    def ok(*argv):
        assert main([*argv, "--no-progress"]) == 0, argv

    ok("train", "--config", str(CONFIG), "--workdir", str(root / "original"), *EPOCHS, *CLASS_3)
    ok("train", "--from", str(root / "original"), "--subset", "retain", "--workdir",
       str(root / "reference"))
    ok("train", "--config", str(CONFIG), "--workdir", str(root / "other_reference"), "--subset",
       "retain", *EPOCHS)
    ok("unlearn", "--from", str(root / "original"), "--method", "finetune", "--epochs", "1",
       "--out", str(root / "unlearned"))
    ok("evaluate", "--original", str(root / "original"), "--retrained", str(root / "reference"),
       "--unlearned", str(root / "unlearned"), "--out", str(root / "evaluation"))
    import shutil

    shutil.copytree(root / "original", root / "corrupt")
    arrays = root / "corrupt" / "checkpoints" / "46" / "state" / "ocdbt.process_0" / "d"
    largest = max(arrays.iterdir(), key=lambda path: path.stat().st_size)
    largest.write_bytes(largest.read_bytes()[:100])
    shutil.copytree(root / "original", root / "damaged_record")
    (root / "damaged_record" / "run.json").write_text('{"config": \n')
    (root / "stray").mkdir()  # a directory with an unrelated file
    (root / "stray" / "notes.txt").write_text("mine")
    (root / "stray" / "broken.py").write_text("def get_config(:\n")
    return root


# (arguments with {placeholders} under the fixture's root, substrings the error must contain)
CLI_CASES = [
    # train
    (["train", "--workdir", "{new}"], ["--config FILE", "--from WORKDIR", "exactly one"]),
    (["train", "--config", "{config}", "--from", "{original}", "--workdir", "{new}"],
     ["exactly one"]),
    (["train", "--config", "{root}/missing.py", "--workdir", "{new}"],
     ["missing.py", "does not exist"]),
    (["train", "--config", "{stray}/notes.txt", "--workdir", "{new}"],
     ["notes.txt", "not a Python file"]),
    (["train", "--config", "{stray}/broken.py", "--workdir", "{new}"],
     ["broken.py", "SyntaxError", "fix the file"]),
    (["train", "--config", "{config}", "--workdir", "{new}", "--set", "train.learning_rate=-0.1"],
     ["train.learning_rate"]),
    (["train", "--config", "{config}", "--workdir", "{new}", "--set", "train.epochs=abc"],
     ["train.epochs", "expected an int"]),
    (["train", "--config", "{config}", "--workdir", "{new}", "--set", "train.no_such_field=1"],
     ["no_such_field"]),
    (["train", "--config", "{config}", "--workdir", "{new}", "--set", "learning_rate"],
     ["learning_rate", "section.field=value"]),
    (["train", "--config", "{config}", "--workdir", "{unlearned}", *EPOCHS],
     ["--workdir", "holds a `jaxunlearn unlearn` output", "new directory"]),
    (["train", "--config", "{config}", "--workdir", "{original}", "--set", "train.epochs=3",
      *CLASS_3], ["--workdir", "train.epochs: 2 there, 3 here", "new --workdir"]),
    (["train", "--config", "{config}", "--workdir", "{damaged_record}", *EPOCHS],
     ["damaged_record/run.json is damaged", "new --workdir"]),
    (["train", "--config", "{config}", "--workdir", "{corrupt}", *EPOCHS, *CLASS_3],
     ["--workdir", "step 46", "corrupt", "--restore-step 23"]),
    (["train", "--config", "{config}", "--workdir", "{new}", "--restore-step", "5"],
     ["--restore-step 5", "no checkpoints yet"]),
    (["train", "--config", "{config}", "--workdir", "{original}", "--restore-step", "999",
      *EPOCHS, *CLASS_3], ["no checkpoint for step 999", "[23, 46]"]),
    (["train", "--from", "{unlearned}", "--subset", "retain", "--workdir", "{new}"],
     ["--from", "not a `jaxunlearn train` run"]),
    (["train", "--from", "{original}", "--subset", "retain", "--workdir", "{new}", "--set",
      "data.forget_fraction=0.2"], ["data.forget_fraction=0.2", "only train.*"]),
    (["train", "--from", "{original}", "--workdir", "{original}"],
     ["--from and --workdir", "new --workdir"]),
    (["train", "--config", "{config}", "--workdir", "{new}", "--subset", "half"],
     ["--subset", "invalid choice", "--help"]),
    # unlearn
    (["unlearn", "--from", "{original}", "--method", "nosuch", "--out", "{new}"],
     ["unknown method", "nosuch"]),
    (["unlearn", "--from", "{original}", "--method", "finetune", "--hp", "learning_rate=abc",
      "--out", "{new}"], ["--hp learning_rate", "expected a number", "'abc'"]),
    (["unlearn", "--from", "{original}", "--method", "finetune", "--hp", "momentum=abc",
      "--out", "{new}"], ["momentum", "'abc'"]),
    (["unlearn", "--from", "{original}", "--method", "finetune", "--hp", "no_such_knob=1",
      "--out", "{new}"], ["no_such_knob"]),
    (["unlearn", "--from", "{original}", "--method", "finetune", "--hp", "learning_rate",
      "--out", "{new}"], ["--hp 'learning_rate'", "key=value"]),
    (["unlearn", "--from", "{original}", "--method", "finetune", "--addon", "nosuch_mask",
      "--out", "{new}"], ["nosuch_mask"]),
    (["unlearn", "--from", "{original}", "--method", "gradient_ascent", "--addon", "and_mask",
      "--out", "{new}"], ["and_mask", "retain gradient"]),
    (["unlearn", "--from", "{original}", "--method", "finetune", "--steps", "0",
      "--out", "{new}"], ["--steps must be >= 1"]),
    (["unlearn", "--from", "{original}", "--method", "finetune", "--epochs", "-1",
      "--out", "{new}"], ["--epochs must be >= 1"]),
    (["unlearn", "--from", "{root}/missing_run", "--method", "finetune", "--out", "{new}"],
     ["--from", "missing_run", "no such directory"]),
    (["unlearn", "--from", "{unlearned}", "--method", "finetune", "--out", "{new}"],
     ["--from", "holds a `jaxunlearn unlearn` output", "--workdir of `jaxunlearn train`"]),
    (["unlearn", "--from", "{stray}", "--method", "finetune", "--out", "{new}"],
     ["--from", "stray", "not a `jaxunlearn train` run"]),
    (["unlearn", "--from", "{damaged_record}", "--method", "finetune", "--out", "{new}"],
     ["damaged_record/run.json is damaged"]),
    (["unlearn", "--from", "{corrupt}", "--method", "finetune", "--out", "{new}"],
     ["--from", "corrupt", "--restore-step 23"]),
    (["unlearn", "--from", "{original}", "--restore-step", "7", "--method", "finetune",
      "--out", "{new}"], ["--from", "no checkpoint for step 7", "[23, 46]"]),
    (["unlearn", "--from", "{original}", "--method", "finetune", "--reference",
      "{other_reference}", "--out", "{new}"],
     ["--reference", "another split", "data.forget_classes",
      "jaxunlearn train --from {original} --subset retain"]),
    (["unlearn", "--from", "{original}", "--method", "finetune", "--reference", "{original}",
      "--out", "{new}"], ["--reference", "full training set", "--subset retain"]),
    (["unlearn", "--from", "{original}", "--method", "finetune", "--reference-step", "23",
      "--out", "{new}"], ["--reference-step needs --reference"]),
    (["unlearn", "--from", "{original}", "--method", "salun", "--epochs", "1", "--out",
      "{unlearned}"], ["--out", "holds another unlearning run", 'method: "finetune" there',
                       "new --out"]),
    (["unlearn", "--from", "{original}", "--method", "finetune", "--out", "{reference}"],
     ["--out", "holds a `jaxunlearn train` run"]),
    (["unlearn", "--from", "{original}", "--method", "finetune", "--set", "train.epochs=3",
      "--out", "{new}"], ["--set train.epochs=3", "only data.data_dir"]),
    (["unlearn", "--from", "{original}", "--method", "finetune", "--epsilon", "1",
      "--out", "{new}"], ["--epsilon", "no unlearning certificate", "--method alu"]),
    (["unlearn", "--from", "{original}", "--method", "finetune", "--public", "0.5",
      "--out", "{new}"], ["--public", "does not use public data"]),
    (["unlearn", "--from", "{original}", "--method", "finetune"],
     ["the following arguments are required: --out", "--help"]),
    # evaluate
    (["evaluate", "--original", "{original}", "--retrained", "{other_reference}", "--unlearned",
      "{unlearned}", "--out", "{new}"],
     ["--retrained", "another split", "jaxunlearn train --from {original} --subset retain"]),
    (["evaluate", "--original", "{original}", "--retrained", "{reference}", "--unlearned",
      "{original}", "--out", "{new}"], ["--unlearned", "holds a `jaxunlearn train` run"]),
    (["evaluate", "--original", "{original}", "--retrained", "{reference}", "--unlearned",
      "{root}/nothing", "--out", "{new}"], ["--unlearned", "nothing", "no metrics.json"]),
    (["evaluate", "--original", "{reference}", "--retrained", "{reference}", "--unlearned",
      "{unlearned}", "--out", "{new}"], ["--unlearned", "was unlearned from", "its own original"]),
    (["evaluate", "--original", "{original}", "--retrained", "{reference}", "--unlearned",
      "{unlearned}", "--out", "{original}"], ["--out", "holds a `jaxunlearn train` run"]),
    (["evaluate", "--original", "{corrupt}", "--retrained", "{reference}", "--unlearned",
      "{stray}", "--out", "{new}"], ["--unlearned", "no metrics.json"]),
    (["evaluate", "--original", "{original}", "--retrained", "{reference}", "--unlearned",
      "{unlearned}", "--out", "{evaluation}", "--original-step", "23"],
     ["--out", "holds another evaluation", "original_step: null there, 23 here"]),
    # quickstart and report
    (["quickstart", "--out", "{new}", "--set", "ulira_models=1"], ["ulira_models", ">= 2"]),
    (["quickstart", "--out", "{new}", "--set", "variants=finetune,nosuch"], ["nosuch"]),
    (["quickstart", "--out", "{original}"], ["--out", "holds a `jaxunlearn train` run"]),
    (["quickstart", "--out", "{new}", "--set", "gradient_ascent.learning_rate=0.2"],
     ["gradient_ascent"]),
    (["report", "{root}/missing.json", "--out", "{new}"], ["no such result file"]),
    (["nosuch"], ["invalid choice: 'nosuch'"]),
]


@pytest.mark.slow
@pytest.mark.parametrize("argv, messages", CLI_CASES,
                         ids=[f"{i}-{' '.join(c[0][:2])}" for i, c in enumerate(CLI_CASES)])
def test_bad_command_line_is_refused_and_changes_nothing(runs, capsys, argv, messages):
    names = {name: str(runs / name) for name in ("original", "reference", "other_reference",
                                                  "unlearned", "evaluation", "corrupt",
                                                  "damaged_record", "stray")}
    names.update(root=str(runs), new=str(runs / "new_output"), config=str(CONFIG))
    before = _tree(runs)
    status, out, err = _run([arg.format(**names) for arg in argv], capsys)
    assert status == 2, (out, err)
    lines = err.strip().splitlines()
    assert 1 <= len(lines) <= 2 and "Traceback" not in err, err
    for message in messages:
        assert message.format(**names) in err, (message, err)
    assert _tree(runs) == before  # nothing written, nothing changed (new_output never made)


def test_at_least_thirty_distinct_bad_inputs():
    assert len({tuple(argv) for argv, _ in CLI_CASES}) >= 30
    assert len(PYTHON_CASES) >= 10


def _python_cases():
    import jax
    import numpy as np

    from jaxunlearn.config import DataConfig, TrainConfig, apply_overrides
    from jaxunlearn.data import from_arrays, make_splits
    from jaxunlearn.evaluate import evaluate_models, gap_to_reference
    from jaxunlearn.methods import get_method, unlearn
    from jaxunlearn.models import create_model_fns
    from jaxunlearn.quickstart import QuickstartConfig

    rng = np.random.default_rng(0)
    data = from_arrays(rng.standard_normal((40, 2, 2, 1)).astype(np.float32),
                       rng.integers(0, 2, 40).astype(np.int32), num_classes=2)
    splits = make_splits(data, data, forget_fraction=0.25, seed=0)
    fns = create_model_fns("logistic_regression", 2)
    variables = fns.init(jax.random.key(0), data.inputs[:1])
    return [
        (lambda: make_splits(data, data, forget_fraction=1.5), ValueError, "forget_fraction"),
        (lambda: make_splits(data, data, forget_classes=[7]), ValueError, "forget_classes"),
        (lambda: DataConfig(forget_fraction=0.1, forget_classes=(3,)), ValueError,
         "forget_fraction/forget_classes/forget_indices"),
        (lambda: TrainConfig(learning_rate=-1.0), ValueError, "train.learning_rate"),
        (lambda: TrainConfig(epochs="ten"), TypeError, "train.epochs"),
        (lambda: apply_overrides(TrainConfig(), ["nosuch=1"]), ValueError, "nosuch"),
        (lambda: QuickstartConfig(ulira_models=1), ValueError, "ulira_models"),
        (lambda: get_method("nosuch"), ValueError, "nosuch"),
        (lambda: unlearn(fns, variables, splits, "finetune",
                         hyperparams={"learning_rate": "abc"}, progress=False),
         ValueError, "learning_rate"),
        (lambda: unlearn(fns, variables, splits, "trw", progress=False), ValueError,
         "forget_classes"),
        (lambda: gap_to_reference({"UA": 1, "RA": 1, "TA": 1}, {"UA": 1, "RA": 1, "TA": 1}),
         ValueError, "MIA"),
        (lambda: evaluate_models(fns.apply, {"a": variables}, splits), ValueError, "reference"),
    ]


PYTHON_CASES = list(range(12))  # indices into _python_cases() (built lazily: they import JAX)


@pytest.mark.parametrize("index", PYTHON_CASES)
def test_bad_python_call_names_the_argument(index, tmp_path):
    call, error, message = _python_cases()[index]
    (tmp_path / "kept.txt").write_text("saved before")
    with pytest.raises(error, match=message):
        call()
    assert _tree(tmp_path) == {"kept.txt": b"saved before"}  # nothing written beside it


@pytest.mark.slow
def test_python_load_trained_names_another_kind_of_run(runs):
    from jaxunlearn.pipeline import load_trained

    before = _tree(runs)
    with pytest.raises(ValueError, match="holds a `jaxunlearn unlearn` output"):
        load_trained(str(runs / "unlearned"))
    assert _tree(runs) == before
