"""experiments/run_claims.py: one command, resumable part by part, with clear errors."""

import json
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = str(ROOT / "experiments/run_claims.py")


def _run(*args, cwd):
    return subprocess.run([sys.executable, SCRIPT, *args], cwd=cwd, capture_output=True,
                          text=True, timeout=600)


def test_unknown_parts_and_a_missing_readme_are_refused_before_anything_runs(tmp_path):
    out = tmp_path / "claims"
    result = _run("--small", "--out", str(out), "--only", "grid_nowhere", cwd=tmp_path)
    assert result.returncode == 2 and "unknown part(s) ['grid_nowhere']" in result.stderr
    assert "the parts are ['setting'" in result.stderr
    result = _run("--small", "--out", str(out), "--readme", str(tmp_path / "nope.md"),
                  cwd=tmp_path)
    assert result.returncode == 2 and "is not a file" in result.stderr
    assert not out.exists()


@pytest.mark.slow
def test_a_finished_part_is_kept_and_a_rerun_continues(tmp_path):
    out = tmp_path / "claims"
    first = _run("--small", "--out", str(out), "--only", "setting", cwd=ROOT)
    assert first.returncode == 0, first.stderr
    marker = out / "done/setting.json"
    recorded = json.loads(marker.read_text())
    assert recorded["seconds"] > 0 and "setting.py" in " ".join(recorded["command"])
    table = json.loads((out / "setting_digits/setting.json").read_text())
    assert table["rows"][0]["seed"] == 0 and 0 < table["rows"][0]["train_accuracy"] <= 100
    cached = sorted(p.name.split("-")[0] for p in (out / "cache").iterdir())
    assert cached == ["original", "retrain"]
    stamp = marker.stat().st_mtime_ns
    again = _run("--small", "--out", str(out), "--only", "setting", cwd=ROOT)
    assert again.returncode == 0 and "already done (kept): setting" in again.stdout
    assert "0 part(s) to run" in again.stdout and marker.stat().st_mtime_ns == stamp
    redo = _run("--small", "--out", str(out), "--only", "setting", "--redo", "setting",
                cwd=ROOT)
    assert redo.returncode == 0 and marker.stat().st_mtime_ns != stamp
    # the rerun found its models in the cache: same numbers, nothing new trained
    assert json.loads((out / "setting_digits/setting.json").read_text())["rows"] == table["rows"]
    assert sorted(p.name.split("-")[0] for p in (out / "cache").iterdir()) == cached


def _module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("run_claims", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_part_waits_only_for_earlier_parts_of_the_plan():
    run_claims = _module()
    for small in (False, True):
        order = [name for name, _, _ in run_claims.parts("/tmp/x", small)]
        for index, name in enumerate(order):
            assert set(run_claims.needs(name, small)) <= set(order[:index]), name
    assert run_claims.needs("grid_class") == ("setting", "tune_masks_class")
    assert run_claims.needs("tune_masks_random50") == ("tune_random50",)
    assert run_claims.needs("i2i") == ()


def test_independent_parts_overlap_and_a_dependent_one_waits(tmp_path, monkeypatch):
    """Two parts without needs run at once (their [start, end] intervals overlap); a part that
    needs one of them starts after that one's done marker exists."""
    run_claims = _module()
    monkeypatch.setattr(run_claims, "needs",
                        lambda name, small=False: ("a",) if name == "c" else ())
    stamp = ("import sys, time; start = time.time(); time.sleep(1.5); "
             "open(sys.argv[1], 'w').write(f'{start} {time.time()}')")
    todo = [(name, [sys.executable, "-c", stamp, str(tmp_path / f"{name}.txt")], 1.0)
            for name in ("a", "b", "c")]
    (tmp_path / "logs").mkdir()
    marker = lambda name: str(tmp_path / f"{name}.done")  # noqa: E731
    code = run_claims._schedule(todo, 2, marker, str(tmp_path / "logs"), None, 3.0, small=False)
    assert code == 0
    spans = {name: tuple(map(float, (tmp_path / f"{name}.txt").read_text().split()))
             for name in "abc"}
    assert spans["a"][0] < spans["b"][1] and spans["b"][0] < spans["a"][1]  # a ∥ b
    assert spans["c"][0] >= spans["a"][1]                                   # c after a
    assert all((tmp_path / f"{name}.done").exists() for name in "abc")
