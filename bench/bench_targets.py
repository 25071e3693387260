#!/usr/bin/env python3
"""`ifctl health check --all-targets -c redis` for 1, 2, 4 and 8 targets, next to the plain
one-stack `health check -c redis`, side by side in one run (see docs/benchmarks.md): starts one
redis-server per target on free loopback ports and times the whole process, interleaved, after
warm-up runs. A last row has one of 8 targets' Redis SIGSTOPped under a 500 ms deadline: the
whole check should cost about one deadline, not one per target.

Usage: bench_targets.py IFCTL [--runs N]
"""
import argparse
import os
import signal
import socket
import statistics
import subprocess
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ifctl")
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args()
    d = tempfile.mkdtemp(prefix="ifctl-bench-targets-")
    servers, ports = [], []
    for _ in range(8):
        port = free_port()
        servers.append(subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
             "--dir", d], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        ports.append(port)
    hung_port = free_port()
    hung = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(hung_port), "--save", "",
                             "--appendonly", "no", "--dir", d], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    hung.send_signal(signal.SIGSTOP)

    def config(name, targets):
        path = os.path.join(d, f"{name}.toml")
        text = "[system]\ncritical = false\n"
        for i, port in enumerate(targets):
            text += f'\n[targets.t{i}.redis]\nurl = "redis://127.0.0.1:{port}"\n'
        open(path, "w").write(text)
        return path

    plain = os.path.join(d, "plain.toml")
    open(plain, "w").write(f'[redis]\nurl = "redis://127.0.0.1:{ports[0]}"\n')
    cases = {"one stack, no targets (`health check`)": ([plain], ["health", "check", "-c", "redis"], 0)}
    for n in (1, 2, 4, 8):
        cases[f"{n} targets (`--all-targets`)"] = (
            [config(f"t{n}", ports[:n])], ["health", "check", "--all-targets", "-c", "redis"], 0)
    cases["8 targets, one Redis SIGSTOPped, `--timeout 500ms`"] = (
        [config("hung", ports[:7] + [hung_port])],
        ["health", "check", "--all-targets", "-c", "redis", "--timeout", "500ms"], 2)
    env = {k: v for k, v in os.environ.items() if not k.startswith("IFCTL_")}
    env.update(IFCTL_STATE_DIR=os.path.join(d, "state"), NO_COLOR="1")
    times = {k: [] for k in cases}
    try:
        for i in range(args.runs + 3):
            for label, (configs, argv, want) in cases.items():
                started = time.perf_counter()
                p = subprocess.run([args.ifctl, "--config", configs[0], *argv], env=env, capture_output=True)
                elapsed = (time.perf_counter() - started) * 1000
                if p.returncode != want:
                    raise SystemExit(f"{label}: exit {p.returncode}\n{p.stdout.decode()}{p.stderr.decode()}")
                if i >= 3:
                    times[label].append(elapsed)
        print(f"{args.runs} runs each, interleaved, after 3 warm-up rounds; whole process (spawn to exit)\n")
        print("| check | median (ms) | p90 (ms) |")
        print("|---|---:|---:|")
        for label, v in times.items():
            v.sort()
            print(f"| {label} | {statistics.median(v):.1f} | {v[int(len(v) * 0.9)]:.1f} |")
    finally:
        hung.send_signal(signal.SIGCONT)
        for s in servers + [hung]:
            s.terminate()


if __name__ == "__main__":
    main()
