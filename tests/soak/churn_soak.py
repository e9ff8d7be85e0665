"""Churn soak: the real agent watching a selector that matches ~100 short-lived
processes started per second (each lives 0.2-0.5 s), for --seconds (CI: 60; the
full soak: 600). Pass means the agent never crashed or stopped answering, its RSS
did not drift by more than 5 % after warm-up, its open file descriptors went
back to their count before the churn once it stopped, and every PID it reported at the end was alive or had just exited (nothing
attributed to processes long gone).

usage: churn_soak.py --agent PATH [--seconds 60] [--rate 100]
Prints one line per sample (time, RSS, fds, workload pids) and a summary.
"""
import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402

MARK = "boundwise-soak-churn"


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--agent", required=True)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--rate", type=int, default=100, help="processes started per second")
    args = ap.parse_args()

    agent = harness.Agent(args.agent, [{"name": "churn", "cmdline": MARK}], window="2s",
                          sample_rate=20, discovery_interval="1s")
    pid = agent.process.pid
    fds_before = fd_count(pid)
    children = []
    samples = []  # (t, rss KiB, fds)
    started = 0
    exited_at = {}  # pid → when we saw it exit (PIDs are not reused within a run here)
    t0 = time.time()
    next_sample = t0 + 5
    rng = random.Random(7)
    while time.time() - t0 < args.seconds:
        tick = time.time()
        for _ in range(max(1, args.rate // 20)):
            life = f"{rng.uniform(0.2, 0.5):.2f}"
            # argv[0] is the mark the selector matches; the program is sleep(1).
            children.append(subprocess.Popen([MARK, life], executable="/bin/sleep",
                                             stdin=subprocess.DEVNULL))
            started += 1
        now = time.time()
        for c in children:
            if c.poll() is not None:
                exited_at[c.pid] = now
        children = [c for c in children if c.returncode is None]
        if agent.process.poll() is not None:
            harness.fail(f"the agent exited with {agent.process.returncode} after "
                         f"{time.time() - t0:.0f} s:\n{agent.read_log()[-3000:]}")
        if time.time() >= next_sample:
            next_sample += 5
            status, _ = harness.http_get(agent.base + "/healthz", timeout=2)
            if status != 200:
                harness.fail(f"/healthz answered {status} at {time.time() - t0:.0f} s")
            samples.append((time.time() - t0, rss_kib(pid), fd_count(pid)))
            print(f"t={samples[-1][0]:5.1f}s rss={samples[-1][1]} KiB fds={samples[-1][2]} "
                  f"live children={len(children)} started={started}", flush=True)
        time.sleep(max(0.0, 0.05 - (time.time() - tick)))

    # PIDs in the agent's last report are as of its last discovery scan (1 s) before
    # the last window close (2 s): each must be alive or have exited within those 3 s
    # (+1 s of slack), never a process long gone.
    doc, w = agent.workload("churn")
    asked = time.time()
    reported = set(w["pids"]) if w else set()
    alive = {c.pid for c in children}
    stale = [p for p in reported
             if p not in alive and asked - exited_at.get(p, asked) > 4.0]
    for c in children:
        c.wait()
    samples_after_warmup = [s for s in samples if s[0] >= 15]
    if len(samples_after_warmup) < 4:
        harness.fail("too few samples after warm-up: run for at least 40 s")
    base = statistics.median(s[1] for s in samples_after_warmup[:3])
    end = statistics.median(s[1] for s in samples_after_warmup[-3:])
    drift = end / base - 1
    fds = [s[2] for s in samples_after_warmup]
    print(json.dumps({"seconds": args.seconds, "processes_started": started,
                      "rss_kib_after_warmup": base, "rss_kib_end": end,
                      "rss_drift": round(drift, 4), "fds_min": min(fds), "fds_max": max(fds),
                      "pids_reported_at_end": len(reported), "stale_pids": stale}))
    if drift > 0.05:
        harness.fail(f"RSS drifted {drift:+.1%} ({base} → {end} KiB)")
    # The collector holds a few fds per live target, so the count follows the churn;
    # once the churn stops and the agent has noticed (discovery 1 s + window 2 s), it
    # must be back where it was before the churn began.
    time.sleep(4)
    fds_after = fd_count(pid)
    print(f"fds: {fds_before} before the churn, {fds_after} 4 s after it")
    if fds_after > fds_before + 2:
        harness.fail(f"open fds leaked: {fds_before} before the churn, {fds_after} after; "
                     f"during: {fds}")
    if stale:
        harness.fail(f"the agent reported PIDs that no longer exist: {stale}")
    if agent.stop() != 0:
        harness.fail("the agent did not exit 0 on SIGTERM")
    print("PASS: churn soak")


if __name__ == "__main__":
    main()
