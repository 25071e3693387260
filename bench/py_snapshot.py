#!/usr/bin/env python3
"""Baseline for the snapshot benchmark: what `ifctl snapshot create` does, written with the official
chromadb client and pyarrow — one `get` per collection (page size 0), Parquet (zstd, no dictionary),
metadata.json, checksums.sha256, tar.gz.

Usage: py_snapshot.py URL DATABASE OUT_DIR NAME
"""
import hashlib
import json
import os
import sys
import tarfile
import urllib.parse

import chromadb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


def main():
    url, database, out_dir, name = sys.argv[1:5]
    u = urllib.parse.urlparse(url)
    client = chromadb.HttpClient(host=u.hostname, port=u.port, database=database)
    work = os.path.join(out_dir, name)
    os.makedirs(os.path.join(work, "collections"), exist_ok=True)
    entries, sums = [], []
    for col in sorted(client.list_collections(), key=lambda c: c.name):
        data = col.get(include=["embeddings", "documents", "metadatas", "uris"])
        emb = np.asarray(data["embeddings"], dtype=np.float32)
        dim = emb.shape[1] if emb.ndim == 2 else 0
        table = pa.table({
            "id": pa.array(data["ids"], pa.string()),
            "document": pa.array(data["documents"], pa.string()),
            "metadata": pa.array([json.dumps(m, sort_keys=True) if m else None for m in data["metadatas"]], pa.string()),
            "uri": pa.array(data["uris"] or [None] * len(data["ids"]), pa.string()),
            "embedding": pa.FixedSizeListArray.from_arrays(pa.array(emb.ravel(), pa.float32()), dim),
        })
        rel = f"collections/{col.name}.parquet"
        path = os.path.join(work, rel)
        pq.write_table(table, path, compression="zstd", use_dictionary=False)
        digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
        sums.append((rel, digest))
        entries.append({"name": col.name, "id": str(col.id), "metadata": col.metadata, "rows": len(data["ids"]),
                        "dimension": dim, "file": rel, "bytes": os.path.getsize(path), "sha256": digest})
    with open(os.path.join(work, "metadata.json"), "w") as f:
        json.dump({"name": name, "collections": entries}, f, sort_keys=True, indent=2)
    sums.insert(0, ("metadata.json", hashlib.sha256(open(os.path.join(work, "metadata.json"), "rb").read()).hexdigest()))
    with open(os.path.join(work, "checksums.sha256"), "w") as f:
        f.writelines(f"{h}  {p}\n" for p, h in sums)
    with tarfile.open(os.path.join(out_dir, f"{name}.tar.gz"), "w:gz", compresslevel=1) as tar:
        tar.add(work, arcname=name)


if __name__ == "__main__":
    main()
