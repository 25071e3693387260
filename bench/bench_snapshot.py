#!/usr/bin/env python3
"""Snapshot benchmark, side by side in one run (see docs/benchmarks.md):

- raw fetch: every row of every collection over HTTP, one `get` per collection, body read and
  discarded (the server's limit), and the same in ifctl's pattern (ids, then pages of 1,000 ids);
- `ifctl snapshot create`: wall and peak RSS, on the fixture and on a copy with every collection
  doubled (RSS must stay flat);
- the Python baseline (chromadb client + pyarrow, bench/py_snapshot.py): wall and peak RSS;
- restore: `ifctl snapshot restore` into an empty database vs the server's own ingest time for the
  same rows (pre-built `add` bodies of 1,000 rows, base64 float32, posted back to back).

Usage: bench_snapshot.py IFCTL [--url http://127.0.0.1:8000] [--runs N] [--restore-runs N]
"""
import argparse
import base64
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

import chromadb
import numpy as np
import pyarrow.parquet as pq

HERE = os.path.dirname(os.path.abspath(__file__))
from common import TENANT, http, measure, raw_ingest, reset_database, scope


def collections(url, db):
    return sorted(json.loads(http("GET", f"{scope(url, db)}/collections?limit=1000")), key=lambda c: c["name"])


def raw_fetch(url, db, paged):
    started = time.perf_counter()
    total = 0
    for c in collections(url, db):
        base = f"{scope(url, db)}/collections/{c['id']}/get"
        include = ["embeddings", "documents", "metadatas", "uris"]
        if not paged:
            total += len(http("POST", base, {"include": include}))
            continue
        ids = json.loads(http("POST", base, {"include": []}))["ids"]
        for i in range(0, len(ids), 1000):
            total += len(http("POST", base, {"ids": ids[i:i + 1000], "include": include}))
    return time.perf_counter() - started, total


def make_double(url, source_db, db):
    """A database where each collection holds every fixture row twice (ids suffixed)."""
    reset_database(url, db)
    src = chromadb.HttpClient(host=url.split("//")[1].split(":")[0], port=int(url.rsplit(":", 1)[1]), database=source_db)
    dst = chromadb.HttpClient(host=url.split("//")[1].split(":")[0], port=int(url.rsplit(":", 1)[1]), database=db)
    for col in src.list_collections():
        data = col.get(include=["embeddings", "documents", "metadatas"])
        target = dst.create_collection(col.name, metadata=col.metadata, configuration={"hnsw": {"space": "cosine"}})
        for suffix in ("", "-b"):
            for i in range(0, len(data["ids"]), 1000):
                target.add(ids=[x + suffix for x in data["ids"][i:i + 1000]], embeddings=data["embeddings"][i:i + 1000],
                           documents=data["documents"][i:i + 1000], metadatas=data["metadatas"][i:i + 1000])


def add_bodies(snapshot_dir):
    """The same `add` bodies ifctl sends: 1,000 rows, base64 little-endian float32."""
    out = []
    meta = json.load(open(os.path.join(snapshot_dir, "metadata.json")))
    for c in meta["collections"]:
        t = pq.read_table(os.path.join(snapshot_dir, c["file"]))
        emb = np.asarray(t.column("embedding").combine_chunks().flatten(), dtype="<f4").reshape(t.num_rows, -1)
        ids, docs, metas = t.column("id").to_pylist(), t.column("document").to_pylist(), t.column("metadata").to_pylist()
        bodies = []
        for i in range(0, t.num_rows, 1000):
            bodies.append(json.dumps({
                "ids": ids[i:i + 1000],
                "embeddings": [base64.b64encode(r.tobytes()).decode() for r in emb[i:i + 1000]],
                "documents": docs[i:i + 1000],
                "metadatas": [json.loads(m) if m else None for m in metas[i:i + 1000]],
            }).encode())
        create = {"name": c["name"], "configuration": {"hnsw": c["configuration"]["hnsw"]}}
        if c["metadata"]:
            create["metadata"] = c["metadata"]
        out.append((create, bodies))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ifctl")
    ap.add_argument("--url", default="http://127.0.0.1:8000")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--restore-runs", type=int, default=2)
    args = ap.parse_args()
    url, ifctl = args.url, os.path.abspath(args.ifctl)
    work = tempfile.mkdtemp(prefix="ifctl-bench-snap-")
    env = dict(os.environ, IFCTL_STATE_DIR=os.path.join(work, "state"), IFCTL_CHROMADB_URL=url, NO_COLOR="1")
    rows = sum(json.loads(http("GET", f"{scope(url, 'default_database')}/collections/{c['id']}/count"))
               for c in collections(url, "default_database"))
    print(f"data: {len(collections(url, 'default_database'))} collections, {rows} rows\n")

    print("building the doubled copy (database bench_2x)...", file=sys.stderr)
    make_double(url, "default_database", "bench_2x")

    results = {k: [] for k in ["raw1", "rawp", "raw2", "ifctl1", "ifctl2", "py1", "py2"]}
    for run in range(args.runs):
        results["raw1"].append(raw_fetch(url, "default_database", paged=False))
        results["rawp"].append(raw_fetch(url, "default_database", paged=True))
        results["raw2"].append(raw_fetch(url, "bench_2x", paged=False))
        results["ifctl1"].append(measure([ifctl, "-q", "snapshot", "create", "--name", f"x1-{run}"], env))
        results["ifctl2"].append(measure([ifctl, "-q", "snapshot", "create", "--name", f"x2-{run}"],
                                         dict(env, IFCTL_CHROMADB_DATABASE="bench_2x")))
        py = [sys.executable, os.path.join(HERE, "py_snapshot.py"), url]
        results["py1"].append(measure(py + ["default_database", os.path.join(work, "py"), f"p1-{run}"], env))
        results["py2"].append(measure(py + ["bench_2x", os.path.join(work, "py"), f"p2-{run}"], env))

    med = lambda xs: statistics.median(xs)
    raw1 = med([w for w, _ in results["raw1"]])
    print(f"{args.runs} runs each, interleaved; wall = median; RSS = max peak (GNU time %M)\n")
    print("| step | data | wall (s) | peak RSS (MB) |")
    print("|---|---|---:|---:|")
    print(f"| raw fetch, one get per collection | 1x | {raw1:.2f} | - |")
    print(f"| raw fetch, ids + pages of 1,000 | 1x | {med([w for w, _ in results['rawp']]):.2f} | - |")
    print(f"| raw fetch, one get per collection | 2x | {med([w for w, _ in results['raw2']]):.2f} | - |")
    for key, label, data in [("ifctl1", "ifctl snapshot create", "1x"), ("ifctl2", "ifctl snapshot create", "2x"),
                             ("py1", "python (chromadb + pyarrow)", "1x"), ("py2", "python (chromadb + pyarrow)", "2x")]:
        print(f"| {label} | {data} | {med([w for w, _ in results[key]]):.2f} | {max(r for _, r in results[key]):.1f} |")
    i1, p1 = med([w for w, _ in results["ifctl1"]]), med([w for w, _ in results["py1"]])
    print(f"\ncreate / raw fetch (1x): {i1 / raw1:.2f}x; python / ifctl (1x): {p1 / i1:.1f}x")

    # Restore: ifctl into an empty database vs the server's own ingest of the same bodies.
    snap_dir = os.path.join(work, "unpacked")
    shutil.unpack_archive(os.path.join(work, "state", "snapshots", "x1-0.tar.gz"), snap_dir)
    bodies = add_bodies(os.path.join(snap_dir, "x1-0"))
    ingest, restore = [], []
    for run in range(args.restore_runs):
        ingest.append(raw_ingest(url, "bench_ingest", bodies))
        reset_database(url, "bench_restore")
        restore.append(measure([ifctl, "-q", "snapshot", "restore", "x1-0", "--yes", "--no-backup"],
                               dict(env, IFCTL_CHROMADB_DATABASE="bench_restore")))
    ri, rr = med(ingest), med([w for w, _ in restore])
    print(f"\n| restore ({args.restore_runs} runs each, interleaved) | wall (s) | peak RSS (MB) |")
    print("|---|---:|---:|")
    print(f"| server ingest of the same add bodies (raw HTTP) | {ri:.2f} | - |")
    print(f"| ifctl snapshot restore (verify + staging + checks + swap) | {rr:.2f} | {max(r for _, r in restore):.1f} |")
    print(f"\nrestore / server ingest: {rr / ri:.2f}x")
    for db in ["bench_2x", "bench_ingest", "bench_restore"]:
        http("DELETE", f"{url}/api/v2/tenants/{TENANT}/databases/{db}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
