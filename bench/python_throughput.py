"""Does the agent slow a Python target down? One long-lived CPython process runs N
pure-Python threads and reports its own throughput (loop iterations, summed over
threads, printed every 0.5 s by the spinners); the agent (python collector reading the GIL from
memory at the default 5 samples/s, plus procfs) is started and stopped on it in
alternating phases: off, on, off, on, ... The throughput of each phase is measured
after a settle time (agent start, runtime detection), and the result is the ratio
of "on" to "off" phases of this one run, so machine-wide noise (other builds on this
2-core machine) hits both sides. Run as root (the agent reads the target's memory).

usage: python_throughput.py --agent build/daemon/boundwise [--python PATH]
                            [--threads 50] [--pairs 4] [--phase 12] [--settle 3]
"""
import argparse
import os
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "lib"))
import harness  # noqa: E402

# The target: each thread counts in blocks of 10,000 iterations of `x += 1`; whichever
# thread finishes a block after the next half-second mark prints "<monotonic time>
# <total iterations>". Not the main thread: with 50 spinners a thread coming back
# from sleep() was starved of the GIL for >10 s (CPython 3.12), a spinner is not.
WORKLOAD = r"""
import sys, threading, time
N = int(sys.argv[1])
counts = [0] * N
next_report = [time.monotonic()]
def spin(i):
    while True:
        x = 0
        for _ in range(10000):
            x += 1
        counts[i] += 10000
        now = time.monotonic()
        if now >= next_report[0]:
            next_report[0] = now + 0.5
            sys.stdout.write(f"{now} {sum(counts)}\n")  # one write: no interleaving
            sys.stdout.flush()
for i in range(N):
    threading.Thread(target=spin, args=(i,), daemon=True).start()
threading.Event().wait()
"""


def default_python():
    root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    return os.path.join(root, "versions", "3.12.1", "bin", "python3")


class Target:
    """The workload process and its latest (time, iterations) reports."""

    def __init__(self, python, threads):
        self.process = harness.start([python, "-c", WORKLOAD, str(threads)],
                                     stdout=subprocess.PIPE, text=True)
        self.reports = []
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            try:
                t, n = line.split()
                t, n = float(t), int(n)
            except ValueError:
                continue
            with self.lock:
                self.reports.append((t, n))

    def rate_between(self, start, end):
        """Iterations/s from the first report at or after `start` to the last at or
        before `end` (monotonic times, the same clock as the target's)."""
        with self.lock:
            inside = [r for r in self.reports if start <= r[0] <= end]
        if len(inside) < 2:
            return None
        (t0, n0), (t1, n1) = inside[0], inside[-1]
        return (n1 - n0) / (t1 - t0)


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--agent", required=True)
    parser.add_argument("--python", default=default_python())
    parser.add_argument("--threads", type=int, default=50)
    parser.add_argument("--pairs", type=int, default=4)
    parser.add_argument("--phase", type=float, default=12.0, help="seconds per phase")
    parser.add_argument("--settle", type=float, default=3.0,
                        help="seconds after a phase starts before measuring")
    args = parser.parse_args()
    if os.geteuid() != 0:
        harness.skip("the agent reads the target's memory: run as root")

    target = Target(args.python, args.threads)
    time.sleep(3.0)  # threads started
    off, on = [], []
    for pair in range(args.pairs):
        for with_agent in (False, True):
            agent = None
            if with_agent:
                # Default sample rate (5/s) and window; the target by pid.
                agent = harness.Agent(args.agent, [{"name": "bench", "pid": target.process.pid}],
                                      window="10s", sample_rate=5, discovery_interval=None)
            time.sleep(args.settle)
            start = time.monotonic()
            time.sleep(args.phase)
            rate = target.rate_between(start, time.monotonic())
            if agent is not None:
                doc, w = agent.workload("bench")
                runtime = w["runtime"] if w else None
                agent.stop()
            (on if with_agent else off).append(rate)
            extra = f", agent saw runtime {runtime}" if with_agent else ""
            print(f"pair {pair + 1} agent {'on ' if with_agent else 'off'}: "
                  f"{rate:,.0f} iterations/s (load {loadavg():.2f}){extra}", flush=True)
    harness.stop(target.process)

    # Each "on" phase against the mean of the "off" phases around it, so a drift of the
    # machine's load during the run is not counted as the agent's effect.
    ratios = []
    for i, r in enumerate(on):
        neighbours = [off[i]] + ([off[i + 1]] if i + 1 < len(off) else [])
        ratios.append(r / statistics.mean(neighbours))
    print(f"off: mean {statistics.mean(off):,.0f}/s, stdev {statistics.pstdev(off):,.0f}/s")
    print(f"on:  mean {statistics.mean(on):,.0f}/s, stdev {statistics.pstdev(on):,.0f}/s")
    print(f"on/off ratio per pair: {', '.join(f'{r:.3f}' for r in ratios)}; "
          f"median {statistics.median(ratios):.3f}; "
          f"mean(on)/mean(off) {statistics.mean(on) / statistics.mean(off):.3f}")
    print(f"spread of off phases (max/min): {max(off) / min(off):.3f}")


if __name__ == "__main__":
    main()
