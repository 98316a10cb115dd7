"""Orbax checkpoints of a :class:`~jaxunlearn.train.steps.TrainState` plus JSON metadata.

A checkpoint holds params, mutable model state, optimizer state, the base PRNG key and the step
(which with the key fixes the data order), so a resumed run continues exactly where it stopped.
Metadata records the config and the dataset fingerprint that produced it, and a SHA-256 digest
of every array: a checkpoint whose bytes were damaged is refused with a clear error, and nothing
is deleted, so older checkpoints stay usable.

In a multi-process run (:mod:`jaxunlearn.distributed`) every process calls ``save`` and
``restore`` together, as Orbax expects: each writes its part of the arrays and process 0 the
metadata; the directory must be on a file system all processes share.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from typing import Any

import jax
import numpy as np
import orbax.checkpoint as ocp

from jaxunlearn.distributed import barrier, is_main_process, process_count
from jaxunlearn.train.sharding import make_mesh, replicated, to_host


class CheckpointError(RuntimeError):
    """A checkpoint is missing, unreadable, or does not belong to this run.

    ``problem`` is the message without advice; ``intact_steps`` lists the older checkpoints that
    remain usable when the newest one is damaged (empty otherwise), so a caller can name its own
    way of restoring one (the command line's ``--restore-step``).
    """

    def __init__(self, message: str, *, problem: str | None = None,
                 intact_steps: list[int] | tuple[int, ...] = ()):
        super().__init__(message)
        self.problem = message if problem is None else problem
        self.intact_steps = list(intact_steps)


def tree_digest(tree: Any) -> str:
    """SHA-256 over the shapes, dtypes and bytes of every leaf of ``tree`` (in tree order).

    Leaves split over several processes are gathered first (a collective: in a multi-process run
    every process calls this together), so every process computes the same digest.
    """
    digest = hashlib.sha256()
    for array in jax.tree_util.tree_leaves(to_host(tree)):  # global values, equal on all processes
        digest.update(f"{array.shape}{array.dtype}".encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def _restore_target(target: Any) -> Any:
    """The target Orbax restores into. With several processes, leaves that live on one process
    only become arrays replicated over all devices of all processes (the sharding a training
    state has), since every process must restore the same global arrays."""
    if process_count() <= 1:
        return target
    sharding = replicated(make_mesh())

    def abstract(leaf: Any) -> Any:
        if isinstance(leaf, jax.Array) and not leaf.is_fully_addressable:
            return leaf
        array = np.asarray(leaf) if not hasattr(leaf, "dtype") else leaf
        return jax.ShapeDtypeStruct(np.shape(array), array.dtype, sharding=sharding)

    return jax.tree_util.tree_map(abstract, target)


class Checkpointer:
    """Save and restore training states in ``directory`` (one sub-directory per step).

    Args:
      directory: where checkpoints live; created on the first save.
      max_to_keep: how many of the newest checkpoints to keep.
    """

    def __init__(self, directory: str | os.PathLike, *, max_to_keep: int = 3):
        self.directory = os.path.abspath(os.fspath(directory))
        options = ocp.CheckpointManagerOptions(
            max_to_keep=max_to_keep, create=False, enable_async_checkpointing=False
        )
        self._options = options
        self._manager: ocp.CheckpointManager | None = None

    @property
    def manager(self) -> ocp.CheckpointManager:
        if self._manager is None:
            os.makedirs(self.directory, exist_ok=True)
            self._manager = ocp.CheckpointManager(self.directory, options=self._options)
        return self._manager

    def all_steps(self) -> list[int]:
        """The steps that have a finished checkpoint, oldest first."""
        if not os.path.isdir(self.directory):
            return []
        return sorted(self.manager.all_steps())

    def latest_step(self) -> int | None:
        steps = self.all_steps()
        return steps[-1] if steps else None

    def save(self, step: int, state: Any, metadata: dict) -> None:
        """Write ``state`` (a pytree of arrays) and JSON ``metadata`` as checkpoint ``step``."""
        metadata = {**metadata, "step": int(step), "digest": tree_digest(state)}
        self.manager.save(
            int(step),
            args=ocp.args.Composite(
                state=ocp.args.StandardSave(state), metadata=ocp.args.JsonSave(metadata)
            ),
            force=True,
        )
        self.manager.wait_until_finished()

    def restore(self, target: Any, step: int | None = None) -> tuple[Any, dict]:
        """Restore checkpoint ``step`` (default: the newest) into the structure of ``target``.

        Raises:
          CheckpointError: no checkpoint (or not that step) exists, it cannot be read, or its
            arrays do not match the digest written with it. Nothing on disk is changed.
        """
        steps = self.all_steps()
        if not steps:
            raise CheckpointError(f"no checkpoint found in {self.directory}")
        if step is None:
            step = steps[-1]
        if step not in steps:
            raise CheckpointError(
                f"no checkpoint for step {step} in {self.directory}; available steps: {steps}"
            )
        older = [s for s in steps if s < step]
        advice = (
            f" Older checkpoints are intact (steps {older}); restore one of them explicitly."
            if older
            else ""
        )
        try:
            restored = self.manager.restore(
                step,
                args=ocp.args.Composite(
                    state=ocp.args.StandardRestore(_restore_target(target)),
                    metadata=ocp.args.JsonRestore()
                ),
            )
        except Exception as error:  # orbax raises many kinds of errors for damaged files
            # Orbax's message can hold a whole TensorStore spec: its first line is enough here
            # (the chained exception keeps the rest).
            detail = (str(error).strip().splitlines() or [""])[0]
            detail = detail.split(". See full TensorStore details")[0][:120]
            problem = (f"checkpoint for step {step} in {self.directory} is corrupt or unreadable "
                       f"({type(error).__name__}{': ' + detail if detail else ''})")
            raise CheckpointError(f"{problem}.{advice}", problem=problem,
                                  intact_steps=older) from error
        state, metadata = restored["state"], restored["metadata"]
        if metadata is None or "digest" not in metadata:
            problem = f"checkpoint for step {step} in {self.directory} has no metadata"
            raise CheckpointError(f"{problem}.{advice}", problem=problem, intact_steps=older)
        if tree_digest(state) != metadata["digest"]:
            problem = (f"checkpoint for step {step} in {self.directory} is corrupt: its arrays do "
                       "not match the digest written with them")
            raise CheckpointError(f"{problem}.{advice}", problem=problem, intact_steps=older)
        return state, metadata

    def set_aside_after(self, step: int) -> list[str]:
        """Move checkpoints newer than ``step`` to ``<directory>_superseded/`` (never deleted).

        Used when a run resumes explicitly from an older step: its new checkpoints would collide
        with the newer ones. Returns the new paths of what was moved.
        """
        newer = [s for s in self.all_steps() if s > step]
        if not newer:
            return []
        self.close()
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = f"{self.directory}_superseded"
        moved = [os.path.join(target, f"{newer_step}-{stamp}") for newer_step in newer]
        barrier("jaxunlearn_set_aside_start")
        if is_main_process():  # one process moves the shared directories
            os.makedirs(target, exist_ok=True)
            for newer_step, destination in zip(newer, moved):
                shutil.move(os.path.join(self.directory, str(newer_step)), destination)
        barrier("jaxunlearn_set_aside_done")
        return moved

    def close(self) -> None:
        if self._manager is not None:
            self._manager.close()
            self._manager = None


def save_variables(path: str | os.PathLike, variables: Any) -> None:
    """Write model ``variables`` alone (no optimizer state) as an Orbax checkpoint at ``path``,
    with a digest beside it. Other variables already at ``path`` are an error, never
    overwritten; the same variables are left as they are."""
    path = os.path.abspath(os.fspath(path))
    digest = tree_digest(variables)
    barrier("jaxunlearn_save_variables_check")  # every process sees the same files below
    if os.path.exists(path):
        digest_path = f"{path}.sha256"
        if os.path.exists(digest_path) and open(digest_path).read().strip() == digest:
            return  # the same variables are already there (a resumed run finishing again)
        raise CheckpointError(f"{path} already holds other variables; not overwriting them")
    with ocp.StandardCheckpointer() as checkpointer:
        checkpointer.save(path, variables)
        checkpointer.wait_until_finished()
    if is_main_process():
        with open(f"{path}.sha256", "w") as handle:
            handle.write(digest)
    barrier("jaxunlearn_save_variables_done")


def load_variables(path: str | os.PathLike, target: Any) -> Any:
    """Restore variables saved by :func:`save_variables` into the structure of ``target``."""
    path = os.path.abspath(os.fspath(path))
    if not os.path.isdir(path):
        raise CheckpointError(f"no saved variables at {path}")
    try:
        with ocp.StandardCheckpointer() as checkpointer:
            variables = checkpointer.restore(path, _restore_target(target))
    except Exception as error:
        raise CheckpointError(f"variables at {path} are corrupt or unreadable "
                              f"({type(error).__name__}: {error})") from error
    digest_path = f"{path}.sha256"
    if os.path.exists(digest_path):
        with open(digest_path) as handle:
            if handle.read().strip() != tree_digest(variables):
                raise CheckpointError(f"variables at {path} do not match their digest")
    return variables
