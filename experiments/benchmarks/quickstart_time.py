"""Wall-clock time of `jaxunlearn quickstart`, the first run and a repeated one.

A *first* run starts with an empty compilation cache (a fresh ``JAXUNLEARN_CACHE_DIR``), as on
a new machine; a *repeated* run finds the programs an earlier run compiled in the persistent
cache. Runs alternate (repeated, first, repeated, ...) so that a change in the machine's load
touches both kinds alike; each is a new process with a new ``--out``. Prints the medians and
writes every time (wall clock, and CPU time, which other work on the machine changes less), the
load average and the environment to JSON. The tables of all runs must be
equal apart from their timings (the cache changes how long, never what).

``--quiet-below L`` waits before each run until the 1-minute load average is below L (on a
shared machine, so that other work does not end up in the timings); the loads are recorded.

    python experiments/benchmarks/quickstart_time.py --runs 5
    python experiments/benchmarks/quickstart_time.py --runs 5 --set ulira_models=0
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def _quickstart(out: str, cache: str, overrides: list[str]) -> tuple[float, float, list[dict]]:
    """Wall-clock seconds, CPU seconds (user + system, all threads) and the table's rows."""
    env = dict(os.environ, JAXUNLEARN_CACHE_DIR=cache, JAXUNLEARN_NO_PROGRESS="1")
    env.pop("JAXUNLEARN_NO_COMPILE_CACHE", None)
    command = [sys.executable, "-m", "jaxunlearn.cli", "quickstart", "--out", out,
               *[item for override in overrides for item in ("--set", override)]]
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    with open(os.path.join(out, "results.json")) as handle:
        rows = json.load(handle)["rows"]
    untimed = [{key: value for key, value in row.items() if key != "seconds"} for row in rows]
    return seconds, cpu, untimed


def _wait_for_quiet(threshold: float | None, limit: float = 180.0) -> float:
    """The 1-minute load average once it is below ``threshold`` (or after ``limit`` seconds)."""
    waited = 0.0
    while threshold is not None and os.getloadavg()[0] >= threshold and waited < limit:
        time.sleep(5.0)
        waited += 5.0
    return os.getloadavg()[0]


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each kind (default 5)")
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="PATH=VALUE", help="quickstart override, e.g. ulira_models=0")
    parser.add_argument("--quiet-below", type=float, default=None, metavar="LOAD",
                        help="before each run, wait (up to --max-wait seconds) for a 1-minute "
                             "load average below LOAD")
    parser.add_argument("--max-wait", type=float, default=180.0, metavar="SECONDS",
                        help="longest wait for a quiet machine before a run (default 180)")
    parser.add_argument("--out", default="results/benchmarks",
                        help="where quickstart_time[_<overrides>].json goes")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be >= 1")
    times: dict[str, list[float]] = {"first": [], "repeated": []}
    cpu_times: dict[str, list[float]] = {"first": [], "repeated": []}
    loads = []
    with tempfile.TemporaryDirectory() as scratch:
        shared = os.path.join(scratch, "shared_cache")
        loads.append(_wait_for_quiet(args.quiet_below, args.max_wait))
        seconds, cpu, reference = _quickstart(os.path.join(scratch, "warm"), shared,
                                              args.overrides)
        times["first"].append(seconds)  # the run that fills the shared cache is a first run
        cpu_times["first"].append(cpu)
        print(f"first    {seconds:6.1f} s, CPU {cpu:6.1f} s (load {loads[-1]:.2f})", flush=True)
        for index in range(2 * args.runs - 1):
            kind = "repeated" if index % 2 == 0 else "first"
            cache = shared if kind == "repeated" else os.path.join(scratch, f"cache_{index}")
            loads.append(_wait_for_quiet(args.quiet_below, args.max_wait))
            seconds, cpu, rows = _quickstart(os.path.join(scratch, f"run_{index}"), cache,
                                             args.overrides)
            if rows != reference:
                raise SystemExit(f"run {index} ({kind}) printed other numbers than the first run")
            times[kind].append(seconds)
            cpu_times[kind].append(cpu)
            print(f"{kind:8s} {seconds:6.1f} s, CPU {cpu:6.1f} s (load {loads[-1]:.2f})",
                  flush=True)
        os.makedirs(args.out, exist_ok=True)
        suffix = "".join(f"_{o.replace('=', '')}" for o in args.overrides)
        for name in ("results.md", "results.png"):  # what the runs printed and drew
            shutil.copy(os.path.join(scratch, "warm", name),
                        os.path.join(args.out, f"quickstart_time{suffix}_{name}"))
    from jaxunlearn.report import environment_info

    result = {"overrides": args.overrides, "runs": args.runs, "seconds": times,
              "median_first": statistics.median(times["first"]),
              "median_repeated": statistics.median(times["repeated"]),
              "cpu_seconds": cpu_times,
              "median_cpu_first": statistics.median(cpu_times["first"]),
              "median_cpu_repeated": statistics.median(cpu_times["repeated"]),
              "load_average_1min": loads, "cpu_count": os.cpu_count(),
              "environment": environment_info()}
    print(f"quickstart {' '.join(args.overrides)}: first run median "
          f"{result['median_first']:.1f} s, repeated run median {result['median_repeated']:.1f} s "
          f"(CPU time {result['median_cpu_first']:.1f} s and {result['median_cpu_repeated']:.1f} s; "
          f"{args.runs} of each, {os.cpu_count()} CPUs, load average "
          f"{statistics.median(loads):.1f})")
    with open(os.path.join(args.out, f"quickstart_time{suffix}.json"), "w") as handle:
        json.dump(result, handle, indent=2, default=str)
    return result


if __name__ == "__main__":
    main()
