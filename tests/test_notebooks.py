"""Every notebook runs end to end on small settings (its code cells, in order, as one script), so
none can go stale. A notebook reads ``JAXUNLEARN_NOTEBOOK_SMALL=1`` to shrink its settings and
writes figures under ``JAXUNLEARN_NOTEBOOK_OUT``."""

import json
import os
import pathlib
import subprocess
import sys

import pytest

NOTEBOOKS = sorted((pathlib.Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


def _script(path: pathlib.Path) -> str:
    cells = json.loads(path.read_text())["cells"]
    code = ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "code"]
    assert code, f"{path.name} has no code cells"
    for source in code:  # magics and shell escapes would not run as a script
        assert not any(line.lstrip().startswith(("%", "!")) for line in source.splitlines())
    return "\n\n".join(code)


def test_there_are_notebooks():
    assert any(path.name == "tour.ipynb" for path in NOTEBOOKS)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_runs(path, tmp_path):
    script = tmp_path / f"{path.stem}.py"
    script.write_text(_script(path))
    env = dict(os.environ, JAXUNLEARN_NOTEBOOK_SMALL="1", JAXUNLEARN_NOTEBOOK_OUT=str(tmp_path),
               JAXUNLEARN_NO_PROGRESS="1", MPLBACKEND="Agg", JAX_PLATFORMS="cpu")
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            timeout=600, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert list(tmp_path.glob("*.png")), "the notebook should save its figures"
