#!/usr/bin/env python3
"""Snapshot repositories benchmark, side by side in one run (see docs/benchmarks.md):

- `ifctl snapshot create` into a local directory vs into S3 (moto on loopback, started here):
  wall and peak RSS;
- the same with `--encrypt` (age, X25519 recipient): the time encryption adds;
- `ifctl snapshot restore` from the directory vs from S3 into an empty database.

Runs are interleaved (local, s3, local+age, s3+age, …) so drift hits every variant alike.

Usage: bench_repository.py IFCTL [--url http://127.0.0.1:8000] [--runs N] [--restore-runs N]
"""
import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

from common import TENANT, http, measure, reset_database


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_moto(work):
    port = free_port()
    moto = os.path.join(os.path.dirname(sys.executable), "moto_server")
    proc = subprocess.Popen([moto, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(work, "moto.log"), "w"))
    for _ in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    import boto3
    s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{port}", aws_access_key_id="test",
                      aws_secret_access_key="test", region_name="us-east-1")
    s3.create_bucket(Bucket="bench")
    return proc, port


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ifctl")
    ap.add_argument("--url", default="http://127.0.0.1:8000")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--restore-runs", type=int, default=3)
    args = ap.parse_args()
    ifctl = os.path.abspath(args.ifctl)
    work = tempfile.mkdtemp(prefix="ifctl-bench-repo-")
    moto, port = start_moto(work)
    try:
        key = os.path.join(work, "key.txt")
        subprocess.run(["age-keygen", "-o", key], check=True, capture_output=True)
        recipient = subprocess.run(["age-keygen", "-y", key], check=True, capture_output=True, text=True).stdout.strip()
        config = os.path.join(work, "ifctl.toml")
        with open(config, "w") as f:
            f.write(f'[snapshots]\nendpoint = "http://127.0.0.1:{port}"\nallow_http = true\n')
        env = dict(os.environ, IFCTL_STATE_DIR=os.path.join(work, "state"), IFCTL_CHROMADB_URL=args.url,
                   IFCTL_CONFIG=config, NO_COLOR="1", AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
                   AWS_REGION="us-east-1", AWS_EC2_METADATA_DISABLED="true")
        local, remote = os.path.join(work, "local"), "s3://bench/nightly"
        variants = [("local", local, []), ("s3", remote, []),
                    ("local+age", local, ["--recipient", recipient]), ("s3+age", remote, ["--recipient", recipient])]
        created = {name: [] for name, _, _ in variants}
        for run in range(args.runs):
            for name, repo, extra in variants:
                tag = name.replace("+", "-")
                created[name].append(measure([ifctl, "-q", "snapshot", "create", "--repo", repo,
                                              "--name", f"{tag}-{run}"] + extra, env))
        med = lambda xs: statistics.median(xs)
        wall = {k: med([w for w, _ in v]) for k, v in created.items()}
        rss = {k: max(r for _, r in v) for k, v in created.items()}
        print(f"create: {args.runs} runs per variant, interleaved; wall = median; RSS = max peak (GNU time %M)\n")
        print("| create into | wall (s) | peak RSS (MB) | vs local |")
        print("|---|---:|---:|---:|")
        for name, _, _ in variants:
            base = "local+age" if name == "s3+age" else "local"
            print(f"| {name} | {wall[name]:.2f} | {rss[name]:.1f} | {wall[name] / wall[base]:.2f}x |")
        print(f"\nencryption adds: local {100 * (wall['local+age'] / wall['local'] - 1):+.1f}%, "
              f"s3 {100 * (wall['s3+age'] / wall['s3'] - 1):+.1f}% of the create time")

        restored = {"local": [], "s3": []}
        for run in range(args.restore_runs):
            for name, repo in [("local", local), ("s3", remote)]:
                reset_database(args.url, "bench_restore")
                restored[name].append(measure([ifctl, "-q", "snapshot", "restore", f"{name}-0", "--repo", repo,
                                               "--yes", "--no-backup"],
                                              dict(env, IFCTL_CHROMADB_DATABASE="bench_restore")))
        rw = {k: med([w for w, _ in v]) for k, v in restored.items()}
        print(f"\nrestore: {args.restore_runs} runs each, interleaved, into an empty database\n")
        print("| restore from | wall (s) | peak RSS (MB) | vs local |")
        print("|---|---:|---:|---:|")
        for name in ["local", "s3"]:
            print(f"| {name} | {rw[name]:.2f} | {max(r for _, r in restored[name]):.1f} | {rw[name] / rw['local']:.2f}x |")
        http("DELETE", f"{args.url}/api/v2/tenants/{TENANT}/databases/bench_restore")
    finally:
        moto.terminate()
        moto.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
