"""Chaos suite: `ifctl serve` (default recovery policy, a Redis restart command configured) watches
a real stack of its own while a seeded random schedule injects faults and an operator runs
commands at the same time; at the end it checks invariants and prints a report.

Usage: chaos.py IFCTL [--duration 180] [--seed N] [--report FILE] [--no-openwebui]

Stack (all on free loopback ports, under one work dir): redis-server, Chroma, OpenWebUI (unless
--no-openwebui), each behind a TCP fault proxy that ifctl's config points at. The snapshot
directory and the state dir are small tmpfs mounts when running as root (else plain directories
and the two disk-full faults are skipped).

Faults, one at a time, each after the stack is healthy again (or after a wait limit):
  kill:redis         SIGKILL; serve queues `redis.restart` for approval (the default policy) and the
                     on-call thread approves it, as a person would
  kill:chroma|openwebui  SIGKILL; a supervisor restarts it after 2 s (systemd's job: ifctl has no
                     restart strategy for them), serve must see it back
  stop:<c>           SIGSTOP for 3-12 s, then SIGCONT
  blackhole:<c>      the proxy accepts and never answers, for 4-12 s
  garbage:<c>        the proxy answers random bytes and closes, for 4-12 s
  full:state         the state dir's tmpfs filled for 8 s
  full:snapshots     the snapshot dir's tmpfs filled, `snapshot create` run into it (must exit 1,
                     leave nothing visible)
Operators meanwhile (random, every 1-6 s): `snapshot create` + `snapshot prune --keep-last 3` as
cron would, `recover -c <c>`, `approve --list`/`approve ID`, `disable`/`enable`, `journal note`.

Invariants checked at the end (exit 1 if any fails): serve never exited and stops cleanly on
SIGTERM; /livez always answered 200 within 100 ms; serve's RSS at the end within 2x of its start;
every fault healed (time to healthy recorded) or its suspension is in the journal; real recovery
attempts per component per rolling hour within the budget; no operator command panicked or exited
with a code outside its documented set; `journal verify` passes; every visible snapshot passes
`snapshot verify`; no `__ifctl_` collections left in Chroma.
"""
import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

COMPONENTS = ["redis", "chromadb", "openwebui"]
FREE_STRATEGIES = {"reconnect", "query_retry", "collection_reload", "graceful_degradation"}  # as Strategy::is_free
BUDGET = 3  # recovery.max_attempts_per_hour, default
HEALTHY_RESET = 600  # recovery.healthy_reset_seconds, default
LIVEZ_LIMIT_MS = 100.0
HEAL_LIMIT_S = 120.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, timeout=10):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def until(limit, ok, step=0.2):
    """True once `ok()` holds, False after `limit` seconds."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if ok():
            return True
        time.sleep(step)
    return False


def wait_for(what, limit, ok, step=0.2):
    """`until`, for set-up: a check that raises (a server not listening yet) counts as not yet,
    and running out of time ends the run."""
    def quiet():
        try:
            return ok()
        except Exception:
            return False
    if not until(limit, quiet, step):
        raise SystemExit(f"chaos: timed out after {limit} s waiting for {what}")
    return True


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


class Proxy:
    """TCP proxies in front of the servers. A mode change closes every open connection, so pooled
    clients meet the new mode at once (as after a network flap)."""

    def __init__(self, seed):
        self.loop = asyncio.new_event_loop()
        self.modes = {}
        self.conns = {}
        self.rng = random.Random(seed)
        threading.Thread(target=self.loop.run_forever, daemon=True).start()

    def add(self, name, listen, upstream):
        self.modes[name] = "pass"
        self.conns[name] = set()

        async def handle(reader, writer):
            mode = self.modes[name]
            self.conns[name].add(writer)
            try:
                if mode == "blackhole":
                    while await reader.read(65536):
                        pass
                elif mode == "garbage":
                    writer.write(bytes(self.rng.randrange(256) for _ in range(self.rng.randrange(1, 512))))
                    await writer.drain()
                else:
                    up_r, up_w = await asyncio.open_connection("127.0.0.1", upstream)
                    self.conns[name].add(up_w)

                    async def pipe(r, w):
                        try:
                            while data := await r.read(65536):
                                w.write(data)
                                await w.drain()
                        except Exception:
                            pass
                        finally:
                            w.close()

                    await asyncio.gather(pipe(reader, up_w), pipe(up_r, writer))
                    self.conns[name].discard(up_w)
            except Exception:
                pass
            finally:
                self.conns[name].discard(writer)
                writer.close()

        async def start():
            await asyncio.start_server(handle, "127.0.0.1", listen)

        asyncio.run_coroutine_threadsafe(start(), self.loop).result()

    def set(self, name, mode):
        def apply():
            self.modes[name] = mode
            for w in list(self.conns[name]):
                w.close()
        self.loop.call_soon_threadsafe(apply)


class Stack:
    def __init__(self, work, openwebui, venv):
        self.work, self.with_openwebui, self.venv = work, openwebui, venv
        self.ports = {c: free_port() for c in COMPONENTS}
        self.proxied = {c: free_port() for c in COMPONENTS}
        self.procs = {}
        self.supervised = {"chromadb", "openwebui"}
        self.held = set()  # components the supervisor must leave alone (stopped on purpose)
        self.redis_pidfile = f"{work}/redis/redis.pid"
        os.makedirs(f"{work}/redis", exist_ok=True)
        self.redis_start = (f"redis-server --port {self.ports['redis']} --bind 127.0.0.1 --save '' "
                            f"--appendonly no --daemonize yes --dir {work}/redis --pidfile {self.redis_pidfile}")

    def start(self, component):
        if component == "redis":
            subprocess.run(self.redis_start, shell=True, check=True, stdout=subprocess.DEVNULL)
            return
        logf = open(f"{self.work}/{component}.log", "ab")
        if component == "chromadb":
            argv = [f"{self.venv}/bin/chroma", "run", "--host", "127.0.0.1", "--port", str(self.ports[component]),
                    "--path", f"{self.work}/chroma"]
            env = dict(os.environ)
        else:
            argv = [f"{self.venv}/bin/open-webui", "serve", "--host", "127.0.0.1", "--port",
                    str(self.ports[component])]
            env = dict(os.environ, DATA_DIR=f"{self.work}/openwebui", OFFLINE_MODE="true", HF_HUB_OFFLINE="1",
                       ENABLE_OLLAMA_API="false", ENABLE_OPENAI_API="false", WEBUI_SECRET_KEY="ifctl-chaos")
        self.procs[component] = subprocess.Popen(argv, env=env, stdout=logf, stderr=logf, start_new_session=True)

    def pid(self, component):
        if component == "redis":
            try:
                return int(open(self.redis_pidfile).read())
            except (OSError, ValueError):
                return None
        proc = self.procs.get(component)
        return proc.pid if proc and proc.poll() is None else None

    def alive(self, component):
        pid = self.pid(component)
        if pid is None:
            return False
        try:
            os.kill(pid, 0)
            return True
        except OSError:
            return False

    def components(self):
        return [c for c in COMPONENTS if c != "openwebui" or self.with_openwebui]

    def supervise(self, stop):
        """Restarts a killed Chroma or OpenWebUI after 2 s, like systemd's Restart=always."""
        while not stop.is_set():
            for c in self.supervised & set(self.components()):
                proc = self.procs.get(c)
                if c not in self.held and proc is not None and proc.poll() is not None:
                    time.sleep(2)
                    if stop.is_set():
                        return  # the run is over: nothing is started behind the teardown
                    log(f"supervisor: restarting {c}")
                    self.start(c)
            time.sleep(0.2)

    def stop_all(self):
        for c, proc in self.procs.items():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGCONT)
                os.killpg(proc.pid, signal.SIGKILL)
        pid = self.pid("redis")
        if pid:
            try:
                os.kill(pid, signal.SIGCONT)
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


class Monitor:
    """Polls /livez (latency and status), /status (per-component status and check time) and
    serve's RSS."""

    def __init__(self, port, pid):
        self.port, self.pid = port, pid
        self.livez = []  # (ms, status or error)
        self.status = {}
        self.checked = {}
        self.history = []  # (monotonic, wall, component, status) per new check result
        self.rss = []
        self.lock = threading.Lock()

    def run(self, stop):
        threading.Thread(target=self.poll_livez, args=(stop,), daemon=True).start()
        threading.Thread(target=self.poll_status, args=(stop,), daemon=True).start()

    def poll_livez(self, stop):
        while not stop.is_set():
            started = time.perf_counter()
            try:
                code, _ = http("GET", f"http://127.0.0.1:{self.port}/livez", timeout=2)
            except Exception as e:
                code = f"error: {e}"
            self.livez.append(((time.perf_counter() - started) * 1000, code))
            try:
                with open(f"/proc/{self.pid}/status") as f:
                    kb = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
                self.rss.append((time.monotonic(), kb))
            except (OSError, StopIteration):
                pass
            time.sleep(0.1)

    def poll_status(self, stop):
        while not stop.is_set():
            try:
                _, body = http("GET", f"http://127.0.0.1:{self.port}/status", timeout=5)
                doc = json.loads(body)
                with self.lock:
                    for c in doc["components"]:
                        name = c["component"]
                        checked = doc["checked_at"].get(name)
                        if checked != self.checked.get(name):
                            self.checked[name] = checked
                            self.status[name] = (c["status"], time.monotonic())
                            self.history.append((time.monotonic(), time.time(), name, c["status"]))
            except Exception:
                pass
            time.sleep(0.1)

    def healthy_since(self, component, since):
        """True once a check made after `since` (monotonic) found the component healthy."""
        with self.lock:
            status, seen = self.status.get(component, (None, 0))
        return status == "healthy" and seen > since

    def seen_unhealthy(self, component, start, end):
        with self.lock:
            return any(start <= t <= end and c == component and s != "healthy" for t, _, c, s in self.history)

    def all_healthy(self, components, since):
        return all(self.healthy_since(c, since) for c in components)


class Ifctl:
    def __init__(self, binary, config, state, env):
        self.binary, self.config, self.state, self.env = binary, config, state, env
        self.runs = []  # (argv, code, seconds, unexpected)
        self.lock = threading.Lock()

    def __call__(self, *args, allowed=(0,), timeout=300):
        argv = [self.binary, "--config", self.config, "--state-dir", self.state] + list(args)
        started = time.monotonic()
        try:
            p = subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=timeout)
            code, out, err = p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired:
            code, out, err = "timeout", "", ""
        unexpected = code not in allowed or "panicked" in err
        with self.lock:
            self.runs.append((args, code, time.monotonic() - started, unexpected, err.strip()[-300:]))
        if unexpected:
            log(f"UNEXPECTED: ifctl {' '.join(args)} -> {code}: {err.strip()[-300:]}")
        return code, out, err


def fill(path):
    """Fills the filesystem holding `path`; returns the filler file."""
    filler = os.path.join(path, ".chaos-filler")
    try:
        with open(filler, "wb") as f:
            while True:
                f.write(b"\0" * (1 << 20))
    except OSError:
        pass
    return filler


def iso_seconds(ts):
    """Seconds since the epoch of a journal timestamp (UTC, RFC 3339)."""
    import datetime
    return datetime.datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def seed_chroma(port):
    base = f"http://127.0.0.1:{port}/api/v2/tenants/default_tenant/databases/default_database"
    rng = random.Random(7)
    for name, n in [("chaos_docs", 400), ("chaos_notes", 200)]:
        _, body = http("POST", f"{base}/collections", {"name": name, "configuration": {"hnsw": {"space": "l2"}}})
        cid = json.loads(body)["id"]
        for start in range(0, n, 100):
            ids = [f"{name}-{i:05d}" for i in range(start, min(n, start + 100))]
            http("POST", f"{base}/collections/{cid}/add", {
                "ids": ids,
                "embeddings": [[rng.uniform(-1, 1) for _ in range(384)] for _ in ids],
                "documents": [f"document {i} — ünïcode ✓" for i in ids],
                "metadatas": [{"n": i, "score": rng.random(), "tag": rng.choice(["a", "b", "c"])} for i in ids],
            })


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("ifctl")
    ap.add_argument("--duration", type=float, default=180)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--report", default=None)
    ap.add_argument("--no-openwebui", action="store_true")
    args = ap.parse_args()
    # SIGTERM (a CI timeout, a person) still runs the clean-up below: servers killed, mounts gone.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 32)
    rng = random.Random(seed)
    log(f"seed {seed} (replay with --seed {seed}); duration {args.duration:.0f} s")
    venv = os.environ["IFCTL_TEST_VENV"]
    work = tempfile.mkdtemp(prefix="ifctl-chaos-")
    state, snapshots = f"{work}/state", f"{work}/snapshots"
    mounts = []
    for d in (state, snapshots):
        os.makedirs(d, mode=0o700)
        if os.geteuid() == 0 and subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m,mode=0700", "tmpfs", d],
                                                 stderr=subprocess.DEVNULL).returncode == 0:
            mounts.append(d)
    disk_faults = len(mounts) == 2
    if not disk_faults:
        log("not root (or no tmpfs): the disk-full faults are skipped")

    stack = Stack(work, not args.no_openwebui, venv)
    proxy = Proxy(seed)
    for c in COMPONENTS:
        proxy.add(c, stack.proxied[c], stack.ports[c])
    stop = threading.Event()
    serve = supervisor = None
    report = {"seed": seed, "duration_s": args.duration, "faults": [], "violations": []}
    finished = False
    try:
        for c in stack.components():
            stack.start(c)
        wait_for("Chroma", 60, lambda: http("GET", f"http://127.0.0.1:{stack.ports['chromadb']}/api/v2/heartbeat")[0] == 200)
        seed_chroma(stack.ports["chromadb"])
        env = dict(os.environ, NO_COLOR="1")
        if stack.with_openwebui:
            log("waiting for OpenWebUI (about a minute on first start)")
            owui = f"http://127.0.0.1:{stack.ports['openwebui']}"
            wait_for("OpenWebUI", 240, lambda: http("GET", f"{owui}/health")[0] == 200, step=1)
            password = f"chaos-{rng.randrange(1 << 30)}"
            code, body = http("POST", f"{owui}/api/v1/auths/signup",
                              {"name": "chaos", "email": "chaos@localhost", "password": password})
            if code != 200:
                raise SystemExit(f"chaos: OpenWebUI signup answered {code}: {body[:200]}")
            env.update(IFCTL_OPENWEBUI_EMAIL="chaos@localhost", IFCTL_OPENWEBUI_PASSWORD=password)
        config = f"{work}/ifctl.toml"
        with open(config, "w") as f:
            f.write(f'[redis]\nurl = "redis://127.0.0.1:{stack.proxied["redis"]}"\n'
                    f'[chromadb]\nurl = "http://127.0.0.1:{stack.proxied["chromadb"]}"\n'
                    'expected_collections = ["chaos_docs", "chaos_notes"]\n'
                    f'[openwebui]\nurl = "http://127.0.0.1:{stack.proxied["openwebui"]}"\n'
                    f'critical = {"true" if stack.with_openwebui else "false"}\n'
                    f'[snapshots]\ndir = "{snapshots}"\n'
                    f'[recovery.redis]\nrestart_command = "{stack.redis_start}"\n')
        os.chmod(config, 0o600)
        # A copy: a rebuild during the run must not change the binary under test.
        binary = f"{work}/ifctl"
        shutil.copy2(args.ifctl, binary)
        ifctl = Ifctl(binary, config, state, env)
        serve_port = free_port()
        serve_log = open(f"{work}/serve.log", "wb")
        serve = subprocess.Popen([ifctl.binary, "--config", config, "--state-dir", state, "serve", "--listen",
                                  f"127.0.0.1:{serve_port}", "--interval", "2s"], env=env,
                                 stdout=serve_log, stderr=serve_log)
        wait_for("serve listening", 30, lambda: http("GET", f"http://127.0.0.1:{serve_port}/livez")[0] == 200)
        monitor = Monitor(serve_port, serve.pid)
        monitor.run(stop)
        supervisor = threading.Thread(target=stack.supervise, args=(stop,), daemon=True)
        supervisor.start()
        comps = stack.components()
        t0 = time.monotonic()
        wait_for("every component healthy under serve", 120, lambda: monitor.all_healthy(comps, t0))
        rss_start = monitor.rss[-1][1] if monitor.rss else None
        log(f"stack healthy; serve pid {serve.pid}, RSS {rss_start} kB")

        def on_call():
            """Approves what serve queues, as the on-call engineer would, within seconds."""
            while not stop.is_set():
                time.sleep(rng_oncall.uniform(1, 3))
                code, out, _ = ifctl("--output", "json", "approve", "--list", allowed=(0, 1))
                if code == 0:
                    for pending in json.loads(out or "[]"):
                        ifctl("approve", pending["action_id"], allowed=(0, 1, 3, 6))

        def operator():
            """Bursts of commands a person and cron run while serve works."""
            n = 0
            while not stop.is_set():
                time.sleep(rng_ops.uniform(1, 6))
                n += 1
                what = rng_ops.choice(["snapshot", "snapshot", "recover", "disable", "note", "list"])
                c = rng_ops.choice(comps)
                if what == "snapshot":
                    ifctl("snapshot", "create", "--wait", allowed=(0, 1, 3, 6))
                    ifctl("snapshot", "prune", "--keep-last", "3", allowed=(0, 1, 6))
                elif what == "recover":
                    ifctl("recover", "-c", c, allowed=(0, 1, 3, 5, 6))
                elif what == "disable":
                    ifctl("disable", "-c", c, "--for", "5m", "--reason", f"chaos operator {n}", allowed=(0, 1))
                    time.sleep(rng_ops.uniform(0.5, 3))
                    ifctl("enable", "-c", c, allowed=(0, 1))
                elif what == "note":
                    ifctl("journal", "note", "-c", c, f"chaos note {n}: ünïcode ✓", allowed=(0, 1))
                else:
                    ifctl("--output", "json", "snapshot", "list", allowed=(0, 1))

        rng_oncall, rng_ops = random.Random(rng.random()), random.Random(rng.random())
        workers = [threading.Thread(target=f, daemon=True) for f in (on_call, operator)]
        for w in workers:
            w.start()

        kinds = [f"kill:{c}" for c in comps] + [f"stop:{c}" for c in comps] + \
                [f"blackhole:{c}" for c in comps] + [f"garbage:{c}" for c in comps]
        if disk_faults:
            kinds += ["full:state", "full:snapshots"]
        end = t0 + args.duration
        while time.monotonic() < end:
            kind = rng.choice(kinds)
            action, target = kind.split(":")
            fault = {"kind": kind, "at_s": round(time.monotonic() - t0, 1)}
            injected, injected_wall = time.monotonic(), time.time()
            log(f"fault {len(report['faults']) + 1}: {kind}")
            if action in ("kill", "stop") and stack.pid(target) is None:
                log(f"{target} is not running (still restarting?); fault skipped")
                time.sleep(1)
                continue
            if action == "kill":
                pid = stack.pid(target)
                if target in stack.procs:
                    os.killpg(pid, signal.SIGKILL)
                else:
                    os.kill(pid, signal.SIGKILL)
                since = time.monotonic()
            elif action == "stop":
                hold = rng.uniform(3, 12)
                stack.held.add(target)
                pid = stack.pid(target)
                os.kill(pid, signal.SIGSTOP)
                time.sleep(hold)
                os.kill(pid, signal.SIGCONT)
                stack.held.discard(target)
                fault["held_s"] = round(hold, 1)
                since = time.monotonic()
            elif action in ("blackhole", "garbage"):
                hold = rng.uniform(4, 12)
                proxy.set(target, action)
                time.sleep(hold)
                proxy.set(target, "pass")
                fault["held_s"] = round(hold, 1)
                since = time.monotonic()
            else:
                path = state if target == "state" else snapshots
                filler = fill(path)
                if target == "snapshots":
                    before = set(os.listdir(snapshots))
                    code, _, err = ifctl("snapshot", "create", "--wait", allowed=(1,))
                    # The destination's lock file is the lock, not a leftover: the first create
                    # into a fresh dir makes it (seen when this fault came before any other create).
                    left = set(os.listdir(snapshots)) - before - {".ifctl-snapshot.lock"}
                    fault["create_exit"] = code
                    if left:
                        report["violations"].append(f"snapshot create into a full disk left {sorted(left)}")
                else:
                    time.sleep(8)
                os.remove(filler)
                since = time.monotonic()
            # Time to healthy, measured on serve's own /status.
            deadline = since + HEAL_LIMIT_S
            while time.monotonic() < deadline and not monitor.all_healthy(comps, since):
                if serve.poll() is not None:
                    break
                time.sleep(0.1)
            if monitor.all_healthy(comps, since):
                fault["healthy_after_s"] = round(time.monotonic() - since, 2)
                fault["seen_by_serve"] = monitor.seen_unhealthy(target, injected, time.monotonic())
            else:
                fault["healthy_after_s"] = None
                fault["suspension_journaled"] = suspended(ifctl, target, injected_wall)
                log(f"not healthy after {HEAL_LIMIT_S:.0f} s; suspension journaled: {fault['suspension_journaled']}")
                if target == "redis" and not stack.alive("redis"):
                    stack.start("redis")  # the person steps in
                    fault["restarted_by_a_person"] = True
                stepped_in = time.monotonic()
                if not until(HEAL_LIMIT_S, lambda: monitor.all_healthy(comps, stepped_in)):
                    report["faults"].append(fault)
                    report["violations"].append(f"{kind}: the stack was not healthy {HEAL_LIMIT_S:.0f} s after a "
                                                f"person stepped in either")
                    break
            report["faults"].append(fault)
            if serve.poll() is not None:
                report["violations"].append(f"serve exited with {serve.returncode} during {kind}")
                break
            time.sleep(rng.uniform(1, 4))

        log("faults over; letting operators finish")
        stop.set()
        for w in workers:
            w.join(timeout=300)
        check(report, ifctl, serve, monitor, rss_start, stack, snapshots)
        finished = True
    finally:
        stop.set()
        if serve and serve.poll() is None:
            serve.kill()
        if supervisor is not None:
            supervisor.join(timeout=10)
        stack.stop_all()
        for d in mounts:
            subprocess.run(["umount", "-l", d])
        if finished and not report["violations"]:
            shutil.rmtree(work, ignore_errors=True)
        else:
            log(f"work dir kept for a look: {work}")
    text = render(report)
    print(text)
    if args.report:
        with open(args.report, "w") as f:
            f.write(text)
    sys.exit(1 if report["violations"] else 0)


def suspended(ifctl, component, since_wall):
    """Whether a journaled suspension of `component` was in force during this fault: one whose
    `until` is later than the fault's start (serve journals a suspension once, when it begins, so
    a later fault in the same window finds the earlier event)."""
    code, out, _ = ifctl("--output", "json", "history", "--kind", "recovery.suspended", allowed=(0,))
    since = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(since_wall))
    return code == 0 and any(e.get("component") == component and (e["details"].get("until") or "")[:19] >= since
                             for e in json.loads(out or "[]"))


def check(report, ifctl, serve, monitor, rss_start, stack, snapshots):
    v = report["violations"]
    # serve: alive, then a clean stop.
    if serve.poll() is not None:
        v.append(f"serve exited with {serve.returncode}")
    else:
        serve.send_signal(signal.SIGTERM)
        try:
            code = serve.wait(timeout=30)
            if code != 0:
                v.append(f"serve exited {code} on SIGTERM")
        except subprocess.TimeoutExpired:
            v.append("serve did not stop within 30 s of SIGTERM")
    lat = [ms for ms, _ in monitor.livez]
    bad = [(round(ms, 1), code) for ms, code in monitor.livez if code != 200 or ms > LIVEZ_LIMIT_MS]
    report["livez"] = {"polls": len(lat), "p50_ms": round(percentile(lat, 50), 2), "p99_ms": round(percentile(lat, 99), 2),
                       "max_ms": round(max(lat), 2), "slow_or_failed": len(bad)}
    if bad:
        v.append(f"/livez: {len(bad)} of {len(lat)} polls failed or took over {LIVEZ_LIMIT_MS:.0f} ms, e.g. {bad[:5]}")
    rss_end = monitor.rss[-1][1] if monitor.rss else None
    report["rss_kb"] = {"start": rss_start, "end": rss_end, "max": max(kb for _, kb in monitor.rss)}
    if rss_start and rss_end and rss_end > 2 * rss_start:
        v.append(f"serve's RSS grew from {rss_start} to {rss_end} kB (over 2x)")
    for f in report["faults"]:
        if f.get("healthy_after_s") is None and not f.get("suspension_journaled"):
            v.append(f"fault {f['kind']} at {f['at_s']} s neither healed within {HEAL_LIMIT_S:.0f} s nor was its suspension journaled")
    # The budget: real attempts per component within any rolling hour.
    code, out, _ = ifctl("--output", "json", "history", "--kind", "recovery.attempt", "-n", "100000", allowed=(0,))
    attempts = json.loads(out or "[]") if code == 0 else []
    report["attempts"] = {}
    for c in stack.components():
        times = sorted(iso_seconds(e["ts"]) for e in attempts
                       if e.get("component") == c and e["details"].get("strategy") not in FREE_STRATEGIES)
        report["attempts"][c] = len(times)
        # The budget as the policy counts it: attempts in the rolling hour since the component was
        # last healthy for `healthy_reset_seconds` (a reset), as serve's own checks saw it.
        streaks, start = [], None
        for _, wall, comp, status in monitor.history:
            if comp != c:
                continue
            if status == "healthy":
                start = wall if start is None else start
                streaks.append((start, wall))
            else:
                start = None
        for t in times:
            resets = [min(end, t) for begin, end in streaks if min(end, t) - begin >= HEALTHY_RESET]
            floor = max([t - 3600] + resets)
            counted = sum(1 for u in times if floor < u <= t)
            if counted > BUDGET:
                v.append(f"{c}: {counted} real recovery attempts counted at {t:.0f} (budget {BUDGET})")
                break
    runs = ifctl.runs
    report["commands"] = {"run": len(runs), "unexpected": [f"{' '.join(a)} -> {c}: {e}" for a, c, _, u, e in runs if u]}
    if report["commands"]["unexpected"]:
        v.append(f"{len(report['commands']['unexpected'])} operator commands ended unexpectedly")
    if ifctl("journal", "verify", allowed=(0,))[0] != 0:
        v.append("journal verify failed")
    visible = sorted(n for n in os.listdir(snapshots) if n.endswith(".tar.gz"))
    report["snapshots"] = len(visible)
    for name in visible:
        if ifctl("snapshot", "verify", f"{snapshots}/{name}", allowed=(0,))[0] != 0:
            v.append(f"snapshot {name} does not verify")
    _, body = http("GET", f"http://127.0.0.1:{stack.ports['chromadb']}/api/v2/tenants/default_tenant/databases/default_database/collections")
    leftovers = [c["name"] for c in json.loads(body) if "__ifctl_" in c["name"]]
    if leftovers:
        v.append(f"collections left in Chroma: {leftovers}")


def render(report):
    lines = [f"# Chaos report — seed {report['seed']}, {report['duration_s']:.0f} s", ""]
    by_kind = {}
    for f in report["faults"]:
        by_kind.setdefault(f["kind"], []).append(f)
    lines += ["| fault | injected | seen by serve | healed | time to healthy p50 / p95 / max (s) | suspended (journaled) |",
              "|---|---:|---:|---:|---|---:|"]
    for kind in sorted(by_kind):
        fs = by_kind[kind]
        healed = [f["healthy_after_s"] for f in fs if f.get("healthy_after_s") is not None]
        times = (f"{percentile(healed, 50):.2f} / {percentile(healed, 95):.2f} / {max(healed):.2f}"
                 if healed else "-")
        lines.append(f"| {kind} | {len(fs)} | {sum(1 for f in fs if f.get('seen_by_serve'))} | {len(healed)} | {times} | "
                     f"{sum(1 for f in fs if f.get('suspension_journaled'))} |")
    lines.append("")
    lines.append("Time to healthy: from the kill for `kill:*`, else from the end of the fault (SIGCONT, the "
                 "proxy back to passing, the disk freed), to the first check by serve that finds every "
                 "component healthy. Seen by serve: a check found the component not healthy meanwhile.")
    lines.append("")
    if "livez" in report:
        lz = report["livez"]
        lines.append(f"- /livez: {lz['polls']} polls, p50 {lz['p50_ms']} ms, p99 {lz['p99_ms']} ms, "
                     f"max {lz['max_ms']} ms; failed or over {LIVEZ_LIMIT_MS:.0f} ms: {lz['slow_or_failed']}")
    if "rss_kb" in report:
        r = report["rss_kb"]
        lines.append(f"- serve RSS: {r['start']} kB at start, {r['end']} kB at the end, {r['max']} kB max")
    if "attempts" in report:
        lines.append(f"- real recovery attempts (budget {BUDGET}/h per component): "
                     + ", ".join(f"{c} {n}" for c, n in report["attempts"].items()))
    if "commands" in report:
        lines.append(f"- operator commands run: {report['commands']['run']}, "
                     f"unexpected: {len(report['commands']['unexpected'])}")
    if "snapshots" in report:
        lines.append(f"- snapshots visible at the end, all verified: {report['snapshots']}")
    lines.append("")
    if report["violations"]:
        lines.append("**Invariants violated:**")
        lines += [f"- {x}" for x in report["violations"]]
    else:
        lines.append("All invariants held.")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
