"""Churn soak: the real agent watching a selector that matches ~100 short-lived
processes started per second (each lives 0.2-0.5 s), for --seconds (CI: 60; the
full soak: 600). Pass means the agent never crashed or stopped answering, its RSS
did not drift by more than 5 % after warm-up, its open file descriptors went
back to their count before the churn once it stopped, and no PID it reported
belonged to anything but a matching process alive then or just exited (nothing
attributed to processes long gone, or to another process that got the PID).

--pid-max N adds PID reuse: the script re-runs itself as PID 1 of a new PID
namespace with its own /proc (unshare --pid --fork --mount-proc), sets that
namespace's pid_max to N (per namespace since Linux 6.14; the host's is untouched)
and runs the agent inside, so PIDs wrap every few seconds. Decoys — processes that
do not match the selector, each with a 512 MiB RSS (forked by a helper process that
holds that much touched memory) — are started beside the targets (rate / 2 per
second) and take over their PIDs. A decoy's sample attributed to the workload would show as its memory jumping
by a decoy's RSS; its PID in /recommend, as a PID that no target held. Both are
checked every second, not just at the end. Without root, unshare or Linux 6.14 it
skips (exit 77) with the reason.

usage: churn_soak.py --agent PATH [--seconds 60] [--rate 100] [--pid-max N]
Prints one line per sample (time, RSS, fds, workload pids) and a summary.
"""
import argparse
import ctypes
import json
import mmap
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402

MARK = "boundwise-soak-churn"


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


# In PID-reuse mode the script runs twice: on the host (checks, unshare) and as PID 1
# of the new namespace (the soak); this variable tells the second from the first.
IN_NAMESPACE = "BOUNDWISE_SOAK_PID_NAMESPACE"
PID_MAX_PATH = "/proc/sys/kernel/pid_max"
# Once a namespace's PIDs wrap, the kernel allocates from 300 again (RESERVED_PIDS in
# kernel/pid.c), so pid_max must leave room above that for every live process.
RESERVED_PIDS = 300
DECOY_RSS = 512 << 20
# The targets are `sleep` processes (~2 MB RSS each, ~35-60 alive at once): a window
# of the workload above this held at least one decoy's memory.
WORKLOAD_RSS_LIMIT = 256 << 20
# A PID in /recommend is as of the agent's last discovery scan (1 s) before its last
# window close (2 s): it must have been a target's at most this long before we asked.
PID_GRACE_SECONDS = 4.0


def kernel_version():
    parts = os.uname().release.split(".")
    try:
        return int(parts[0]), int(parts[1].split("-")[0])
    except (IndexError, ValueError):
        return 0, 0


def run_in_pid_namespace(args):
    """Re-runs this script as PID 1 of a new PID namespace (with its own /proc) and
    exits with its code; skips when that cannot give PID reuse safely here."""
    release = os.uname().release
    if os.geteuid() != 0:
        harness.skip("PID reuse: a new PID namespace and its pid_max need root")
    if kernel_version() < (6, 14):
        harness.skip(f"PID reuse: kernel {release} has one pid_max for the whole host "
                     "(per PID namespace since Linux 6.14); lowering it would starve the host")
    unshare = shutil.which("unshare")
    if unshare is None:
        harness.skip("PID reuse: no unshare(1) (util-linux)")
    with open(PID_MAX_PATH) as f:
        host_pid_max = f.read().strip()
    probe = subprocess.run([unshare, "--pid", "--fork", "--mount-proc", "true"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        harness.skip(f"PID reuse: unshare --pid --fork --mount-proc failed here: "
                     f"{probe.stderr.strip()}")

    def die_with_parent():
        # If this script dies (a ctest timeout), unshare dies, and --kill-child takes
        # the namespace's init, and with it every process of the namespace.
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG

    inner = subprocess.run(
        [unshare, "--pid", "--fork", "--mount-proc", "--kill-child", sys.executable,
         os.path.abspath(__file__), *sys.argv[1:]],
        env={**os.environ, IN_NAMESPACE: "1"}, preexec_fn=die_with_parent)
    with open(PID_MAX_PATH) as f:
        after = f.read().strip()
    if after != host_pid_max:
        with open(PID_MAX_PATH, "w") as f:
            f.write(host_pid_max)
        harness.fail(f"the host's pid_max changed from {host_pid_max} to {after} (restored): "
                     "pid_max is not per namespace on this kernel")
    sys.exit(inner.returncode)


def lower_pid_max(pid_max):
    if os.getpid() != 1:
        harness.fail(f"expected to be PID 1 of the new namespace, am {os.getpid()}")
    try:
        with open(PID_MAX_PATH, "w") as f:
            f.write(str(pid_max))
        with open(PID_MAX_PATH) as f:
            now = int(f.read())
    except OSError as e:
        harness.skip(f"PID reuse: cannot set pid_max in the new namespace: {e}")
    if now != pid_max:
        harness.skip(f"PID reuse: pid_max reads {now} after writing {pid_max}")
    print(f"PID namespace: this script is PID 1, pid_max {pid_max}", flush=True)


def make_ballast():
    """DECOY_RSS of touched memory, so that every decoy forked from here maps (and
    counts in its RSS) all of it. In transparent huge pages where the kernel allows:
    fork then copies 256 page-table entries instead of 131 072 (22 ms instead of 46
    per decoy, measured here), which keeps the spawn loop near its rate."""
    ballast = mmap.mmap(-1, DECOY_RSS, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    try:
        ballast.madvise(mmap.MADV_HUGEPAGE)
    except (AttributeError, OSError):
        pass
    chunk = b"\x01" * (1 << 20)
    for _ in range(DECOY_RSS // len(chunk)):
        ballast.write(chunk)
    return ballast


def start_decoy_factory(rate):
    """Forks a process that holds the ballast and forks `rate` decoys per second, each
    living 0.2-0.5 s, until SIGTERM; then it reaps them and writes how many it started
    to a pipe. Apart from the spawn loop, so that the decoys' forks (tens of ms each
    here) do not slow the targets'. Returns (pid, read end of the pipe)."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid:
        os.close(write_end)
        return pid, read_end
    os.close(read_end)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    started = 0
    try:
        ballast = make_ballast()  # noqa: F841 - held for the decoys to inherit
        rng = random.Random(11)
        live = []
        next_fork = time.time()
        while not stopping:
            if time.time() >= next_fork:
                next_fork += 1.0 / rate
                life = rng.uniform(0.2, 0.5)
                child = os.fork()
                if child == 0:  # a decoy: this script's cmdline (no mark), 512 MiB RSS
                    time.sleep(life)
                    os._exit(0)
                live.append(child)
                started += 1
            live = [c for c in live if os.waitpid(c, os.WNOHANG)[0] == 0]
            time.sleep(max(0.0, min(0.01, next_fork - time.time())))
        for c in live:
            os.waitpid(c, 0)
        os.write(write_end, str(started).encode())
    finally:
        os._exit(0)


def stop_decoy_factory(factory):
    pid, read_end = factory
    os.kill(pid, signal.SIGTERM)
    os.waitpid(pid, 0)
    text = os.read(read_end, 64).decode()
    os.close(read_end)
    return int(text) if text else 0


class Spawned:
    """One target this script started: which PID it had, and when."""

    def __init__(self, pid, started):
        self.pid = pid
        self.started = started
        self.ended = None  # when this script saw it exit


class History:
    def __init__(self):
        self.by_pid = {}
        self.reused = 0  # targets that got a PID an earlier target had

    def add(self, spawned):
        held = self.by_pid.setdefault(spawned.pid, [])
        if held:
            self.reused += 1
        held.append(spawned)

    def stale(self, reported, asked):
        """PIDs that no target held within PID_GRACE_SECONDS before `asked`: a target
        long gone, or a process that never was one (a decoy that took the PID)."""
        def fine(pid):
            return any(s.started <= asked and
                       (s.ended is None or s.ended >= asked - PID_GRACE_SECONDS)
                       for s in self.by_pid.get(pid, ()))
        return [p for p in reported if not fine(p)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--agent", required=True)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--rate", type=int, default=100, help="processes started per second")
    ap.add_argument("--pid-max", type=int, default=0,
                    help="force PID reuse: run in a PID namespace with this pid_max (> 300)")
    args = ap.parse_args()
    reuse = args.pid_max > 0
    if reuse and args.pid_max <= RESERVED_PIDS + 200:
        ap.error(f"--pid-max must exceed {RESERVED_PIDS + 200}: PIDs wrap to {RESERVED_PIDS}, "
                 "and the live processes need room")
    if reuse and os.environ.get(IN_NAMESPACE) != "1":
        run_in_pid_namespace(args)
    factory = None
    if reuse:
        lower_pid_max(args.pid_max)
        factory = start_decoy_factory(max(1, args.rate // 2))

    agent = harness.Agent(args.agent, [{"name": "churn", "cmdline": MARK}], window="2s",
                          sample_rate=20, discovery_interval="1s")
    pid = agent.process.pid
    fds_before = fd_count(pid)
    children = []  # (Popen, Spawned)
    history = History()
    samples = []  # (t, rss KiB, fds)
    started = 0
    checks = 0
    stale_seen = []
    workload_rss_max = 0
    t0 = time.time()
    next_sample = t0 + 5
    next_check = t0 + 1
    rng = random.Random(7)
    while time.time() - t0 < args.seconds:
        tick = time.time()
        for _ in range(max(1, args.rate // 20)):
            life = f"{rng.uniform(0.2, 0.5):.2f}"
            # argv[0] is the mark the selector matches; the program is sleep(1).
            p = subprocess.Popen([MARK, life], executable="/bin/sleep", stdin=subprocess.DEVNULL)
            spawned = Spawned(p.pid, tick)
            history.add(spawned)
            children.append((p, spawned))
            started += 1
        now = time.time()
        for c, spawned in children:
            if c.poll() is not None:
                spawned.ended = now
        children = [(c, s) for c, s in children if c.returncode is None]
        if agent.process.poll() is not None:
            harness.fail(f"the agent exited with {agent.process.returncode} after "
                         f"{time.time() - t0:.0f} s:\n{agent.read_log()[-3000:]}")
        if time.time() >= next_check:
            next_check += 1
            asked = time.time()
            _, w = agent.workload("churn")
            if w is not None:
                checks += 1
                stale = history.stale(w["pids"], asked)
                if stale:
                    stale_seen.append((round(asked - t0, 1), stale))
                rss = (w.get("memory_bytes") or {}).get("rss") or 0
                workload_rss_max = max(workload_rss_max, rss)
                if rss > WORKLOAD_RSS_LIMIT:
                    harness.fail(f"the churn workload's RSS was {rss >> 20} MiB at "
                                 f"{asked - t0:.0f} s: a decoy ({DECOY_RSS >> 20} MiB, not "
                                 f"matching) was counted in it; {w['processes']} processes")
        if time.time() >= next_sample:
            next_sample += 5
            status, _ = harness.http_get(agent.base + "/healthz", timeout=2)
            if status != 200:
                harness.fail(f"/healthz answered {status} at {time.time() - t0:.0f} s")
            samples.append((time.time() - t0, harness.status_kib(pid), fd_count(pid)))
            print(f"t={samples[-1][0]:5.1f}s rss={samples[-1][1]} KiB fds={samples[-1][2]} "
                  f"live children={len(children)} started={started} "
                  f"reused pids={history.reused}", flush=True)
        time.sleep(max(0.0, 0.05 - (time.time() - tick)))

    # Once more at the end, then let everything exit.
    _, w = agent.workload("churn")
    asked = time.time()
    reported = set(w["pids"]) if w else set()
    stale = history.stale(reported, asked)
    if stale:
        stale_seen.append((round(asked - t0, 1), stale))
    for c, spawned in children:
        c.wait()
    decoys = stop_decoy_factory(factory) if factory else 0
    samples_after_warmup = [s for s in samples if s[0] >= 15]
    if len(samples_after_warmup) < 4:
        harness.fail("too few samples after warm-up: run for at least 40 s")
    base = statistics.median(s[1] for s in samples_after_warmup[:3])
    end = statistics.median(s[1] for s in samples_after_warmup[-3:])
    drift = end / base - 1
    fds = [s[2] for s in samples_after_warmup]
    print(json.dumps({"seconds": args.seconds, "processes_started": started,
                      "pid_max": args.pid_max or None, "pids_reused": history.reused,
                      "decoys_started": decoys,
                      "checks": checks, "workload_rss_max_mib": workload_rss_max >> 20,
                      "rss_kib_after_warmup": base, "rss_kib_end": end,
                      "rss_drift": round(drift, 4), "fds_min": min(fds), "fds_max": max(fds),
                      "pids_reported_at_end": len(reported), "stale_pids": stale_seen}))
    if drift > 0.05:
        harness.fail(f"RSS drifted {drift:+.1%} ({base} → {end} KiB)")
    # The collector holds a few fds per live target, so the count follows the churn;
    # once the churn stops and the agent has noticed (discovery 1 s + window 2 s), it
    # must be back where it was before the churn began: polled for up to 10 s.
    settled = time.time()
    harness.wait_until(lambda: fd_count(pid) <= fds_before + 2, 10, 0.25)
    fds_after = fd_count(pid)
    print(f"fds: {fds_before} before the churn, {fds_after} "
          f"{time.time() - settled:.1f} s after it")
    if fds_after > fds_before + 2:
        harness.fail(f"open fds leaked: {fds_before} before the churn, {fds_after} after; "
                     f"during: {fds}")
    if stale_seen:
        harness.fail(f"the agent reported PIDs no target held then (t, pids): {stale_seen}")
    if checks < args.seconds // 2:
        harness.fail(f"only {checks} /recommend checks in {args.seconds} s")
    if reuse and history.reused == 0:
        harness.fail(f"no PID was reused with pid_max {args.pid_max}: the test proved nothing")
    if agent.stop() != 0:
        harness.fail("the agent did not exit 0 on SIGTERM")
    print("PASS: churn soak" + (f" with PID reuse ({history.reused} targets got a PID a target "
                                f"had before, {decoys} decoys)" if reuse else ""))


if __name__ == "__main__":
    main()
