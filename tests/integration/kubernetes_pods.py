"""Workloads in Kubernetes pods, without Kubernetes: the test builds the cgroup a
kubelet would create (cgroup v2, under the cgroup2 mount of this host), starts a real
workload inside it the way a runtime does (the process joins the cgroup, then execs),
runs the real agent and checks the workload's name and pod ids in /recommend and
/metrics. The cgroups it created are removed afterwards, whatever happens.

  systemd_containerd  systemd driver, containerd scope, Burstable; auto-discovered:
                      named python3@pod-<uid 8>/<container 12>
  cgroupfs            cgroupfs driver (/kubepods/besteffort/pod<uid>/<id>): BestEffort,
                      no runtime in the path
  configured          a configured target in a pod keeps its configured name and
                      carries the pod ids

Needs root and a writable cgroup2 mount; skips with the reason otherwise.

usage: kubernetes_pods.py --agent PATH --case NAME
"""
import atexit
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.parse
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402


def cgroup2_mount():
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            if right.split()[0] == "cgroup2":
                return left.split()[4]
    return None


class PodCgroup:
    """The cgroup directories of one pod container, created under the cgroup2 mount;
    remove() moves nothing and kills nothing: call it once the processes are gone."""

    def __init__(self, relative):
        mount = cgroup2_mount()
        if mount is None:
            harness.skip("no cgroup2 mount on this host")
        if os.geteuid() != 0:
            harness.skip("creating cgroups needs root")
        self.created = []
        path = mount
        for part in relative.strip("/").split("/"):
            path = os.path.join(path, part)
            if not os.path.isdir(path):
                try:
                    os.mkdir(path)
                except OSError as e:
                    self.remove()
                    harness.skip(f"cannot create a cgroup at {path}: {e}")
                self.created.append(path)
        self.path = path
        self.relative = relative

    def remove(self):
        harness.remove_cgroups(reversed(self.created))
        self.created = []


def start_in_cgroup(cgroup, workload):
    """Starts a workload detached (its parent exits, so it is the root of its own tree,
    as a container's first process is below its shim) inside `cgroup`: it writes its
    own PID to cgroup.procs and then execs, as runc does, so the agent never sees it
    outside the pod. Returns the PID; kills it at exit, then removes the cgroup."""
    inner = 'echo $$ > "$1" && exec "$2" "$3"'
    launcher = harness.start(
        ["sh", "-c", f"sh -c '{inner}' sh \"$1\" \"$2\" \"$3\" </dev/null >/dev/null 2>&1 & echo $!",
         "sh", os.path.join(cgroup.path, "cgroup.procs"), harness.PYTHON,
         os.path.join(harness.WORKLOADS, workload)],
        stdout=subprocess.PIPE, text=True)
    pid = int(launcher.stdout.readline())
    launcher.wait()

    def cleanup():
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        cgroup.remove()
    # Registered after harness's own cleanup, so it runs before it.
    atexit.register(cleanup)
    deadline = time.time() + 5
    while time.time() < deadline:
        with open(f"/proc/{pid}/cgroup") as f:
            if f"0::{cgroup.relative}\n" in f.read():
                with open(f"/proc/{pid}/comm") as c:
                    if c.read().strip() == "python3":  # exec'd
                        return pid
        time.sleep(0.05)
    harness.fail(f"pid {pid} did not join {cgroup.relative} and exec within 5 s")


def systemd_layout(uid, cid, qos):
    slice_uid = uid.replace("-", "_")
    qos_slice = "" if qos == "guaranteed" else f"-{qos}"
    parents = "/kubepods.slice" + (f"/kubepods{qos_slice}.slice" if qos_slice else "")
    return f"{parents}/kubepods{qos_slice}-pod{slice_uid}.slice/cri-containerd-{cid}.scope"


def wait_for_pid(agent, pid, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        doc = agent.recommend() or {"workloads": []}
        for w in doc["workloads"]:
            if pid in w["pids"] and w.get("verdict"):
                return w
        time.sleep(0.5)
    harness.fail(f"pid {pid} never reached /recommend with a verdict:\n"
                 f"{harness.describe(agent.recommend())}\n{agent.read_log()[-2000:]}")


def metric_lines(agent, name, workload):
    status, text = harness.http_get(agent.base + "/metrics")
    if status != 200:
        harness.fail(f"/metrics answered {status}")
    want = f'workload="{workload}"'
    return [line for line in text.splitlines() if line.startswith(name + "{") and want in line]


def check_pod_metrics(agent, name, uid, cid, qos):
    info = metric_lines(agent, "boundwise_workload_pod_info", name)
    if len(info) != 1:
        harness.fail(f"want one boundwise_workload_pod_info series for {name}, got {info}")
    labels = dict(re.findall(r'(\w+)="([^"]*)"', info[0]))
    want = {"workload": name, "pod_uid": uid, "container_id": cid, "qos_class": qos}
    if labels != want or not info[0].endswith(" 1"):
        harness.fail(f"pod info series {info[0]!r}, want labels {want} and value 1")
    if not metric_lines(agent, "boundwise_thread_seconds_total", name):
        harness.fail(f"no boundwise_thread_seconds_total series for {name}")
    print(f"ok: {info[0]}")


def check_recommend(agent, w, uid, cid, runtime, qos):
    k = w.get("kubernetes")
    want = {"pod_uid": uid, "container_id": cid, "container_runtime": runtime, "qos_class": qos}
    if k != want:
        harness.fail(f"/recommend kubernetes: {k}, want {want}")
    # The name works as a query parameter (it holds '@' and '/').
    one = agent.recommend(urllib.parse.quote(w["workload"], safe=""))
    if one is None or [x["workload"] for x in one["workloads"]] != [w["workload"]]:
        harness.fail(f"/recommend?workload={w['workload']} did not return it: {one}")
    print(f"ok: /recommend {w['workload']}: {k}")


def case_systemd_containerd(binary):
    uid, cid = str(uuid.uuid4()), secrets.token_hex(32)
    cgroup = PodCgroup(systemd_layout(uid, cid, "burstable"))
    pid = start_in_cgroup(cgroup, "cpu_single.py")
    agent = harness.Agent(binary, [])
    w = wait_for_pid(agent, pid)
    name = f"python3@pod-{uid[:8]}/{cid[:12]}"
    if w["workload"] != name:
        harness.fail(f"auto-discovered workload named {w['workload']!r}, want {name!r}")
    check_recommend(agent, w, uid, cid, "containerd", "Burstable")
    check_pod_metrics(agent, name, uid, cid, "Burstable")


def case_cgroupfs(binary):
    uid, cid = str(uuid.uuid4()), secrets.token_hex(32)
    cgroup = PodCgroup(f"/kubepods/besteffort/pod{uid}/{cid}")
    pid = start_in_cgroup(cgroup, "cpu_single.py")
    agent = harness.Agent(binary, [])
    w = wait_for_pid(agent, pid)
    name = f"python3@pod-{uid[:8]}/{cid[:12]}"
    if w["workload"] != name:
        harness.fail(f"auto-discovered workload named {w['workload']!r}, want {name!r}")
    check_recommend(agent, w, uid, cid, None, "BestEffort")
    check_pod_metrics(agent, name, uid, cid, "BestEffort")


def case_configured(binary):
    uid, cid = str(uuid.uuid4()), secrets.token_hex(32)
    cgroup = PodCgroup(systemd_layout(uid, cid, "guaranteed"))
    pid = start_in_cgroup(cgroup, "cpu_single.py")
    agent = harness.Agent(binary, [{"name": "spinner", "pid": pid}])
    w = wait_for_pid(agent, pid)
    if w["workload"] != "spinner":
        harness.fail(f"configured workload renamed to {w['workload']!r}")
    check_recommend(agent, w, uid, cid, "containerd", "Guaranteed")
    check_pod_metrics(agent, "spinner", uid, cid, "Guaranteed")


CASES = {"systemd_containerd": case_systemd_containerd, "cgroupfs": case_cgroupfs,
         "configured": case_configured}


if __name__ == "__main__":
    harness.run_cases(CASES)
