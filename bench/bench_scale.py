#!/usr/bin/env python3
"""Snapshot memory and time as the data grows (see docs/benchmarks.md): `ifctl snapshot create` and
`ifctl snapshot restore` at 1x, 2x and 10x the reference fixture, each scale in its own database.

- Data: the fixture (4 collections, 9,832 docs, 384-d, read from `default_database`) copied k times
  into `bench_<k>x`: copy 0 keeps the fixture's ids, copy j >= 1 gets `<id>~j`; collection
  metadata and HNSW configuration as in the fixture. Rows are posted as `add` bodies of 1,000 rows
  (base64 float32), one copy after the other. A database that already holds the right collections
  and counts is reused, so reruns skip the load (`--drop` deletes them at the end).
- Per run, interleaved over the scales: a raw fetch of every row (ids, then pages of 1,000 ids;
  bench_snapshot.raw_fetch) as the floor, then `ifctl -q snapshot create` (wall, peak RSS); each
  archive's manifest must account for every row.
- Per restore run, for each scale: a fresh empty database `bench_restore`, then
  `ifctl -q snapshot restore <run 0's archive> --yes --no-backup` (wall, peak RSS), and the
  restored counts are checked.

Peak RSS comes from GNU time (`%M`, see common.run_measured).

Usage: bench_scale.py IFCTL [--url http://127.0.0.1:8000] [--runs N] [--restore-runs M]
                            [--scales 1,2,10] [--drop]
"""
import argparse
import base64
import json
import os
import shutil
import statistics
import sys
import tarfile
import tempfile
import time
import urllib.error

import numpy as np

from bench_snapshot import collections, raw_fetch
from common import TENANT, http, measure, reset_database, scope

SOURCE_DB = "default_database"
RESTORE_DB = "bench_restore"
FIXTURE_ROWS = 9832
BATCH = 1000


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def read_fixture(url):
    """Every row of every fixture collection, in storage order (pages of 1,000 by offset; nothing
    writes to the fixture meanwhile)."""
    out = []
    for c in collections(url, SOURCE_DB):
        base = f"{scope(url, SOURCE_DB)}/collections/{c['id']}/get"
        ids, docs, metas, embs = [], [], [], []
        while True:
            page = json.loads(http("POST", base, {"include": ["embeddings", "documents", "metadatas"],
                                                   "limit": BATCH, "offset": len(ids)}))
            ids += page["ids"]
            docs += page["documents"]
            metas += page["metadatas"]
            embs += page["embeddings"]
            if len(page["ids"]) < BATCH:
                break
        hnsw = (c.get("configuration_json") or {}).get("hnsw") or {"space": "cosine"}
        create = {"name": c["name"], "configuration": {"hnsw": hnsw}}
        if c.get("metadata"):
            create["metadata"] = c["metadata"]
        out.append({"create": create, "ids": ids, "documents": docs, "metadatas": metas,
                    "embeddings": np.asarray(embs, dtype="<f4")})
    total = sum(len(c["ids"]) for c in out)
    if len(out) != 4 or total != FIXTURE_ROWS:
        sys.exit(f"{SOURCE_DB} does not hold the reference fixture (4 collections, {FIXTURE_ROWS} rows): "
                 f"{len(out)} collections, {total} rows; run scripts/test-stack up")
    return out


def counts(url, db):
    """{collection name: count} of a database, or None when the database does not exist."""
    try:
        return {c["name"]: json.loads(http("GET", f"{scope(url, db)}/collections/{c['id']}/count"))
                for c in collections(url, db)}
    except urllib.error.HTTPError:
        return None


def expected_counts(fixture, scale):
    return {c["create"]["name"]: scale * len(c["ids"]) for c in fixture}


def load_scale(url, fixture, scale, db):
    """Fills `db` with `scale` copies of the fixture unless it holds them already. Returns the
    load's rows/s, or None when the database was reused."""
    if counts(url, db) == expected_counts(fixture, scale):
        log(f"{db}: already holds {scale}x the fixture; reusing it")
        return None
    log(f"{db}: loading {scale}x the fixture ({scale * FIXTURE_ROWS:,} rows)...")
    reset_database(url, db)
    started = time.perf_counter()
    for c in fixture:
        cid = json.loads(http("POST", f"{scope(url, db)}/collections", c["create"]))["id"]
        n = len(c["ids"])
        for k in range(scale):
            ids = c["ids"] if k == 0 else [f"{i}~{k}" for i in c["ids"]]
            for s in range(0, n, BATCH):
                body = {"ids": ids[s:s + BATCH],
                        "embeddings": [base64.b64encode(r.tobytes()).decode() for r in c["embeddings"][s:s + BATCH]],
                        "documents": c["documents"][s:s + BATCH],
                        "metadatas": c["metadatas"][s:s + BATCH]}
                http("POST", f"{scope(url, db)}/collections/{cid}/add", body)
        log(f"  {c['create']['name']}: {scale * n:,} rows")
    seconds = time.perf_counter() - started
    got = counts(url, db)
    if got != expected_counts(fixture, scale):
        sys.exit(f"{db}: loaded counts {got}, expected {expected_counts(fixture, scale)}")
    log(f"  loaded in {seconds:.1f} s ({scale * FIXTURE_ROWS / seconds:.0f} rows/s)")
    return scale * FIXTURE_ROWS / seconds


def manifest_rows(archive):
    """Total rows_exported in an archive's metadata.json."""
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            if member.name.endswith("/metadata.json"):
                meta = json.load(tar.extractfile(member))
                return sum(c["rows_exported"] for c in meta["collections"])
    sys.exit(f"{archive}: no metadata.json")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ifctl")
    ap.add_argument("--url", default="http://127.0.0.1:8000")
    ap.add_argument("--runs", type=int, default=3, help="snapshot creates per scale")
    ap.add_argument("--restore-runs", type=int, default=1, help="restores per scale")
    ap.add_argument("--scales", default="1,2,10")
    ap.add_argument("--drop", action="store_true", help="delete the bench_<k>x databases at the end")
    args = ap.parse_args()
    url, ifctl = args.url, os.path.abspath(args.ifctl)
    scales = [int(s) for s in args.scales.split(",")]
    if args.runs < 1:
        sys.exit("--runs must be at least 1")

    fixture = read_fixture(url)
    ingest = {k: load_scale(url, fixture, k, f"bench_{k}x") for k in scales}
    records = {k: k * FIXTURE_ROWS for k in scales}

    work = tempfile.mkdtemp(prefix="ifctl-bench-scale-")
    snaps = os.path.join(work, "state", "snapshots")
    env = dict(os.environ, IFCTL_STATE_DIR=os.path.join(work, "state"), IFCTL_CHROMADB_URL=url,
               IFCTL_CHROMADB_TENANT=TENANT, NO_COLOR="1")
    env.pop("IFCTL_CONFIG", None)
    env.pop("IFCTL_SNAPSHOT_DIR", None)
    db_env = lambda db: dict(env, IFCTL_CHROMADB_DATABASE=db)

    raw = {k: [] for k in scales}
    create = {k: [] for k in scales}
    size = {}
    for run in range(args.runs):
        for k in scales:
            log(f"create run {run + 1}/{args.runs}, {k}x")
            raw[k].append(raw_fetch(url, f"bench_{k}x", paged=True)[0])
            name = f"s{k}x-{run}"
            create[k].append(measure([ifctl, "-q", "snapshot", "create", "--name", name], db_env(f"bench_{k}x")))
            archive = os.path.join(snaps, f"{name}.tar.gz")
            rows = manifest_rows(archive)
            if rows != records[k]:
                sys.exit(f"{archive}: the manifest says {rows} rows exported, the database holds {records[k]}")
            size[k] = os.path.getsize(archive) / 1e6
            if run > 0:
                os.remove(archive)  # run 0's archive is restored below

    restore = {k: [] for k in scales}
    for run in range(args.restore_runs):
        for k in scales:
            log(f"restore run {run + 1}/{args.restore_runs}, {k}x")
            reset_database(url, RESTORE_DB)
            restore[k].append(measure([ifctl, "-q", "snapshot", "restore", f"s{k}x-0", "--yes", "--no-backup"],
                                      db_env(RESTORE_DB)))
            got = counts(url, RESTORE_DB)
            if got != expected_counts(fixture, k):
                sys.exit(f"restore of {k}x left counts {got}, expected {expected_counts(fixture, k)}")

    med = statistics.median
    base = scales[0]
    c_max = {k: max(r for _, r in create[k]) for k in scales}
    r_max = {k: max(r for _, r in restore[k]) for k in scales} if args.restore_runs else {}
    print(f"{args.runs} creates and {args.restore_runs} restores per scale, interleaved over the scales; "
          f"wall = median; peak RSS from GNU time %M; 'vs {base}x' compares max peak RSS\n")
    print(f"| scale | records | create wall (s) | create peak RSS median / max (MB) | create RSS vs {base}x "
          f"| restore wall (s) | restore peak RSS median / max (MB) | restore RSS vs {base}x |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for k in scales:
        line = (f"| {k}x | {records[k]:,} | {med([w for w, _ in create[k]]):.2f} "
                f"| {med([r for _, r in create[k]]):.1f} / {c_max[k]:.1f} | {c_max[k] / c_max[base]:.2f} ")
        if restore[k]:
            line += (f"| {med([w for w, _ in restore[k]]):.2f} | {med([r for _, r in restore[k]]):.1f} / "
                     f"{r_max[k]:.1f} | {r_max[k] / r_max[base]:.2f} |")
        else:
            line += "| - | - | - |"
        print(line)

    print(f"\n| scale | archive (MB) | raw fetch, ids + pages of 1,000 (s) | create / raw fetch "
          f"| restore rows/s | load rows/s (raw add bodies) |")
    print("|---|---:|---:|---:|---:|---:|")
    for k in scales:
        cw, rf = med([w for w, _ in create[k]]), med(raw[k])
        rr = f"{records[k] / med([w for w, _ in restore[k]]):.0f}" if restore[k] else "-"
        li = f"{ingest[k]:.0f}" if ingest[k] else "- (reused)"
        print(f"| {k}x | {size[k]:.1f} | {rf:.2f} | {cw / rf:.2f}x | {rr} | {li} |")

    worst_c = max(c_max[k] / c_max[base] for k in scales)
    verdict = f"\npeak RSS, largest / {base}x: create {worst_c:.2f}"
    if r_max:
        worst_r = max(r_max[k] / r_max[base] for k in scales)
        verdict += f", restore {worst_r:.2f}"
        flat = worst_c <= 1.2 and worst_r <= 1.2
    else:
        flat = worst_c <= 1.2
    print(verdict + f" -> {'flat' if flat else 'NOT flat'} within 20%")

    try:
        http("DELETE", f"{url}/api/v2/tenants/{TENANT}/databases/{RESTORE_DB}")
    except urllib.error.HTTPError:
        pass
    if args.drop:
        for k in scales:
            http("DELETE", f"{url}/api/v2/tenants/{TENANT}/databases/bench_{k}x")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
