"""Progress bars that stay quiet when nobody is watching."""

from __future__ import annotations

import os
import sys

from tqdm.auto import tqdm


def progress_enabled(requested: bool = True) -> bool:
    """Bars show only if requested, stderr is a terminal, and ``JAXUNLEARN_NO_PROGRESS`` is unset."""
    if not requested or os.environ.get("JAXUNLEARN_NO_PROGRESS"):
        return False
    return sys.stderr.isatty()


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
