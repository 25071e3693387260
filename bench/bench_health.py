#!/usr/bin/env python3
"""Runs `ifctl health check` and the Python baseline (bench/health_probe.py) side by side, N times
each, interleaved, and reports median / p90 wall time and peak RSS of each whole process.

Usage: bench_health.py IFCTL_BINARY [--runs N]
Expects a stack on the standard ports (scripts/test-stack up) and IFCTL_OPENWEBUI_TOKEN set.
"""
import argparse
import os
import statistics
import tempfile
import sys
import time

from common import run_measured

HERE = os.path.dirname(os.path.abspath(__file__))


def run_once(argv, env):
    wall, rss, code, err = run_measured(argv, env)
    return wall * 1000, rss, code, err

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("ifctl")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    state = tempfile.mkdtemp(prefix="ifctl-bench-")
    env = dict(os.environ, IFCTL_STATE_DIR=state, NO_COLOR="1")
    cases = [
        ("ifctl: redis+chromadb+system", [args.ifctl, "health", "check", "-c", "redis", "-c", "chromadb", "-c", "system"]),
        ("python: redis+chromadb+system", [sys.executable, os.path.join(HERE, "health_probe.py"), "redis,chromadb,system"]),
        ("ifctl: all four (OpenWebUI with token)", [args.ifctl, "health", "check"]),
        ("python: all four (OpenWebUI with token)",
         [sys.executable, os.path.join(HERE, "health_probe.py"), "redis,chromadb,openwebui,system"]),
    ]
    results = {name: [] for name, _ in cases}
    for name, argv in cases:  # warm-up, and fail loudly if a probe fails
        _, _, code, err = run_once(argv, env)
        if code != 0:
            sys.exit(f"{name} exited {code} on the warm-up run; is the stack up? {err}")
    for _ in range(args.runs):
        for name, argv in cases:  # interleaved so drift affects every case alike
            wall, rss, code, err = run_once(argv, env)
            if code != 0:
                sys.exit(f"{name} exited {code}: {err}")
            results[name].append((wall, rss))
    print(f"{args.runs} runs each, interleaved; wall = whole process, RSS = peak (GNU time %M)\n")
    print(f"| case | median wall (ms) | p90 wall (ms) | median peak RSS (MB) | max peak RSS (MB) |")
    print(f"|---|---:|---:|---:|---:|")
    for name, runs in results.items():
        walls = sorted(w for w, _ in runs)
        rss = [r for _, r in runs]
        p90 = walls[int(len(walls) * 0.9) - 1]
        print(f"| {name} | {statistics.median(walls):.1f} | {p90:.1f} | {statistics.median(rss):.1f} | {max(rss):.1f} |")


if __name__ == "__main__":
    main()
