#!/usr/bin/env python3
"""Startup cost of the plugins, against a minimal Go go-plugin measured in the same run.

For each plugin: exec it as SPIRE does (magic cookie in the environment, stdout a pipe) and time
until the go-plugin handshake line arrives (median and p90 of --runs starts); then, in one more
start, let it idle for --idle seconds and read its resident set size (VmRSS). The baseline is
test/bench/goplugin, built on Debian's hashicorp/go-plugin 1.0.1; the report gives each plugin's
ratio to it (targets: handshake <= 1.0x, RSS <= 1.5x).

usage: scripts/bench-startup.py [--bin-dir build/bin] [--runs 50] [--idle 1.0] [--label X]
                                [--json FILE] [[NAME=]PLUGIN ...]
NAME= labels a plugin in the table, e.g. before=/path/to/old/twi-agent-nodeattestor.
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COOKIES = {
    "twi-agent-nodeattestor": "NodeAttestor",
    "twi-server-nodeattestor": "NodeAttestor",
    "twi-workloadattestor": "WorkloadAttestor",
    "goplugin": "NodeAttestor",
}


def go_binary():
    for g in ("/usr/lib/go-1.19/bin/go", shutil.which("go")):
        if g and os.access(g, os.X_OK):
            return g
    sys.exit("bench-startup: Go is not installed (scripts/deps.sh installs golang-go)")


def build_goplugin(out_dir):
    out = os.path.join(out_dir, "goplugin")
    env = dict(os.environ, GO111MODULE="off", GOPATH="/usr/share/gocode", GOFLAGS="",
               GOCACHE=os.path.join(out_dir, "go-cache"))
    subprocess.run([go_binary(), "build", "-o", out, "."], cwd=os.path.join(ROOT, "test/bench/goplugin"),
                   env=env, check=True)
    return out


def start(path, tmp):
    name = os.path.basename(path)
    env = {"PATH": "/usr/bin:/bin", "TMPDIR": tmp, COOKIES[name]: COOKIES[name],
           "PLUGIN_PROTOCOL_VERSIONS": "1"}
    t0 = time.perf_counter()
    p = subprocess.Popen([path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         env=env, close_fds=True)
    line = p.stdout.readline()
    elapsed = time.perf_counter() - t0
    if not line.startswith(b"1|"):
        p.kill()
        p.wait()
        sys.exit(f"bench-startup: {name} wrote no handshake (got {line[:80]!r})")
    return p, elapsed


def stop(p):
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=5)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def measure(path, runs, idle, tmp):
    times = []
    for _ in range(runs):
        p, t = start(path, tmp)
        stop(p)
        times.append(t * 1000)
    p, _ = start(path, tmp)
    time.sleep(idle)
    rss = rss_kib(p.pid)
    stop(p)
    times.sort()
    return {"median_ms": statistics.median(times), "p90_ms": times[int(len(times) * 0.9) - 1],
            "rss_mib": rss / 1024}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", default=os.path.join(ROOT, "build/bin"))
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--idle", type=float, default=1.0)
    ap.add_argument("--label", default="")
    ap.add_argument("--json")
    ap.add_argument("plugins", nargs="*")
    a = ap.parse_args()
    plugins = a.plugins or [os.path.join(a.bin_dir, n) for n in
                            ("twi-agent-nodeattestor", "twi-server-nodeattestor", "twi-workloadattestor")]
    names = {}
    for i, p in enumerate(plugins):
        name, _, path = p.rpartition("=")
        plugins[i] = path
        names[path] = name or os.path.basename(path)
    with tempfile.TemporaryDirectory() as tmp:
        baseline = build_goplugin(tmp)
        names[baseline] = "goplugin"
        results = {}
        # Interleave rounds so background load hits every plugin alike.
        rounds = 5
        per = max(1, a.runs // rounds)
        acc = {p: [] for p in [baseline] + plugins}
        rss = {p: [] for p in acc}
        for _ in range(rounds):
            for p in acc:
                m = measure(p, per, a.idle / rounds if rounds > 1 else a.idle, tmp)
                acc[p].append(m)
        for p, ms in acc.items():
            results[names[p]] = {
                "median_ms": statistics.median(m["median_ms"] for m in ms),
                "p90_ms": statistics.median(m["p90_ms"] for m in ms),
                "rss_mib": max(m["rss_mib"] for m in ms),
                "size_mib": os.path.getsize(p) / (1 << 20),
            }
    base = results["goplugin"]
    print(f"# exec-to-handshake and idle RSS {a.label}({per * rounds} starts each, {os.cpu_count()} cpus)")
    print(f"{'plugin':34} {'median ms':>10} {'p90 ms':>8} {'x go':>6} {'RSS MiB':>8} {'x go':>6} {'file MiB':>9}")
    for n, r in results.items():
        print(f"{n:34} {r['median_ms']:10.1f} {r['p90_ms']:8.1f} {r['median_ms'] / base['median_ms']:6.2f} "
              f"{r['rss_mib']:8.1f} {r['rss_mib'] / base['rss_mib']:6.2f} {r['size_mib']:9.1f}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
