"""What the decision costs next to the sampling it decides on: the agent's CPU by
stage (boundwise_agent_stage_seconds_total) while it watches W workloads, per workload
and window. The `classify` stage is everything done per workload at a window close
after assembly: classify(), recommend() with its options, objective and steps, the
stability history and a window's figures for baselines. `sampling` is the collectors'
sampling rounds and window counters. Both come from the same agent in the same run,
so their ratio is what the benchmark reports.

The workloads: W Python processes of 8 threads each, half of them spinning under the
GIL and half sleeping in short intervals (so every workload is classified, and both
CPU and wait shapes are decided).

usage: bench/stage_cost.py --agent build/daemon/boundwise [--workloads 20] [--seconds 60]
Run as root on a quiet machine; the load average is printed with the results.
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

WORKLOAD = """
import sys, threading, time
def spin():
    x = 0
    while True:
        for i in range(10000):
            x = (x * 31 + i) % 1000003
def nap():
    while True:
        time.sleep(0.005)
target = spin if sys.argv[1] == "spin" else nap
for _ in range(8):
    threading.Thread(target=target, daemon=True).start()
threading.Event().wait()
"""


def stages(base):
    with urllib.request.urlopen(base + "/metrics", timeout=5) as r:
        text = r.read().decode()
    out = {}
    for m in re.finditer(r'^boundwise_agent_stage_seconds_total\{stage="(\w+)"\} (\S+)$', text,
                         re.M):
        out[m.group(1)] = float(m.group(2))
    return out


def windows(base):
    with urllib.request.urlopen(base + "/recommend", timeout=5) as r:
        return json.loads(r.read())["windows_completed"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--agent", required=True)
    parser.add_argument("--workloads", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="bw-stage-")
    procs = [subprocess.Popen([sys.executable, "-c", WORKLOAD, "spin" if i % 2 else "nap"],
                              start_new_session=True) for i in range(args.workloads)]
    config = {"listen": "127.0.0.1:19446", "window": "10s", "state_dir": tmp,
              "targets": [{"name": f"w{i}", "pid": p.pid} for i, p in enumerate(procs)]}
    path = os.path.join(tmp, "agent.json")
    with open(path, "w") as f:
        json.dump(config, f)  # JSON is YAML
    agent = subprocess.Popen([args.agent, "--config", path], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
    base = "http://127.0.0.1:19446"
    try:
        time.sleep(25)  # two windows: every workload classified
        s0, n0 = stages(base), windows(base)
        time.sleep(args.seconds)
        s1, n1 = stages(base), windows(base)
    finally:
        agent.terminate()
        agent.wait(10)
        for p in procs:
            os.killpg(p.pid, signal.SIGKILL)
    n = max(1, n1 - n0)
    print(f"command: {' '.join(sys.argv)}")
    print(f"{args.workloads} workloads, {n} windows measured, load1 {os.getloadavg()[0]:.2f}")
    print("| stage | CPU ms per window | µs per workload and window |")
    print("|---|---|---|")
    per = {}
    for stage in sorted(s1):
        d = s1[stage] - s0.get(stage, 0)
        per[stage] = d / n / args.workloads
        print(f"| {stage} | {1000 * d / n:.2f} | {1e6 * per[stage]:.0f} |")
    if per.get("sampling"):
        print(f"\nclassify / sampling = {per.get('classify', 0) / per['sampling']:.3f}")


if __name__ == "__main__":
    main()
