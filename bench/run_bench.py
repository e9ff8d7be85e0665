"""boundwise benchmarks: agent overhead (CPU and RSS) by thread count and sample
rate, HTTP latency of /metrics and /recommend under wrk, and time to the right
verdict. Prints a Markdown report for docs/BENCHMARKS.md.

usage: bench/run_bench.py --agent build/daemon/boundwise [--seconds 30] [--pin]

Every table row also gives the 1-minute load average at the end of its measurement:
on a shared machine it says how much the numbers were disturbed.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "lib"))
import harness  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def rss_kib(pid, key="VmRSS"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def loadavg():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def overhead(binary, threads, rate, seconds):
    target = harness.start([harness.PYTHON, os.path.join(HERE, "many_threads.py"), str(threads)])
    time.sleep(1.0)
    agent = harness.Agent(binary, [{"name": "bench", "pid": target.pid}], window="10s",
                          sample_rate=rate, discovery_interval=None)  # the default
    time.sleep(3.0)  # past start-up: fds opened, first discovery done
    t0, c0 = time.time(), cpu_ticks(agent.process.pid)
    time.sleep(seconds)
    t1, c1 = time.time(), cpu_ticks(agent.process.pid)
    share = (c1 - c0) / TICKS / (t1 - t0)
    rss = rss_kib(agent.process.pid)
    hwm = rss_kib(agent.process.pid, "VmHWM")
    doc, w = agent.workload("bench")
    seen = w["threads"] if w else 0
    agent.stop()
    harness.stop(target)
    return share, rss, hwm, seen


def wrk(url, seconds=10, cpu=None):
    pin = ["taskset", "-c", str(cpu)] if cpu is not None else []
    out = subprocess.run(pin + ["wrk", "-t1", "-c32", f"-d{seconds}s", "--latency", url],
                         capture_output=True, text=True).stdout
    pct = dict(re.findall(r"^\s+(50|90|99)%\s+(\S+)$", out, re.M))
    rps = re.search(r"Requests/sec:\s+(\S+)", out)
    return pct, rps.group(1) if rps else "?"


def http_latency(binary, pin=False):
    targets = []
    for i in range(10):
        p = harness.start_workload("idle_service.py") if i % 2 else harness.start(
            [harness.PYTHON, os.path.join(HERE, "many_threads.py"), "10"])
        targets.append({"name": f"w{i}", "pid": p.pid})
    agent = harness.Agent(binary, targets, window="2s", sample_rate=5)
    if pin:  # the agent (all its threads) on CPU 0, wrk on CPU 1
        subprocess.run(["taskset", "-a", "-p", "-c", "0", str(agent.process.pid)],
                       check=True, capture_output=True)
    time.sleep(5)
    results = {}
    for path in ("/metrics", "/recommend"):
        results[path] = wrk(agent.base + path, cpu=1 if pin else None) + (loadavg(),)
    agent.stop()
    return results


def time_to_verdict(binary, window_s=10):
    p = harness.start_workload("cpu_single.py")
    start = time.time()
    agent = harness.Agent(binary, [{"name": "ttv", "pid": p.pid}], window=f"{window_s}s",
                          sample_rate=5)
    while time.time() - start < 5 * window_s:
        doc, w = agent.workload("ttv")
        if w and w.get("verdict") and w["verdict"]["class"] == "cpu_bound":
            elapsed = time.time() - start
            agent.stop()
            harness.stop(p)
            return elapsed, elapsed / window_s
        time.sleep(0.1)
    agent.stop()
    harness.stop(p)
    return None, None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--agent", required=True)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--pin", action="store_true",
                        help="HTTP part: agent on CPU 0, wrk on CPU 1")
    parser.add_argument("--only", choices=["overhead", "rates", "http", "ttv"])
    args = parser.parse_args()
    binary = os.path.abspath(args.agent)
    print(f"machine: {os.cpu_count()} cores, kernel {os.uname().release}, "
          f"{time.strftime('%Y-%m-%d')}\n")
    only = args.only
    if only in (None, "overhead"):
        report_overhead(binary, args.seconds)
    if only in (None, "rates"):
        report_rates(binary, args.seconds)
    if only in (None, "http") and shutil.which("wrk"):
        report_http(binary, args.pin)
    if only in (None, "ttv"):
        report_ttv(binary)


def report_overhead(binary, seconds):
    print("### Agent overhead at the default rate (5/s)\n")
    print("| target threads | threads seen | agent CPU (% of one core) | RSS (MiB) | peak RSS (MiB) | load |")
    print("|---|---|---|---|---|---|")
    for n in (10, 100, 1000):
        share, rss, hwm, seen = overhead(binary, n, 5, seconds)
        print(f"| {n} | {seen} | {share * 100:.2f} | {rss / 1024:.1f} | {hwm / 1024:.1f} "
              f"| {loadavg()} |", flush=True)


def report_rates(binary, seconds):
    print("\n### Agent CPU by sample rate, 100 threads\n")
    print("| sample rate (/s) | agent CPU (% of one core) | load |")
    print("|---|---|---|")
    for rate in (5, 10, 20, 50):
        share, _, _, _ = overhead(binary, 100, rate, seconds)
        print(f"| {rate} | {share * 100:.2f} | {loadavg()} |", flush=True)


def report_http(binary, pin):
    how = "agent on CPU 0, wrk on CPU 1" if pin else "unpinned"
    print(f"\n### HTTP latency under wrk (1 thread, 32 connections, 10 workloads watched, {how})\n")
    print("| endpoint | p50 | p90 | p99 | requests/s | load |")
    print("|---|---|---|---|---|---|")
    for path, (pct, rps, load) in http_latency(binary, pin).items():
        print(f"| {path} | {pct.get('50')} | {pct.get('90')} | {pct.get('99')} | {rps} "
              f"| {load} |", flush=True)


def report_ttv(binary):
    print("\n### Time to the right verdict (cpu_single.py, window 10 s)\n")
    elapsed, windows = time_to_verdict(binary)
    if elapsed is None:
        print("no cpu_bound verdict within 5 windows")
    else:
        print(f"{elapsed:.1f} s from agent start = {windows:.2f} windows (load {loadavg()})")


if __name__ == "__main__":
    main()
