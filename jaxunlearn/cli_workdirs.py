"""What the command line finds in a directory before it reads or writes there.

Every command checks its directories first: which kind of run a directory holds (``train``,
``unlearn``, ``evaluate``, ``quickstart``), whether its records can be read, and — for a
retrained reference — whether it was trained on the original's split. The errors name the
directory and the option, say what is wrong and what to do; nothing is written before they pass.
"""

from __future__ import annotations

import json
import os
from typing import Any

KINDS = {
    "train": "a `jaxunlearn train` run",
    "unlearn": "a `jaxunlearn unlearn` output",
    "evaluate": "a `jaxunlearn evaluate` output",
    "quickstart": "a `jaxunlearn quickstart` output",
    "checkpoints": "checkpoints of an unknown run (no run.json)",
}
UNLEARN_RECORD = "unlearn.json"


def read_json(path: str, what_to_do: str = "move it away or use another directory") -> Any:
    """The JSON at ``path``; a damaged file is a ValueError naming it."""
    try:
        with open(path) as handle:
            return json.load(handle)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is damaged (not valid JSON: {error.msg} at line "
                         f"{error.lineno}); {what_to_do}") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path} is damaged (not text); {what_to_do}") from None


def workdir_kind(path: str) -> str | None:
    """Which kind of run ``path`` holds: a key of :data:`KINDS`, ``"files"`` (other files only)
    or None (missing or empty)."""
    if not os.path.isdir(path):
        return None
    names = set(os.listdir(path))
    if not names:
        return None
    if "run.json" in names:
        return "train"
    if UNLEARN_RECORD in names or "variables" in names:
        return "unlearn"
    if "evaluation.json" in names:
        return "evaluate"
    if "results.json" in names and "splits.json" in names:
        return "quickstart"
    if "metrics.json" in names and "checkpoints" in names:
        return "unlearn"
    if "checkpoints" in names:
        return "checkpoints"
    return "files"


def refuse_other_kind(path: str, flag: str, kind: str, *, allowed: tuple[str, ...] = ()) -> None:
    """A ValueError if ``path`` (given as ``flag``) holds a run of another kind than ``kind``."""
    found = workdir_kind(path)
    if found in (None, "files", kind, *allowed):
        return
    raise ValueError(f"{flag} {path} holds {KINDS[found]}, not {KINDS[kind]}; give a new "
                     f"directory (nothing was changed)")


def require_train_workdir(path: str, flag: str) -> None:
    """``path`` must be the ``--workdir`` of a ``jaxunlearn train`` run."""
    if not os.path.isdir(path):
        raise FileNotFoundError(f"{flag} {path}: no such directory; give the --workdir of a "
                                "`jaxunlearn train` run")
    found = workdir_kind(path)
    if found != "train":
        held = KINDS.get(found, "no run" if found is None else "no run.json")
        raise ValueError(f"{flag} {path} holds {held}, not a `jaxunlearn train` run; give the "
                         "--workdir of `jaxunlearn train`")
    if not os.path.isfile(os.path.join(path, "splits.json")):
        raise FileNotFoundError(f"{flag} {path}: splits.json is missing; the run's split cannot "
                                "be rebuilt (train again into a new --workdir)")


def read_run_record(workdir: str) -> dict:
    """``run.json`` of a train workdir (config and subset), checked for its keys."""
    path = os.path.join(workdir, "run.json")
    record = read_json(path, "restore it or train again into a new --workdir")
    if not isinstance(record, dict) or not {"config", "subset"} <= set(record):
        raise ValueError(f"{path} is damaged (no 'config' and 'subset'); restore it or train "
                         "again into a new --workdir")
    return record


def config_from_record(record: dict, path: str) -> Any:
    """The :class:`~jaxunlearn.config.ExperimentConfig` a ``run.json`` record holds."""
    from jaxunlearn.config import DataConfig, ExperimentConfig, ModelConfig, TrainConfig

    def tuples(section: dict) -> dict:
        return {k: tuple(v) if isinstance(v, list) else v for k, v in section.items()}

    saved = record["config"]
    try:
        return ExperimentConfig(data=DataConfig(**tuples(saved["data"])),
                                model=ModelConfig(**saved["model"]),
                                train=TrainConfig(**tuples(saved["train"])))
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"{path}: its config cannot be rebuilt ({error}); it was written by "
                         "another version of jaxunlearn or edited: train again into a new "
                         "--workdir") from None


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        flat = {}
        for key, item in value.items():
            flat.update(_flatten(item, f"{prefix}{key}."))
        return flat
    return {prefix.rstrip("."): value}


def differences(saved: dict, current: dict, *, limit: int = 4) -> str:
    """The fields where two (nested) records differ, as ``path: saved → current``, the first
    ``limit`` of them."""
    old, new = _flatten(saved), _flatten(current)
    changed = [key for key in sorted(set(old) | set(new)) if old.get(key) != new.get(key)]
    text = "; ".join(f"{key}: {_short(old.get(key))} there, {_short(new.get(key))} here"
                     for key in changed[:limit])
    return text + (f"; and {len(changed) - limit} more" if len(changed) > limit else "")


def _short(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


def check_reference(original: tuple[str, dict, Any], reference: tuple[str, dict, Any],
                    flags: tuple[str, str]) -> None:
    """Refuse a retrained reference that was not trained on the original's split.

    Args:
      original / reference: ``(workdir, run.json record, Splits)`` of each run.
      flags: the options that named them, e.g. ``("--from", "--reference")``.
    """
    import numpy as np

    (original_dir, original_record, original_splits) = original
    (reference_dir, reference_record, reference_splits) = reference
    fix = (f"retrain it on the original's split: jaxunlearn train --from {original_dir} "
           f"--subset retain --workdir NEW_DIR")
    if reference_record["subset"] != "retain":
        raise ValueError(f"{flags[1]} {reference_dir} was trained on the full training set, not "
                         f"retrained on the retain set; {fix}")
    def what_splits(record: dict) -> dict:  # where the files are is no part of the split
        data = {k: v for k, v in record["config"]["data"].items() if k != "data_dir"}
        return {"data": data, "model": record["config"]["model"]}

    saved, current = what_splits(reference_record), what_splits(original_record)
    if saved != current:
        raise ValueError(f"{flags[1]} {reference_dir} was trained on another split or model "
                         f"than {flags[0]} {original_dir} ({differences(saved, current)}); {fix}")
    if not np.array_equal(np.sort(original_splits.forget_indices),
                          np.sort(reference_splits.forget_indices)):
        raise ValueError(f"{flags[1]} {reference_dir} forgot other examples than {flags[0]} "
                         f"{original_dir} (their splits.json differ); {fix}")
