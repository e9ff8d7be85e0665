"""The cgroup collector against a real CPU quota: a CPU-bound process in a cgroup
limited to 0.3 cores is throttled, and the agent says the limit is its bottleneck
(cpu_saturated, scale_out, the limit named), while the same program without a limit is
reported without one. Needs root and a writable cgroup hierarchy with the cpu
controller (v1 `cpu`, or v2 with `cpu` in the root's subtree_control); skips otherwise.

  throttled   the limited and the unlimited program side by side, one agent

usage: cgroup_limit.py --agent PATH --case NAME
"""
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402

QUOTA_CORES = 0.3


def make_limited_cgroup():
    """A fresh cgroup with a 0.3-core quota: (directory, write_pid). Skips without one."""
    if os.geteuid() != 0:
        harness.skip("needs root to create a cgroup")
    name = f"boundwise-test-{os.getpid()}"
    v1 = "/sys/fs/cgroup/cpu"
    if os.path.exists(os.path.join(v1, "cpu.cfs_quota_us")):
        path = os.path.join(v1, name)
        os.mkdir(path)
        with open(os.path.join(path, "cpu.cfs_quota_us"), "w") as f:
            f.write(str(int(QUOTA_CORES * 100000)))
        return path
    v2 = "/sys/fs/cgroup"
    try:
        with open(os.path.join(v2, "cgroup.subtree_control")) as f:
            if "cpu" not in f.read().split():
                harness.skip("cgroup v2 without the cpu controller enabled for children")
    except OSError:
        harness.skip("no cgroup hierarchy with the cpu controller")
    path = os.path.join(v2, name)
    os.mkdir(path)
    with open(os.path.join(path, "cpu.max"), "w") as f:
        f.write(f"{int(QUOTA_CORES * 100000)} 100000")
    return path


def case_throttled(binary):
    path = make_limited_cgroup()
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
        for _ in range(50):
            try:
                os.rmdir(path)
                break
            except OSError:
                time.sleep(0.1)


if __name__ == "__main__":
    harness.run_cases({"throttled": case_throttled})
