#!/usr/bin/env python3
"""Migration benchmark (see docs/benchmarks.md): `ifctl migrate` of the fixture to the 12-field
schema against the server's own raw export + ingest time, measured in the same run.

For each run: copy the fixture (default database) into a fresh database `bench_migrate`; time a
raw export (one `get` per collection, body discarded) and a raw ingest of the migrated rows
(pre-built `add` bodies of 500 rows, base64 float32, into a fresh database `bench_ingest`); then
time `ifctl migrate --spec docs/migration/sergio-v2.toml --yes` on `bench_migrate` (wall, peak
RSS via GNU time).

Usage: bench_migrate.py IFCTL SPEC [--url http://127.0.0.1:8000] [--runs N]
"""
import argparse
import base64
import json
import os
import statistics
import sys
import tempfile
import time

import chromadb
import numpy as np

from common import TENANT, http, measure, raw_ingest, reset_database, scope


def client(url, db):
    host, port = url.split("//")[1].split(":")
    return chromadb.HttpClient(host=host, port=int(port), database=db)


def copy_fixture(url, db):
    reset_database(url, db)
    src, dst = client(url, "default_database"), client(url, db)
    data = {}
    for col in src.list_collections():
        d = col.get(include=["embeddings", "documents", "metadatas"])
        meta = dict(col.metadata or {})
        meta["schema_version"] = "v1.0"
        target = dst.create_collection(col.name, metadata=meta, configuration={"hnsw": {"space": "cosine"}})
        for i in range(0, len(d["ids"]), 1000):
            target.add(ids=d["ids"][i:i + 1000], embeddings=d["embeddings"][i:i + 1000],
                       documents=d["documents"][i:i + 1000], metadatas=d["metadatas"][i:i + 1000])
        data[col.name] = d
    return data


def raw_export(url, db):
    started = time.perf_counter()
    for c in json.loads(http("GET", f"{scope(url, db)}/collections?limit=1000")):
        http("POST", f"{scope(url, db)}/collections/{c['id']}/get", {"include": ["embeddings", "documents", "metadatas", "uris"]})
    return time.perf_counter() - started


def migrated_bodies(data):
    """The rows as ifctl imports them: 12-field metadata (approximated by the same keys), 500 a batch."""
    out = []
    for name, d in data.items():
        emb = np.asarray(d["embeddings"], dtype="<f4")
        bodies = []
        for i in range(0, len(d["ids"]), 500):
            metas = []
            for m, doc in zip(d["metadatas"][i:i + 500], d["documents"][i:i + 500]):
                metas.append({"source_file": m["source"], "speaker": m["speaker"], "category": m["category"],
                              "rhetorical_device": "none", "humor_type": "none", "timestamp": 1,
                              "word_count": len(doc.split()), "citation_id": "if://citation/0000000000000000",
                              "council_session": "unassigned", "tags": m["tags"].split(","), "version": "2.0",
                              "migrated_from": "1.0"})
            bodies.append(json.dumps({"ids": d["ids"][i:i + 500],
                                      "embeddings": [base64.b64encode(r.tobytes()).decode() for r in emb[i:i + 500]],
                                      "documents": d["documents"][i:i + 500], "metadatas": metas}).encode())
        out.append(({"name": name, "configuration": {"hnsw": {"space": "cosine"}}}, bodies))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ifctl")
    ap.add_argument("spec")
    ap.add_argument("--url", default="http://127.0.0.1:8000")
    ap.add_argument("--runs", type=int, default=2)
    args = ap.parse_args()
    url = args.url
    work = tempfile.mkdtemp(prefix="ifctl-bench-migrate-")
    env = dict(os.environ, IFCTL_STATE_DIR=os.path.join(work, "state"), IFCTL_CHROMADB_URL=url,
               IFCTL_CHROMADB_DATABASE="bench_migrate", NO_COLOR="1")
    exports, ingests, migrations = [], [], []
    for run in range(args.runs):
        print(f"run {run + 1}: copying the fixture into bench_migrate...", file=sys.stderr)
        data = copy_fixture(url, "bench_migrate")
        exports.append(raw_export(url, "bench_migrate"))
        ingests.append(raw_ingest(url, "bench_ingest", migrated_bodies(data)))
        migrations.append(measure([os.path.abspath(args.ifctl), "-q", "migrate", "--spec", args.spec, "--yes"], env))
    e, i = statistics.median(exports), statistics.median(ingests)
    m = statistics.median(w for w, _ in migrations)
    rss = max(r for _, r in migrations)
    print(f"{args.runs} runs; fixture: 4 collections, 9,832 docs, 384-d; median wall\n")
    print("| step | wall (s) | peak RSS (MB) |")
    print("|---|---:|---:|")
    print(f"| raw export (one get per collection) | {e:.2f} | - |")
    print(f"| raw ingest of the migrated rows (500-row add bodies) | {i:.2f} | - |")
    print(f"| raw export + ingest | {e + i:.2f} | - |")
    print(f"| ifctl migrate (snapshot, transform, import, 8 checks, swap) | {m:.2f} | {rss:.1f} |")
    print(f"\nmigrate / (export + ingest): {m / (e + i):.2f}x")
    for db in ["bench_migrate", "bench_ingest"]:
        http("DELETE", f"{url}/api/v2/tenants/{TENANT}/databases/{db}")


if __name__ == "__main__":
    main()
