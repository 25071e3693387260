"""Issue 11's figures for `ifctl serve` with the default recovery policy:

1. time from `kill -9` of Redis to Redis healthy again under serve (`--interval 1s`, a restart
   command configured, the restart not needing approval — everything else default), one fresh
   state dir per run so every run is a first incident; median of RUNS;
2. `/livez` latency (p50/p99/max over fresh connections, as a probe makes them) while a component
   check hangs: Redis SIGSTOPped, so its probe waits out its deadline every round.

Usage: bench_serve_recovery.py IFCTL [RUNS]"""
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, path):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.read().decode()
    finally:
        conn.close()


def redis_status(port):
    try:
        _, body = get(port, "/status")
    except OSError:
        return None
    for c in json.loads(body)["components"]:
        if c["component"] == "redis":
            return c["status"]
    return None


def wait(what, limit, ok):
    started = time.monotonic()
    while not ok():
        if time.monotonic() - started > limit:
            sys.exit(f"{what}: not within {limit} s")
        time.sleep(0.02)


def main():
    ifctl = os.path.abspath(sys.argv[1])
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    work = tempfile.mkdtemp(prefix="ifctl-bench-serve-")
    redis_port = free_port()
    pidfile = f"{work}/redis.pid"
    start_redis = (f"redis-server --port {redis_port} --bind 127.0.0.1 --save '' --appendonly no "
                   f"--daemonize yes --dir {work} --pidfile {pidfile}")
    subprocess.run(start_redis, shell=True, check=True)
    wait("redis up", 10, lambda: os.path.exists(pidfile))
    config = f"{work}/ifctl.toml"
    with open(config, "w") as f:
        f.write('[recovery]\nneeds_approval = ["redis.flush_unexpiring", "chromadb.snapshot_rollback", '
                '"chromadb.index_rebuild", "system.process_restart"]\n'
                f'[recovery.redis]\nrestart_command = "{start_redis}"\n')
    env = dict(os.environ, IFCTL_REDIS_URL=f"redis://127.0.0.1:{redis_port}")
    times = []
    livez = []
    try:
        for run in range(runs + 1):
            state = tempfile.mkdtemp(dir=work)
            port = free_port()
            serve = subprocess.Popen([ifctl, "-q", "--config", config, "--state-dir", state, "serve",
                                      "--listen", f"127.0.0.1:{port}", "--interval", "1s"],
                                     env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                wait("redis healthy under serve", 30, lambda: redis_status(port) == "healthy")
                pid = int(open(pidfile).read())
                if run < runs:
                    os.kill(pid, signal.SIGKILL)
                    killed = time.monotonic()
                    wait("redis seen down", 10, lambda: redis_status(port) != "healthy")
                    wait("redis healthy again", 120, lambda: redis_status(port) == "healthy")
                    times.append(time.monotonic() - killed)
                    print(f"run {run + 1}: kill -> healthy {times[-1]:.2f} s", flush=True)
                else:
                    # Redis stopped: its check hangs to the deadline every round; /livez must not.
                    os.kill(pid, signal.SIGSTOP)
                    try:
                        time.sleep(3)
                        until = time.monotonic() + 15
                        while time.monotonic() < until:
                            t = time.perf_counter()
                            status, _ = get(port, "/livez")
                            livez.append((time.perf_counter() - t) * 1000)
                            assert status == 200, status
                            time.sleep(0.005)
                    finally:
                        os.kill(pid, signal.SIGCONT)
            finally:
                serve.send_signal(signal.SIGTERM)
                serve.wait(timeout=10)
    finally:
        try:
            os.kill(int(open(pidfile).read()), signal.SIGKILL)
        except (OSError, ValueError):
            pass
    livez.sort()
    pct = lambda p: livez[min(len(livez) - 1, int(len(livez) * p))]
    print(f"kill -> healthy under serve, default policy, --interval 1s: median {statistics.median(times):.2f} s "
          f"(min {min(times):.2f}, max {max(times):.2f}, {runs} runs)")
    print(f"/livez while the Redis check hangs (SIGSTOP): {len(livez)} requests, p50 {pct(0.5):.2f} ms, "
          f"p99 {pct(0.99):.2f} ms, max {livez[-1]:.2f} ms")


if __name__ == "__main__":
    main()
