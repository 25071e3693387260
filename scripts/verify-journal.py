#!/usr/bin/env python3
"""Verify an ifctl audit journal without ifctl (docs/journal.md).

    python3 verify-journal.py /var/lib/ifctl/journal.jsonl [SEQ:HASH ...]

Walks the rotated segments (journal.NNNNNN.jsonl[.gz]) in order, then the live file. Each event's
`hash` must be the SHA-256 of its canonical form without `hash` (format v2: RFC 8785 via the PyPI
`rfc8785` package; v1: the line as ifctl wrote it, minus its top-level `"hash"` member), `prev` the
hash of the event before, `seq` one more. Each SEQ:HASH anchor must match the event with that seq.
Exit 0 intact, 4 broken, cut off or rewritten.
"""
import gzip
import hashlib
import json
import pathlib
import re
import sys

import rfc8785

GENESIS = "0" * 64
V1_HASH = re.compile(r',"hash":"[0-9a-f]{64}"(?=,"host":)')


def files(live):
    stem = live.name.removesuffix(".jsonl")
    pattern = re.compile(re.escape(stem) + r"\.(\d+)\.jsonl(\.gz)?$")
    segments = {}
    for path in live.parent.iterdir():
        m = pattern.match(path.name)
        if m and (int(m[1]) not in segments or not m[2]):
            segments[int(m[1])] = path
    return [segments[n] for n in sorted(segments)] + ([live] if live.exists() else [])


def lines(path):
    raw = gzip.open(path).read() if path.suffix == ".gz" else path.read_bytes()
    chunks = raw.split(b"\n")
    for i, chunk in enumerate(chunks[:-1]):
        yield i + 1, chunk
    if chunks[-1]:
        print(f"{path}: line {len(chunks)} is torn (a crash mid-write); skipped")


def canonical_without_hash(line, event):
    if event["v"] == 2:
        rest = {k: v for k, v in event.items() if k != "hash"}
        return rfc8785.dumps(rest)
    if event["v"] == 1:
        text = line.decode()
        found = list(V1_HASH.finditer(text))
        if not found:
            raise ValueError("no top-level hash member")
        m = found[-1]
        return (text[: m.start()] + text[m.end() :]).encode()
    raise ValueError(f"unknown format v={event['v']}")


def main():
    live = pathlib.Path(sys.argv[1])
    anchors = {}
    for text in sys.argv[2:]:
        seq, _, digest = text.partition(":")
        anchors[int(seq)] = digest.lower()
    prev_hash, prev_seq, count, heads = None, 0, 0, {}
    for path in files(live):
        for number, line in lines(path):
            where = f"{path} line {number}"
            event = json.loads(line)
            digest = hashlib.sha256(canonical_without_hash(line, event)).hexdigest()
            if digest != event["hash"]:
                sys.exit(print(f"{where}: content does not match its hash") or 4)
            if prev_hash is None:
                if event["seq"] == 1 and event["prev"] != GENESIS:
                    sys.exit(print(f"{where}: the first event does not link to genesis") or 4)
                if event["seq"] != 1 and event["kind"] != "journal.rotated":
                    sys.exit(print(f"{where}: the chain starts at seq {event['seq']}: events were cut off") or 4)
            elif event["prev"] != prev_hash or event["seq"] != prev_seq + 1:
                sys.exit(print(f"{where}: does not link to the event before") or 4)
            prev_hash, prev_seq, count = event["hash"], event["seq"], count + 1
            if event["seq"] in anchors:
                heads[event["seq"]] = event["hash"]
    for seq, digest in sorted(anchors.items()):
        if seq > prev_seq:
            sys.exit(print(f"anchor {seq}: the journal ends at seq {prev_seq}: events were cut off") or 4)
        if seq in heads and heads[seq] != digest:
            sys.exit(print(f"anchor {seq}: the event has another hash: the history was rewritten") or 4)
    print(f"intact: {count} events, head {prev_seq}:{prev_hash}")


if __name__ == "__main__":
    main()
