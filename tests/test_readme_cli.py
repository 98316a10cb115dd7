"""The README's command-line walkthrough runs as written, in a fresh directory, and what it prints
agrees with the README: `unlearn` and `evaluate` print the same `gap` for the same model, and
that gap is the mean |Δ| of UA, RA, TA and MIA to the retrained model's row (recomputed here from
the printed table); the retrained model's attack AUC is below chance for the forgotten class."""

import json
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _walkthrough() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Command line"):]
    block = re.search(r"```bash\n(.*?)```", section, flags=re.S).group(1)
    return [command.strip() for command in block.replace("\\\n", " ").splitlines()
            if command.strip()]


def _table(text: str) -> dict[str, dict[str, float]]:
    lines = [line for line in text.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    rows = {}
    for line in lines[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        rows[cells[0]] = {key: float(value) for key, value in zip(header[1:], cells[1:])}
    return rows


@pytest.mark.slow
def test_readme_command_line_walkthrough_runs_as_written(tmp_path):
    commands = _walkthrough()
    assert [c.split()[1] for c in commands] == ["quickstart", "train", "train", "unlearn",
                                                "unlearn", "evaluate"]
    (tmp_path / "experiments").symlink_to(ROOT / "experiments")  # the README runs from the clone
    env = dict(os.environ, JAX_PLATFORMS="cpu", JAXUNLEARN_NO_PROGRESS="1",
               PATH=f"{pathlib.Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    printed = []
    for command in commands:
        result = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env,
                                capture_output=True, text=True, timeout=900)
        assert result.returncode == 0, (command, result.stderr)
        printed.append(result.stdout)

    unlearned = _table(printed[3])["salun+prob_mask"]
    evaluation = _table(printed[5])
    retrained = evaluation["retrain"]
    for metric in ("UA", "RA", "TA", "MIA", "gap"):
        assert unlearned[metric] == evaluation["salun+prob_mask"][metric], metric
    for name, row in evaluation.items():
        expected = sum(abs(row[m] - retrained[m]) for m in ("UA", "RA", "TA", "MIA")) / 4
        assert row["gap"] == pytest.approx(expected, abs=2e-3), name  # 3 printed decimals

    payload = json.loads((tmp_path / "runs" / "evaluation" / "evaluation.json").read_text())
    auc = {row["method"]: row["attack_AUC"] for row in payload["rows"]}
    assert auc["retrain"] < 0.2 < auc["original"]  # the README's "far below 0.5"
    assert "roc_note" in payload["metadata"]
    # the walkthrough's reference forgets exactly the original's examples
    splits = [json.loads((tmp_path / "runs" / name / "splits.json").read_text())
              for name in ("digits", "digits_ref")]
    assert splits[0]["forget_indices"] == splits[1]["forget_indices"]
    print("retrained attack AUC", auc["retrain"], "quickstart+walkthrough ok")
