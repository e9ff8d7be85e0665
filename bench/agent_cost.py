"""The agent's own cost (CPU as % of one core, RSS) on a few shapes of work, for one
binary or two side by side: with --baseline, each shape is measured for both binaries
in alternating order, ROUNDS times, in one run, so that the ratio new/baseline is
measured under the same conditions (machines are noisy; compare within one run).

Shapes (default config otherwise, eBPF on where permitted):
  threads_1000   one target process of 1 000 idle threads (bench/many_threads.py)
  tree_2000      one targeted process tree: an idle parent with 2 000 sleeping children
  idle_host      auto-discovery (the embedded default) on an otherwise idle host

usage: bench/agent_cost.py --agent build/daemon/boundwise [--baseline OTHER] \
           [--seconds 20] [--rounds 2] [--shapes threads_1000,tree_2000,idle_host]
Run as root on a quiet machine; the load average is printed with every row.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def measure(binary, config, seconds, tmp):
    """Agent CPU (% of one core) over `seconds` after an 8 s warm-up, and RSS."""
    path = os.path.join(tmp, "agent.json")
    with open(path, "w") as f:
        json.dump(config, f)  # JSON is YAML
    agent = subprocess.Popen([binary, "--config", path], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        time.sleep(8)
        t0, c0 = time.monotonic(), cpu_seconds(agent.pid)
        time.sleep(seconds)
        t1, c1 = time.monotonic(), cpu_seconds(agent.pid)
        return 100 * (c1 - c0) / (t1 - t0), rss_mib(agent.pid)
    finally:
        agent.terminate()
        agent.wait(10)


def start_shape(shape):
    """The work for a shape: (process or None, config for the agent)."""
    listen = "127.0.0.1:19445"
    if shape == "threads_1000":
        p = subprocess.Popen([sys.executable, os.path.join(HERE, "many_threads.py"), "1000"],
                             stdout=subprocess.DEVNULL, start_new_session=True)
        time.sleep(2)
        return p, {"listen": listen, "targets": [{"name": "t", "pid": p.pid}]}
    if shape == "tree_2000":
        p = subprocess.Popen(["sh", "-c", "for i in $(seq 2000); do sleep 100000 & done; wait"],
                             stdout=subprocess.DEVNULL, start_new_session=True)
        time.sleep(7)
        return p, {"listen": listen, "targets": [{"name": "t", "pid": p.pid}]}
    if shape == "idle_host":
        return None, {"listen": listen}
    raise SystemExit(f"unknown shape {shape}")


def stop_shape(p):
    if p is None:
        return
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    p.wait()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--agent", required=True)
    parser.add_argument("--baseline")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--shapes", default="threads_1000,tree_2000,idle_host")
    args = parser.parse_args()
    binaries = [("new", args.agent)] + ([("baseline", args.baseline)] if args.baseline else [])
    tmp = tempfile.mkdtemp(prefix="bw-cost-")
    print(f"command: {' '.join(sys.argv)}")
    print("| shape | binary | round | agent CPU % of one core | RSS MiB | load1 |")
    print("|---|---|---|---|---|---|")
    results = {}
    for shape in args.shapes.split(","):
        work, config = start_shape(shape)
        try:
            for r in range(args.rounds):
                order = binaries if r % 2 == 0 else list(reversed(binaries))
                for name, binary in order:
                    cpu, rss = measure(binary, config, args.seconds, tmp)
                    results.setdefault((shape, name), []).append(cpu)
                    print(f"| {shape} | {name} | {r + 1} | {cpu:.2f} | {rss:.1f} | "
                          f"{os.getloadavg()[0]:.2f} |", flush=True)
        finally:
            stop_shape(work)
    if args.baseline:
        print("\n| shape | new / baseline (mean CPU) |\n|---|---|")
        for shape in args.shapes.split(","):
            new = sum(results[(shape, "new")]) / args.rounds
            base = sum(results[(shape, "baseline")]) / args.rounds
            print(f"| {shape} | {new / base:.2f} ({new:.2f} % / {base:.2f} %) |"
                  if base > 0 else f"| {shape} | baseline used no CPU |")


if __name__ == "__main__":
    main()
