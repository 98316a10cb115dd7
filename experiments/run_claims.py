"""Every seed paper's claim on the memorising Fashion-MNIST setting, with one command.

    python experiments/run_claims.py                       # the whole table, ≤ 60 min on 2 CPU cores
    python experiments/run_claims.py --only grid_class,trw # some parts
    python experiments/run_claims.py --small               # digits, tiny: the test tier's setting
    python experiments/run_claims.py --readme README.md    # and put the claim table in the README

The setting (``standard_experiment("fashion_mnist_mem", ...)``): the small CNN trained for 40
epochs on a class-stratified subset of 1,000 Fashion-MNIST training images, on which it reaches
≈ 100 % training accuracy against ≈ 83 % on test images, so membership shows and there is
something to unlearn. Its parts, in order (each one experiment script, in its own process):

- ``setting``: the originals' train/test accuracy and membership advantage (``setting.py``);
- ``tune_<s>``: each base method's learning rate (three points of its family's range, 5 epochs,
  and up to two more past the edge where the best lies; AMUN on its authors' axes) on the
  selection seed 100, for each forgetting setting s
  (``tune.py --learning-rates auto --extend 2 --write``, into
  ``experiments/configs/tuned/fashion_mnist_mem_<s>.json``);
- ``tune_masks_<s>``: each masked variant at 1× and 3× its base method's tuned rate (a mask
  removes coordinates, so a variant may want a larger step), grown past the edge like the base
  methods (``tune.py --learning-rates times:1,3 --extend 2``);
- ``grid_<s>``: the masks grid, base methods × {none, SalUn, AND, PROB, focus} (``masks/grid.py``);
- ``curves``: the masks paper's Figure-5 protocol, SRL + each add-on at 50 % (``masks/curves.py``);
- ``amun``: AMUN ± FastClip originals against the baselines, audited by RMIA (``amun/run.py``);
- ``trw``: TRW on one class against the baselines, TV and MIA-NN gaps (``trw/run.py``);
- ``i2i``: the (masked) autoencoder on Fashion-MNIST, 3 seeds (``i2i/run.py --seeds 0,1,2``);
- ``summary``: the claim table with verdicts (``summary.py``).

Two parts run at once (``--jobs``, default 2), each as soon as the parts it needs are done
(:func:`needs`: the tuned configs it reads, and the part that first trains the cached models it
shares): one part alone keeps a CPU core idle about half of the time (compilation, small batches
and Python are single-threaded). The numbers do not depend on ``--jobs``; the test tier
(``--small``) runs its parts one after another.

Resumable: a part that finished leaves ``<out>/done/<part>.json`` (its wall time) and is skipped
when the command runs again (``--redo PART`` runs it anyway); the originals, references and RMIA
reference models live in ``<out>/cache`` and compiled programs in ``<out>/jax_cache``, so a part
that was killed restarts without retraining what it had. Each part's output goes to
``<out>/logs/<part>.log``; the console shows one line per part with its wall time, a progress
bar (weighted by the parts' expected times) and an ETA scaled by how the finished parts compared
with their expectations.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SETTINGS = ("random10", "random50", "class")
GRID_METHODS = "neggrad_plus,random_label,srl,scrub"
TUNE_METHODS = {
    "random10": GRID_METHODS + ",finetune,salun,amun,boundary_shrink,boundary_expanding",
    "random50": GRID_METHODS,
    "class": GRID_METHODS + ",finetune,gradient_ascent,salun,trw,uam",
}
AMUN_METHODS = ("amun,amun_adv_only,finetune,neggrad_plus,random_label,salun,boundary_shrink,"
                "boundary_expanding")


def parts(out: str, small: bool) -> list[tuple[str, list[str], float]]:
    """``(name, command, expected seconds on 2 CPU cores)`` of every part, in order."""
    cache = ["--cache-dir", os.path.join(out, "cache")]
    tier = "digits" if small else "fashion_mnist_mem"
    py = [sys.executable]
    if small:  # digits, one seed, tiny epochs: what the test suite runs
        data = ["--data", "digits"]
        return [
            ("setting", py + [f"{HERE}/setting.py", *data, "--seeds", "0", "--epochs", "3",
                              "--out", f"{out}/setting_{tier}", *cache], 10),
            ("tune_random10", py + [f"{HERE}/tune.py", *data, "--setting", "random10",
                                    "--methods", "neggrad_plus", "--learning-rates", "0.01",
                                    "--epochs", "1", "--original-epochs", "3",
                                    "--out", f"{out}/tune_{tier}", *cache], 10),
            ("grid_random10", py + [f"{HERE}/masks/grid.py", "--small", "--methods", "srl",
                                    "--masks", "none,and_mask", "--out", f"{out}/masks_{tier}",
                                    *cache], 15),
            ("curves", py + [f"{HERE}/masks/curves.py", *data, "--seeds", "0", "--epochs", "1",
                             "--original-epochs", "3", "--masks", "none,and_mask",
                             "--out", f"{out}/masks_{tier}", *cache], 10),
            ("trw", py + [f"{HERE}/trw/run.py", "--small", "--methods", "trw,finetune",
                          "--out", f"{out}/trw_{tier}", *cache], 15),
            ("summary", py + [f"{HERE}/summary.py", "--results", out], 5),
        ]
    data = ["--data", "fashion_mnist_mem"]
    chosen = [("setting", py + [f"{HERE}/setting.py", *data, "--out", f"{out}/setting_{tier}",
                                *cache], 100)]
    for setting in SETTINGS:
        chosen.append((f"tune_{setting}", py + [
            f"{HERE}/tune.py", *data, "--setting", setting, "--methods", TUNE_METHODS[setting],
            "--learning-rates", "auto", "--extend", "2", "--epochs", "5", "--periods", "1,10",
            "--write",
            "--out", f"{out}/tune_{tier}", *cache], 200 if setting == "random50" else 240))
    masked = ",".join(f"{method}+{mask}" for method in GRID_METHODS.split(",")
                      for mask in ("salun_mask", "and_mask", "prob_mask", "focus_mask"))
    for setting in SETTINGS:
        chosen.append((f"tune_masks_{setting}", py + [
            f"{HERE}/tune.py", *data, "--setting", setting, "--methods", masked,
            "--learning-rates", "times:1,3", "--extend", "2", "--epochs", "5", "--write",
            "--out", f"{out}/tune_{tier}", *cache], 300))
    for setting in SETTINGS:
        chosen.append((f"grid_{setting}", py + [
            f"{HERE}/masks/grid.py", *data, "--settings", setting, "--methods", GRID_METHODS,
            "--out", f"{out}/masks_{tier}", *cache], 300))
    chosen += [
        ("curves", py + [f"{HERE}/masks/curves.py", *data, "--out", f"{out}/masks_{tier}", *cache],
         240),
        ("amun", py + [f"{HERE}/amun/run.py", *data, "--methods", AMUN_METHODS,
                       "--rmia-references", "8", "--out", f"{out}/amun_{tier}", *cache], 420),
        ("trw", py + [f"{HERE}/trw/run.py", *data, "--out", f"{out}/trw_{tier}", *cache], 450),
        ("i2i", py + [f"{HERE}/i2i/run.py", "--settings", "fashion_class,fashion_inpaint_class",
                      "--seeds", "0,1,2", "--out", f"{out}/i2i"], 600),
        ("summary", py + [f"{HERE}/summary.py", "--results", out], 5),
    ]
    return chosen


def needs(name: str, small: bool = False) -> tuple[str, ...]:
    """The parts ``name`` waits for: what it reads (tuned configs) and, so that no two parts
    train the same cached model at once, the part that trains it first (``setting``: the
    originals of seeds 0–2; ``tune_random10``: the selection seed's original; ``grid_<s>``: the
    references of setting s)."""
    if small:  # the test tier: one after another in list order
        order = [n for n, _, _ in parts("", True)]
        return tuple(order[:order.index(name)])
    if name.startswith("tune_masks_"):
        return ("tune_" + name.removeprefix("tune_masks_"),)
    if name in ("tune_random50", "tune_class"):
        return ("tune_random10",)
    if name.startswith("grid_"):
        return ("setting", "tune_masks_" + name.removeprefix("grid_"))
    return {"curves": ("grid_random50",), "amun": ("grid_random10",), "trw": ("grid_class",),
            "summary": tuple(n for n, _, _ in parts("", False) if n != "summary")}.get(name, ())


def _schedule(todo, jobs, marker, log_dir, environment, expected_total, *, small) -> int:
    """Run ``todo`` (name, command, expected seconds), up to ``jobs`` at once, each part once
    the parts it :func:`needs` have their done markers; print a line when one starts and when
    one ends (with a progress bar weighted by the expected times and an ETA scaled by how the
    finished parts compared with their expectations). A failed part stops new starts; the
    running ones finish (and are kept). Returns the exit code."""
    pending = list(todo)
    running: dict[str, tuple] = {}
    started, expected_done, failed, count = time.perf_counter(), 0.0, None, len(todo)
    finished = 0
    try:
        while pending or running:
            # a part waits only for needed parts this command runs (others were done before,
            # or --only left them out and the committed tuned configs stand in)
            ready = [part for part in pending
                     if not any(_waits_for(other, pending, running)
                                for other in needs(part[0], small))]
            while failed is None and ready and len(running) < jobs:
                name, command, expected = ready.pop(0)
                pending.remove((name, command, expected))
                log = open(os.path.join(log_dir, f"{name}.log"), "w")
                log.write("$ " + " ".join(command) + "\n")
                log.flush()
                process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                           env=environment, cwd=os.path.dirname(HERE))
                running[name] = (process, log, time.perf_counter(), expected, command)
                print(f"[{finished + len(running)}/{count}] {name} ... "
                      f"(expected {_clock(expected)})", flush=True)
            if failed is not None and not running:
                break
            if not running:  # cannot happen unless needs() has a cycle
                raise RuntimeError(f"parts {[p[0] for p in pending]} wait for each other")
            time.sleep(0.5)
            for name in list(running):
                process, log, part_started, expected, command = running[name]
                if process.poll() is None:
                    continue
                log.close()
                del running[name]
                seconds = time.perf_counter() - part_started
                log_path = os.path.join(log_dir, f"{name}.log")
                if process.returncode != 0:
                    with open(log_path) as handle:
                        print("\n".join(handle.read().splitlines()[-15:]), file=sys.stderr)
                    print(f"{name} failed (exit {process.returncode}) after {_clock(seconds)}; "
                          f"see {log_path}. Finished parts are kept: run the same command "
                          "again to continue.", file=sys.stderr)
                    failed = failed or process.returncode
                    continue
                with open(marker(name), "w") as handle:
                    json.dump({"seconds": seconds, "command": command}, handle)
                finished += 1
                expected_done += expected
                elapsed = time.perf_counter() - started
                remaining = (expected_total - expected_done) * (elapsed / expected_done)
                share = expected_done / expected_total if expected_total else 1.0
                bar = "#" * round(20 * share) + "-" * (20 - round(20 * share))
                print(f"[{bar}] {share:4.0%} [{finished}/{count}] {name} done in "
                      f"{_clock(seconds)}; elapsed {_clock(elapsed)}, ETA {_clock(remaining)}",
                      flush=True)
    except KeyboardInterrupt:
        for process, log, *_ in running.values():
            process.terminate()
            process.wait()
            log.close()
        print("interrupted; finished parts are kept: run the same command again to continue",
              file=sys.stderr)
        return 130
    return 1 if failed else 0


def _waits_for(other: str, pending: list, running: dict) -> bool:
    return other in running or any(part[0] == other for part in pending)


def _clock(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="results/claims")
    parser.add_argument("--small", action="store_true", help="digits, tiny (the test tier)")
    parser.add_argument("--only", default=None, help="comma-separated parts to run")
    parser.add_argument("--redo", default="", help="comma-separated parts to run again")
    parser.add_argument("--readme", default=None, help="also update this README's claim table")
    parser.add_argument("--jobs", type=int, default=2,
                        help="parts run at once, each when the parts it needs are done "
                             "(default 2: one part alone leaves a core idle half the time)")
    parser.add_argument("--no-compilation-cache", action="store_true",
                        help="do not keep compiled programs in <out>/jax_cache")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs: expected a positive number of parts, got {args.jobs}")
    wall_started = time.perf_counter()
    args.out = os.path.abspath(args.out)  # the parts run from the repository's root
    if args.readme is not None:
        args.readme = os.path.abspath(args.readme)
    plan = parts(args.out, args.small)
    names = [name for name, _, _ in plan]
    only = [p for p in (args.only or "").split(",") if p]
    redo = [p for p in args.redo.split(",") if p]
    unknown = [p for p in only + redo if p not in names]
    if unknown:
        parser.error(f"--only/--redo: unknown part(s) {unknown}; the parts are {names}")
    if args.readme is not None and not os.path.isfile(args.readme):
        parser.error(f"--readme: {args.readme} is not a file")
    selected = [part for part in plan if not only or part[0] in only]
    if args.readme:  # the README's table holds the digits tier (results/) beside this one
        selected = [p for p in selected if p[0] != "summary"] + [
            ("summary", [sys.executable, f"{HERE}/summary.py", "--results",
                         f"results,{args.out}", "--readme", args.readme], 5)]
        redo.append("summary")  # a README asked for is always rewritten
    done_dir, log_dir = os.path.join(args.out, "done"), os.path.join(args.out, "logs")
    os.makedirs(done_dir, exist_ok=True)
    os.makedirs(log_dir, exist_ok=True)
    environment = dict(os.environ)
    if not args.no_compilation_cache:
        environment.setdefault("JAX_COMPILATION_CACHE_DIR",
                               os.path.abspath(os.path.join(args.out, "jax_cache")))
        environment.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "1")
    environment["PYTHONPATH"] = os.pathsep.join(
        [os.path.dirname(HERE), environment.get("PYTHONPATH", "")]).rstrip(os.pathsep)

    def marker(name):
        return os.path.join(done_dir, f"{name}.json")

    todo = [(n, c, s) for n, c, s in selected if n in redo or not os.path.exists(marker(n))]
    skipped = [n for n, _, _ in selected if n not in [t[0] for t in todo]]
    if skipped:
        print(f"already done (kept): {', '.join(skipped)}", flush=True)
    expected_total = sum(seconds for _, _, seconds in todo)
    jobs = min(args.jobs, max(len(todo), 1))
    print(f"{len(todo)} part(s) to run, {_clock(expected_total)} of work on 2 CPU cores, "
          f"{jobs} part(s) at a time; logs in {log_dir}", flush=True)
    code = _schedule(todo, jobs, marker, log_dir, environment, expected_total, small=args.small)
    if code:
        return code
    wall = time.perf_counter() - wall_started
    total = {}
    for name in names:
        if os.path.exists(marker(name)):
            with open(marker(name)) as handle:
                total[name] = json.load(handle)["seconds"]
    lines = [f"| {name} | {_clock(seconds)} |" for name, seconds in total.items()]
    text = ("| part | wall time |\n|---|---:|\n" + "\n".join(lines)
            + f"\n| sum of the parts | {_clock(sum(total.values()))} |\n"
            + f"| **this command, {jobs} part(s) at a time** | **{_clock(wall)}** |\n")
    with open(os.path.join(args.out, "timings.md"), "w") as handle:
        handle.write(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
