#!/usr/bin/env python3
"""`ifctl health check -c redis` over plain TCP, TLS and mutual TLS, side by side in one run (see
docs/benchmarks.md): makes a test CA and certificates with openssl (EC P-256, X.509 v3), starts
three redis-servers on free loopback ports (plain; TLS; TLS requiring client certificates), and
times the whole process, interleaved, after warm-up runs.

Usage: bench_tls.py IFCTL [--runs N]
"""
import argparse
import os
import socket
import statistics
import subprocess
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pki(d):
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run = lambda *a: subprocess.run(["openssl", *a], cwd=d, check=True, capture_output=True)
    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "30", "-subj", "/CN=bench CA")
    exts = {"server": "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
            "client": "extendedKeyUsage=clientAuth\n"}
    for name, ext in exts.items():
        open(os.path.join(d, f"{name}.ext"), "w").write("basicConstraints=CA:FALSE\n" + ext)
        run("req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}")
        run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", f"{name}.crt", "-days", "30", "-extfile", f"{name}.ext")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("ifctl")
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args()
    d = tempfile.mkdtemp(prefix="ifctl-bench-tls-")
    pki(d)
    servers, configs = [], {}
    common = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", d]
    tls = lambda auth: ["--port", "0", "--tls-cert-file", f"{d}/server.crt", "--tls-key-file", f"{d}/server.key",
                        "--tls-ca-cert-file", f"{d}/ca.crt", "--tls-auth-clients", auth]
    for label, extra, scheme, more in [
        ("plain redis://", ["--port"], "redis", ""),
        ("TLS rediss:// (private CA)", None, "rediss", f'ca_file = "{d}/ca.crt"\n'),
        ("mutual TLS (client certificate)", None, "rediss",
         f'ca_file = "{d}/ca.crt"\nclient_cert_file = "{d}/client.crt"\nclient_key_file = "{d}/client.key"\n'),
    ]:
        port = free_port()
        argv = ["redis-server", *common] + ([*extra, str(port)] if extra else
                                           [*tls("yes" if "client" in label else "no"), "--tls-port", str(port)])
        servers.append(subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        path = os.path.join(d, f"{len(configs)}.toml")
        open(path, "w").write(f'[redis]\nurl = "{scheme}://127.0.0.1:{port}"\n{more}')
        configs[label] = path
    time.sleep(0.5)
    env = {k: v for k, v in os.environ.items() if not k.startswith("IFCTL_")}
    env.update(IFCTL_STATE_DIR=os.path.join(d, "state"), NO_COLOR="1")
    times = {k: [] for k in configs}
    try:
        for i in range(args.runs + 3):
            for label, config in configs.items():
                started = time.perf_counter()
                p = subprocess.run([args.ifctl, "--config", config, "health", "check", "-c", "redis"], env=env,
                                   capture_output=True)
                elapsed = (time.perf_counter() - started) * 1000
                if p.returncode != 0:
                    raise SystemExit(f"{label}: exit {p.returncode}\n{p.stdout.decode()}{p.stderr.decode()}")
                if i >= 3:
                    times[label].append(elapsed)
        print(f"{args.runs} runs each, interleaved, after 3 warm-up rounds; whole process (spawn to exit)\n")
        print("| Redis | median (ms) | p90 (ms) |")
        print("|---|---:|---:|")
        for label, v in times.items():
            v.sort()
            print(f"| {label} | {statistics.median(v):.1f} | {v[int(len(v) * 0.9)]:.1f} |")
    finally:
        for s in servers:
            s.terminate()


if __name__ == "__main__":
    main()
