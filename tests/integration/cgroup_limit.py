"""The cgroup collector against a real CPU quota: a CPU-bound process in a cgroup
limited to 0.3 cores is throttled, and the agent says the limit is its bottleneck
(cpu_saturated, scale_out, the limit named), while the same program without a limit is
reported without one; and the agent itself under a tight CPU and memory limit. Needs
root and a writable cgroup hierarchy with the cpu controller (v1 `cpu`, or v2 with
`cpu` in the root's subtree_control; `memory` too for agent_starved); skips otherwise.

  throttled       the limited and the unlimited program side by side, one agent
  agent_starved   the agent in a cgroup of 0.05 cores and 64 MiB, watching 2 000 threads
                  at 20 samples/s: it samples less (behind, logged, in /recommend and
                  /metrics), keeps answering and closing windows, sizes the procfs
                  files it keeps open from the memory limit (logged), never OOM-killed

usage: cgroup_limit.py --agent PATH --case NAME
"""
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402

QUOTA_CORES = 0.3


def make_limited_cgroup(quota_cores=QUOTA_CORES, memory_bytes=None):
    """Fresh cgroups with a CPU quota (and a memory limit): the directories a process
    joins by writing its PID to their cgroup.procs (one on v2; `cpu` and `memory` on
    v1). Skips without them."""
    if os.geteuid() != 0:
        harness.skip("needs root to create a cgroup")
    name = f"boundwise-test-{os.getpid()}"
    v1 = "/sys/fs/cgroup/cpu"
    if os.path.exists(os.path.join(v1, "cpu.cfs_quota_us")):
        paths = [os.path.join(v1, name)]
        if memory_bytes is not None:
            if not os.path.exists("/sys/fs/cgroup/memory/memory.limit_in_bytes"):
                harness.skip("cgroup v1 without the memory controller")
            paths.append(os.path.join("/sys/fs/cgroup/memory", name))
        for path in paths:
            os.mkdir(path)
            CREATED.append(path)
        set_quota(paths, quota_cores)
        if memory_bytes is not None:
            write(paths[1], "memory.limit_in_bytes", memory_bytes)
        return paths
    v2 = "/sys/fs/cgroup"
    try:
        with open(os.path.join(v2, "cgroup.subtree_control")) as f:
            controllers = f.read().split()
    except OSError:
        harness.skip("no cgroup hierarchy with the cpu controller")
    for needed in ["cpu"] + (["memory"] if memory_bytes is not None else []):
        if needed not in controllers:
            harness.skip(f"cgroup v2 without the {needed} controller enabled for children")
    path = os.path.join(v2, name)
    os.mkdir(path)
    CREATED.append(path)
    set_quota([path], quota_cores)
    if memory_bytes is not None:
        write(path, "memory.max", memory_bytes)
    return [path]


CREATED = []  # cgroups to remove at the end


def set_quota(paths, cores):
    """The CPU quota of cgroups made by make_limited_cgroup (None: no limit)."""
    if os.path.exists(os.path.join(paths[0], "cpu.cfs_quota_us")):
        write(paths[0], "cpu.cfs_quota_us", -1 if cores is None else int(cores * 100000))
    else:
        write(paths[0], "cpu.max", f"{'max' if cores is None else int(cores * 100000)} 100000")


def write(directory, name, value):
    with open(os.path.join(directory, name), "w") as f:
        f.write(str(value))


def remove_cgroups():
    """Removes the cgroups made here once their processes are gone."""
    harness.remove_cgroups(CREATED)
    CREATED.clear()


def cgroup_memory(paths):
    """The cgroups' memory use and peak in bytes, as the controller reports them."""
    out = {}
    for path in paths:
        for name in ("memory.usage_in_bytes", "memory.max_usage_in_bytes", "memory.failcnt",
                     "memory.current", "memory.peak"):
            try:
                with open(os.path.join(path, name)) as f:
                    out[name] = int(f.read())
            except (OSError, ValueError):
                continue
    return out


def oom_kills(paths):
    """OOM kills in the cgroups' memory controller, or None where it does not count them."""
    for path in paths:
        for name in ("memory.oom_control", "memory.events"):
            try:
                with open(os.path.join(path, name)) as f:
                    for line in f:
                        key, _, value = line.partition(" ")
                        if key == "oom_kill":
                            return int(value)
            except OSError:
                continue
    return None


def case_throttled(binary):
    path = make_limited_cgroup()[0]
    limited = unlimited = agent = None
    try:
        limited = harness.start_workload("cpu_single.py")
        with open(os.path.join(path, "cgroup.procs"), "w") as f:
            f.write(str(limited.pid))
        unlimited = harness.start_workload("cpu_single.py")
        agent = harness.Agent(binary, [{"name": "limited", "pid": limited.pid},
                                       {"name": "free", "pid": unlimited.pid}])
        w, ok = harness.wait_for_verdict(
            agent, "limited",
            lambda w: w["verdict"]["class"] == "cpu_saturated"
            and (w.get("cpu_limit") or {}).get("throttled_share") is not None, windows=5)
        if not ok:
            harness.fail(f"the throttled workload was not judged limited:\n{harness.describe(w)}")
        limit = w["cpu_limit"]
        summary = w["recommendation"]["summary"]
        if abs(limit["cores"] - QUOTA_CORES) > 1e-6 or not limit["cgroup"].endswith(
                os.path.basename(path)):
            harness.fail(f"wrong limit reported: {limit} (quota {QUOTA_CORES} at {path})")
        if limit["throttled_share"] < 0.25 or "CPU limit" not in summary \
                or w["recommendation"]["model"] != "scale_out":
            harness.fail(f"limit not named as the bottleneck:\n{harness.describe(w)}")
        _, free = agent.workload("free")
        if free is None or free.get("cpu_limit") is not None:
            harness.fail(f"the unlimited workload reports a limit:\n{harness.describe(free)}")
        metrics = harness.http_get(agent.base + "/metrics")[1] or ""
        if not re.search(r'boundwise_workload_cpu_limit_cores\{workload="limited"\} 0\.3\b',
                         metrics):
            harness.fail("no boundwise_workload_cpu_limit_cores for the limited workload")
        if 'boundwise_workload_cpu_limit_cores{workload="free"}' in metrics:
            harness.fail("a limit series for the unlimited workload")
        throttled = re.search(r'boundwise_workload_cpu_throttled_seconds_total'
                              r'\{workload="limited"\} ([0-9.e+-]+)', metrics)
        if not throttled or float(throttled.group(1)) <= 0:
            harness.fail("boundwise_workload_cpu_throttled_seconds_total did not grow")
        print(f"ok: {summary}; throttled share {limit['throttled_share']}, "
              f"{throttled.group(1)} s throttled; the unlimited twin has no limit")
    finally:
        for p in (agent.process if agent else None, limited, unlimited):
            if p is not None:
                harness.stop(p)
        remove_cgroups()


STARVED_CORES = 0.05
STARVED_MEMORY = 64 << 20
SLEEPERS = 2000
# 2 000 threads that sleep: each sampling round reads every thread's files.
SLEEPERS_CODE = f"""
import threading
stop = threading.Event()
for _ in range({SLEEPERS}):
    threading.Thread(target=stop.wait, daemon=True).start()
stop.wait()
"""


def case_agent_starved(binary):
    # The memory limit holds from the agent's start; the CPU limit from once it answers
    # (starting, it loads its BPF programs: seconds at 0.05 cores, not what is tested).
    paths = make_limited_cgroup(None, STARVED_MEMORY)
    sleepers = agent = None

    def join_cgroups():  # in the agent's child, before exec: it starts limited
        for path in paths:
            write(path, "cgroup.procs", os.getpid())

    try:
        sleepers = harness.start(["/usr/bin/python3", "-c", SLEEPERS_CODE])
        if not harness.wait_until(lambda: harness.thread_count(sleepers.pid) > SLEEPERS, 20):
            harness.fail(f"the target did not start its {SLEEPERS} threads")
        agent = harness.Agent(binary, [{"name": "sleepers", "pid": sleepers.pid}],
                              sample_rate=20, preexec_fn=join_cgroups)
        set_quota(paths, STARVED_CORES)
        # Windows of 2 s keep closing, and /healthz answers all along.
        start = time.monotonic()
        slowest = 0.0
        first = None
        doc = None
        procfs = {}
        while time.monotonic() - start < 20:
            t0 = time.monotonic()
            status, _ = harness.http_get(agent.base + "/healthz", timeout=5)
            slowest = max(slowest, time.monotonic() - t0)
            if status != 200:
                harness.fail(f"/healthz answered {status} under the limits, "
                             f"{time.monotonic() - start:.1f} s in (waited "
                             f"{time.monotonic() - t0:.1f} s); memory "
                             f"{cgroup_memory(paths)}; the agent's log:\n"
                             f"{agent.read_log()[-3000:]}")
            doc = agent.recommend()
            if doc is not None:
                if first is None:
                    first = doc["windows_completed"]
                procfs = next((c for c in doc["collectors"] if c["name"] == "procfs"), {})
                if procfs.get("behind") and doc["windows_completed"] >= first + 3:
                    break
            time.sleep(1)
        if agent.process.poll() is not None:
            harness.fail(f"the agent exited ({agent.process.returncode}) under the limits")
        kills = oom_kills(paths)
        if kills:
            harness.fail(f"the agent's cgroup counted {kills} OOM kill(s)")
        if doc is None or first is None or doc["windows_completed"] < first + 3:
            harness.fail(f"windows stopped closing under the limits: {doc and doc['windows_completed']}"
                         f" after {first}")
        if not procfs.get("behind") or procfs["achieved_rounds_per_second"] >= 0.8 * 20:
            harness.fail(f"the starved agent does not say it fell behind: {procfs}")
        log = agent.read_log()
        if "sampling fell behind" not in log:
            harness.fail("the log does not say the sampling fell behind")
        bound = re.search(r"keeping at most (\d+) procfs files open.*bound: a quarter of the "
                          r"memory limit of 64 MiB", log)
        if not bound:
            harness.fail("the kept-open procfs files were not sized from the 64 MiB limit:\n"
                         + "\n".join(line for line in log.splitlines() if "procfs files" in line))
        metrics = harness.http_get(agent.base + "/metrics")[1] or ""
        if 'boundwise_collector_behind{collector="procfs"} 1' not in metrics:
            harness.fail("boundwise_collector_behind is not 1 for procfs")
        _, w = agent.workload("sleepers")
        if w is None or w.get("verdict") is None:
            harness.fail(f"no verdict for the watched workload under the limits: {w}")
        memory = cgroup_memory(paths)
        print(f"ok: under {STARVED_CORES} cores and {STARVED_MEMORY >> 20} MiB the agent ran "
              f"{procfs['achieved_rounds_per_second']} of {procfs['rounds_per_second']} rounds/s "
              f"(behind, logged), closed {doc['windows_completed'] - first} windows in "
              f"{time.monotonic() - start:.0f} s, /healthz at worst {slowest * 1e3:.0f} ms, "
              f"peak RSS {harness.status_kib(agent.process.pid, 'VmHWM') >> 10} MiB, cgroup peak "
              f"{memory.get('memory.max_usage_in_bytes', memory.get('memory.peak', 0)) >> 20} MiB"
              f" ({bound.group(1)} files kept at most), OOM kills: {kills}; "
              f"verdict {w['verdict']['class']}")
    finally:
        for p in (agent.process if agent else None, sleepers):
            if p is not None:
                harness.stop(p)
        remove_cgroups()


if __name__ == "__main__":
    harness.run_cases({"throttled": case_throttled, "agent_starved": case_agent_starved})
