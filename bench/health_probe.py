#!/usr/bin/env python3
"""Baseline for the health benchmark: the probes `ifctl health check` makes, written as a plain
Python script with redis-py and requests (the way such a check is usually written).

Reads the same IFCTL_* variables as ifctl. Exit code: 0 healthy, 2 unhealthy.
"""
import json
import os
import shutil
import sys
import time

import redis
import requests

TIMEOUT = 2.0


def probe_redis(url):
    client = redis.Redis.from_url(url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT)
    started = time.perf_counter()
    client.ping()
    ping_ms = (time.perf_counter() - started) * 1000
    info = client.info()
    return {"ping_ms": ping_ms, "used_memory": info["used_memory"], "clients": info["connected_clients"]}


def probe_chroma(session, url, collections):
    session.get(f"{url}/api/v2/heartbeat", timeout=TIMEOUT).raise_for_status()
    version = session.get(f"{url}/api/v2/version", timeout=TIMEOUT).json()
    scope = f"{url}/api/v2/tenants/default_tenant/databases/default_database"
    found = []
    for name in collections:
        c = session.get(f"{scope}/collections/{name}", timeout=TIMEOUT).json()
        count = session.get(f"{scope}/collections/{c['id']}/count", timeout=TIMEOUT).json()
        found.append((name, c["id"], c["dimension"], count))
    _, cid, dim, _ = found[0]
    vector = [0.0] * dim
    vector[0] = 1.0
    started = time.perf_counter()
    session.post(f"{scope}/collections/{cid}/query", timeout=TIMEOUT,
                 json={"query_embeddings": [vector], "n_results": 1, "include": ["distances"]}).raise_for_status()
    return {"version": version, "collections": found, "query_ms": (time.perf_counter() - started) * 1000}


def probe_openwebui(session, url, token):
    ready = session.get(f"{url}/ready", timeout=TIMEOUT)
    ready.raise_for_status()
    models = session.get(f"{url}/api/models", timeout=TIMEOUT, headers={"Authorization": f"Bearer {token}"})
    models.raise_for_status()
    return {"models": len(models.json()["data"])}


def probe_system(paths):
    disks = {p: shutil.disk_usage(p) for p in paths}
    with open("/proc/meminfo") as f:
        mem = dict(line.split(":", 1) for line in f)
    return {"disks": {p: u.used / (u.used + u.free) for p, u in disks.items()},
            "mem_available_kb": int(mem["MemAvailable"].split()[0])}


def main():
    components = sys.argv[1].split(",") if len(sys.argv) > 1 else ["redis", "chromadb", "system"]
    session = requests.Session()
    report, status = {}, 0
    for name in components:
        try:
            if name == "redis":
                report[name] = probe_redis(os.environ.get("IFCTL_REDIS_URL", "redis://127.0.0.1:6379"))
            elif name == "chromadb":
                cols = os.environ.get("IFCTL_CHROMADB_COLLECTIONS",
                                      "sergio_personality,sergio_rhetorical,sergio_humor,sergio_corpus").split(",")
                report[name] = probe_chroma(session, os.environ.get("IFCTL_CHROMADB_URL", "http://127.0.0.1:8000"), cols)
            elif name == "openwebui":
                report[name] = probe_openwebui(session, os.environ.get("IFCTL_OPENWEBUI_URL", "http://127.0.0.1:8080"),
                                               os.environ["IFCTL_OPENWEBUI_TOKEN"])
            elif name == "system":
                report[name] = probe_system(["/"])
        except Exception as e:  # a failed probe is a status, not a crash
            report[name] = {"error": str(e)}
            status = 2
    json.dump(report, sys.stdout, default=str)
    sys.exit(status)


if __name__ == "__main__":
    main()
