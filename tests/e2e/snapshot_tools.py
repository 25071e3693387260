"""Helpers for the snapshot end-to-end tests (run with the test venv's python).

  snapshot_tools.py schema FILE.parquet          print the Arrow schema and row count as JSON
  snapshot_tools.py compare A.parquet B.parquet ATOL
                                                 compare two snapshot files: ids, documents, metadata
                                                 equal; embeddings within ATOL (0 = bit-exact)
  snapshot_tools.py compare-except-metadata A B ATOL   the same without the metadata column
  snapshot_tools.py hostile KIND GOOD.tar.gz OUT.tar.gz OUTSIDE
                                                 write a hostile variant of a good snapshot archive
"""
import io
import json
import os
import sys
import tarfile

import numpy as np
import pyarrow.parquet as pq


def schema(path):
    t = pq.read_table(path)
    fields = {f.name: str(f.type) for f in t.schema}
    nullable = {f.name: f.nullable for f in t.schema}
    print(json.dumps({"fields": fields, "nullable": nullable, "rows": t.num_rows}))


def compare(a, b, atol, columns=("id", "document", "metadata", "uri")):
    ta, tb = pq.read_table(a), pq.read_table(b)
    for col in columns:
        if ta.column(col).to_pylist() != tb.column(col).to_pylist():
            sys.exit(f"column {col} differs")
    ea = np.array(ta.column("embedding").to_pylist(), dtype=np.float32)
    eb = np.array(tb.column("embedding").to_pylist(), dtype=np.float32)
    if ea.shape != eb.shape:
        sys.exit(f"embedding shapes differ: {ea.shape} vs {eb.shape}")
    diff = float(np.max(np.abs(ea - eb))) if ea.size else 0.0
    if atol == 0.0 and not np.array_equal(ea.view(np.uint32), eb.view(np.uint32)):
        sys.exit(f"embeddings are not bit-exact (max diff {diff})")
    if diff > atol:
        sys.exit(f"embeddings differ by {diff} > {atol}")
    print(json.dumps({"rows": ta.num_rows, "max_diff": diff}))


def members(good):
    with tarfile.open(good, "r:gz") as tar:
        return [(m, tar.extractfile(m).read() if m.isfile() else None) for m in tar.getmembers()]


def write(out, entries):
    with tarfile.open(out, "w:gz") as tar:
        for info, data in entries:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)


def hostile(kind, good, out, outside):
    entries = members(good)
    top = entries[0][0].name.split("/")[0]
    evil = tarfile.TarInfo()
    evil.mtime = 0
    if kind == "absolute":
        evil.name, data = outside, b"owned"
        evil.size = len(data)
        entries.append((evil, data))
    elif kind == "dotdot":
        rel = os.path.relpath(outside, "/tmp")
        evil.name, data = f"{top}/../../../../../../tmp/{rel}", b"owned"
        evil.size = len(data)
        entries.append((evil, data))
    elif kind == "symlink":
        evil.name, evil.type, evil.linkname = f"{top}/collections/link.parquet", tarfile.SYMTYPE, outside
        entries.append((evil, None))
    elif kind == "hardlink":
        evil.name, evil.type, evil.linkname = f"{top}/collections/hard.parquet", tarfile.LNKTYPE, "/etc/passwd"
        entries.append((evil, None))
    elif kind == "device":
        evil.name, evil.type, evil.devmajor, evil.devminor = f"{top}/collections/dev.parquet", tarfile.CHRTYPE, 1, 3
        entries.append((evil, None))
    elif kind == "oversize":
        # A member larger than the manifest declares: its bytes are padded after the real file.
        for i, (info, data) in enumerate(entries):
            if info.name.endswith(".parquet"):
                data = data + b"\0" * 4096
                info.size = len(data)
                entries[i] = (info, data)
                break
    elif kind == "bomb":
        # 1 GiB of zeros compresses to ~1 MB: far past the decompression ratio limit.
        with tarfile.open(out, "w:gz") as tar:
            for info, data in entries:
                tar.addfile(info, io.BytesIO(data) if data is not None else None)
            info = tarfile.TarInfo(f"{top}/collections/bomb.parquet")
            info.size = 1 << 30

            class Zeros(io.RawIOBase):
                def __init__(self, n):
                    self.left = n

                def readable(self):
                    return True

                def readinto(self, b):
                    n = min(len(b), self.left)
                    b[:n] = bytes(n)
                    self.left -= n
                    return n

            tar.addfile(info, io.BufferedReader(Zeros(info.size), 1 << 20))
        return
    elif kind.startswith("flip"):
        suffix = {"flip": ".parquet", "flip-metadata": "metadata.json", "flip-checksums": "checksums.sha256"}[kind]
        for i, (info, data) in enumerate(entries):
            if info.name.endswith(suffix):
                data = bytearray(data)
                data[len(data) // 2] ^= 0x01
                entries[i] = (info, bytes(data))
                break
    elif kind in ("metadata-inject", "metadata-invalid"):
        # A record's metadata rewritten, with every checksum and size made to match: only a check of
        # the metadata itself can refuse it.
        import hashlib

        bad = '{"a":1}],"uris":["s3://injected"],"x":[{"b":2}' if kind == "metadata-inject" else '{"a": not json'
        files = {info.name: i for i, (info, _) in enumerate(entries)}
        at = next(i for name, i in files.items() if name.endswith(".parquet"))
        info, data = entries[at]
        table = pq.read_table(io.BytesIO(data), use_threads=False)
        metas = table.column("metadata").to_pylist()
        metas[0] = bad
        import pyarrow as pa

        table = table.set_column(table.schema.get_field_index("metadata"), table.schema.field("metadata"),
                                 pa.array(metas, type=pa.string()))
        buf = io.BytesIO()
        pq.write_table(table, buf, compression="NONE")
        data = buf.getvalue()
        info.size = len(data)
        entries[at] = (info, data)
        rel = info.name.split("/", 1)[1]
        meta_at = next(i for name, i in files.items() if name.endswith("metadata.json"))
        minfo, mdata = entries[meta_at]
        manifest = json.loads(mdata)
        for c in manifest["collections"]:
            if c["file"] == rel:
                c["sha256"], c["bytes"] = hashlib.sha256(data).hexdigest(), len(data)
        mdata = json.dumps(manifest, indent=2).encode()
        minfo.size = len(mdata)
        entries[meta_at] = (minfo, mdata)
        sums_at = next(i for name, i in files.items() if name.endswith("checksums.sha256"))
        sinfo, _ = entries[sums_at]
        lines = [f"{hashlib.sha256(mdata).hexdigest()}  metadata.json", f"{hashlib.sha256(data).hexdigest()}  {rel}"]
        lines += [f"{hashlib.sha256(d).hexdigest()}  {i.name.split('/', 1)[1]}" for i, d in entries
                  if i.isfile() and i.name.endswith(".parquet") and i.name.split("/", 1)[1] != rel]
        sdata = ("\n".join(lines) + "\n").encode()
        sinfo.size = len(sdata)
        entries[sums_at] = (sinfo, sdata)
    else:
        sys.exit(f"unknown kind {kind}")
    write(out, entries)


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "schema":
        schema(sys.argv[2])
    elif cmd == "compare":
        compare(sys.argv[2], sys.argv[3], float(sys.argv[4]))
    elif cmd == "compare-except-metadata":
        compare(sys.argv[2], sys.argv[3], float(sys.argv[4]), columns=("id", "document", "uri"))
    elif cmd == "hostile":
        hostile(*sys.argv[2:6])
    else:
        sys.exit(__doc__)
    # Done: skip the interpreter's teardown, where Arrow's thread pools sometimes abort
    # ("terminate called without an active exception") on a loaded machine.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
