"""Least privilege against the real binary: --check-privileges as root and as an
unprivileged user, and an agent started as root with run_as_user that ends up as that
user holding exactly the capabilities it uses — and still explains a root-owned
workload's waits (lock contention is only visible in /proc/PID/task/*/syscall,
which needs CAP_SYS_PTRACE).

usage: privileges.py --agent PATH --case check|run_as_user
"""
import os
import pwd
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402

# Capability numbers (linux/capability.h).
CAP_DAC_READ_SEARCH, CAP_SYS_PTRACE, CAP_SYS_RESOURCE, CAP_PERFMON, CAP_BPF = 2, 19, 24, 38, 39


def need_root():
    if os.geteuid() != 0:
        harness.skip("needs root: the test switches users and compares capability sets")
    try:
        pwd.getpwnam("nobody")
    except KeyError:
        harness.skip("no user 'nobody' on this machine")


def case_check(binary):
    need_root()
    r = subprocess.run([binary, "--check-privileges"], capture_output=True, text=True, timeout=10)
    if r.returncode != 0:
        harness.fail(f"--check-privileges exited {r.returncode}: {r.stderr}")
    for cap in ("CAP_SYS_PTRACE", "CAP_DAC_READ_SEARCH", "CAP_BPF", "CAP_PERFMON"):
        if f"[yes] {cap}" not in r.stdout:
            harness.fail(f"root lacks {cap}?\n{r.stdout}")
    if shutil.which("setpriv") is None:
        harness.skip("setpriv (util-linux) is not installed")
    r = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                        "--inh-caps=-all", binary, "--check-privileges"],
                       capture_output=True, text=True, timeout=10)
    if r.returncode != 0:
        harness.fail(f"--check-privileges as nobody exited {r.returncode}: {r.stderr}")
    for cap in ("CAP_SYS_PTRACE", "CAP_BPF"):
        if f"[no]  {cap}" not in r.stdout:
            harness.fail(f"nobody has {cap}?\n{r.stdout}")
    if "without it: wait reasons" not in r.stdout:
        harness.fail(f"no consequence given for a missing CAP_SYS_PTRACE:\n{r.stdout}")


def status_of(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def case_run_as_user(binary):
    need_root()
    target = harness.start_workload("lock_contention.py", 6)  # runs as root
    agent = harness.Agent(binary, [{"name": "locks", "pid": target.pid}],
                          extra="run_as_user: nobody")
    status = status_of(agent.process.pid)
    nobody = pwd.getpwnam("nobody").pw_uid
    if status["Uid"].split() != [str(nobody)] * 4:
        harness.fail(f"agent runs as Uid {status['Uid']}, want {nobody}:\n{agent.read_log()}")
    kernel = tuple(int(x) for x in os.uname().release.split(".")[:2])
    want = (1 << CAP_DAC_READ_SEARCH) | (1 << CAP_SYS_PTRACE) | (1 << CAP_PERFMON) | (1 << CAP_BPF)
    if kernel < (5, 11):
        want |= 1 << CAP_SYS_RESOURCE
    for key in ("CapEff", "CapPrm", "CapBnd"):
        have = int(status[key], 16)
        if have != want:
            harness.fail(f"{key} {have:#x}, want {want:#x} (only the capabilities it uses)")
    if status.get("NoNewPrivs") != "1":
        harness.fail(f"NoNewPrivs is {status.get('NoNewPrivs')}, want 1")
    w, ok = harness.wait_for_verdict(
        agent, "locks", lambda w: w["verdict"]["class"] == "lock_contended")
    if not ok:
        harness.fail("after dropping to nobody the agent no longer sees the root-owned "
                     f"workload's lock waits:\n{harness.describe(w)}\n{agent.read_log()}")
    if "running as uid" not in agent.read_log():
        harness.fail("the log does not say which user the agent runs as")


CASES = {"check": case_check, "run_as_user": case_run_as_user}


if __name__ == "__main__":
    harness.run_cases(CASES)
