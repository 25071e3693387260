"""Helpers shared by the benchmark scripts: raw HTTP to Chroma, fresh databases, and timing a whole
process with its peak RSS."""
import json
import subprocess
import sys
import tempfile
import time
import urllib.request

TENANT = "default_tenant"


def http(method, url, body=None):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req = urllib.request.Request(url, data=data, method=method, headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=600) as r:
        return r.read()


def scope(url, db):
    return f"{url}/api/v2/tenants/{TENANT}/databases/{db}"


def reset_database(url, db):
    try:
        http("DELETE", f"{url}/api/v2/tenants/{TENANT}/databases/{db}")
    except Exception:
        pass
    http("POST", f"{url}/api/v2/tenants/{TENANT}/databases", {"name": db})


def raw_ingest(url, db, collections):
    """The server's own ingest time: into a fresh database, create each collection (`create` is the
    request body) and post its pre-built `add` bodies back to back."""
    reset_database(url, db)
    started = time.perf_counter()
    for create, batches in collections:
        cid = json.loads(http("POST", f"{scope(url, db)}/collections", create))["id"]
        for b in batches:
            http("POST", f"{scope(url, db)}/collections/{cid}/add", b)
    return time.perf_counter() - started


def run_measured(argv, env):
    """Wall time (s), peak RSS (MB), exit code and stderr of a whole process. The RSS comes from
    GNU time (a small parent): `wait4` from this Python process would report at least Python's own
    size, because Linux carries the pre-exec (forked) memory into the child's high-water mark."""
    with tempfile.NamedTemporaryFile("r") as rss:
        started = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss.name] + argv, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wall = time.perf_counter() - started
        kb = int(rss.read().strip().splitlines()[-1])
    return wall, kb / 1024, proc.returncode, proc.stderr.decode()


def measure(argv, env):
    """Wall time (s) and peak RSS (MB); exits the benchmark if the command fails."""
    wall, rss, code, err = run_measured(argv, env)
    if code != 0:
        sys.exit(f"{argv} failed: {err}")
    return wall, rss
