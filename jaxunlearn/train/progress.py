"""Progress bars that stay quiet when nobody is watching."""

from __future__ import annotations

import os
import sys

from tqdm.auto import tqdm

from jaxunlearn.distributed import is_main_process


def progress_enabled(requested: bool = True) -> bool:
    """Bars show only if requested, stderr is a terminal, ``JAXUNLEARN_NO_PROGRESS`` is unset,
    and this is process 0 of a multi-process run (one bar per run, not one per process)."""
    if not requested or os.environ.get("JAXUNLEARN_NO_PROGRESS"):
        return False
    return sys.stderr.isatty() and is_main_process()


def progress_bar(total: int, description: str, *, enabled: bool = True, initial: int = 0) -> tqdm:
    """A tqdm bar over ``total`` steps, disabled unless :func:`progress_enabled`."""
    return tqdm(
        total=total,
        initial=initial,
        desc=description,
        unit="step",
        dynamic_ncols=True,
        leave=False,
        disable=not progress_enabled(enabled),
    )
