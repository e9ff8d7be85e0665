"""The ebpf collector's sched tool and its degradation, against the real agent and
kernel (ctest label `privileged`: loading BPF programs needs root).

  runqueue_saturated  more CPU hogs than cores: run-queue p95 above 1 ms, preempted
                      off-CPU time measured, verdict cpu_saturated
  duty_cycled         the same hogs under a budget that attaches the sched tool for part
                      of each cycle: no run-queue wait longer than a CPU hog can be
                      kept off a CPU (records from before a detach are not reused)
  sleeper_states      a thread sleeping in nanosleep: its off-CPU time is measured as
                      interruptible and adds up to the window
  forks_followed      children that live between discovery scans are counted (the
                      kernel follows forks of targets)
  gil_forked          GIL waits of a Python target's children forked after it became
                      a target are measured in the kernel (their GIL ranges are known)
  bpf_denied          as an unprivileged user: ebpf down with the reason and a hint,
                      said once in the log; procfs still classifies the workload
  disabled            collectors: {ebpf_sched: {enabled: false}} and
                      --disable-collector ebpf: nothing loaded, nothing exported

usage: ebpf_sched.py --agent PATH --case NAME
"""
import os
import platform
import re
import shutil
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402
from ebpflib import metric, metrics_after_first_window, need_root, need_tools  # noqa: E402


def bw_programs():
    """Names of loaded BPF programs that belong to boundwise (bw_ prefix)."""
    r = subprocess.run(["bpftool", "prog", "show"], capture_output=True, text=True)
    return re.findall(r"name (bw_\w+)", r.stdout)


def start_hogs():
    """Twice as many CPU hogs (stress-ng) as cores; returns (process, cores)."""
    need_root()
    if shutil.which("stress-ng") is None:
        harness.skip("stress-ng is not installed (apt-get install stress-ng)")
    cpus = os.cpu_count() or 2
    hog = harness.start(["stress-ng", "--cpu", str(cpus * 2), "--cpu-method", "int64",
                         "--timeout", "120s", "--quiet"])
    if not harness.wait_until(lambda: len(harness.descendants(hog.pid)) >= cpus * 2, 10):
        harness.fail(f"stress-ng did not start its {cpus * 2} hogs within 10 s")
    return hog, cpus


def case_runqueue_saturated(binary):
    hog, cpus = start_hogs()
    agent = harness.Agent(binary, [{"name": "hog", "pid": hog.pid}])
    need_tools(agent, "sched")

    def accept(w):
        s = w.get("scheduler")
        return (w["verdict"]["class"] == "cpu_saturated" and s is not None
                and s["runqueue_latency_seconds"] is not None
                and s["runqueue_latency_seconds"]["p95"] > 0.001)

    w, ok = harness.wait_for_verdict(agent, "hog", accept)
    if not ok:
        harness.fail(f"want cpu_saturated with run-queue p95 > 1 ms:\n{harness.describe(w)}")
    s = w["scheduler"]
    # Twice as many hogs as cores: together they wait for a CPU at least one core's
    # worth of time per core (more if anything else runs), preempted, never asleep.
    # (stress-ng's parent sleeps in wait(): that is the interruptible part.)
    off = s["offcpu_seconds_by_state"]
    window = w["window"]["duration_seconds"]
    if off["preempted"] + off["woken"] < 0.5 * cpus * window:
        harness.fail(f"{cpus * 2} hogs on {cpus} cores over {window} s, yet only "
                     f"{off['preempted'] + off['woken']:.2f} s waiting for a CPU: {off}")
    if not any(e.startswith("run-queue latency (eBPF") for e in w["recommendation"]["evidence"]):
        harness.fail("the evidence does not cite the measured run-queue latency:\n" +
                     harness.describe(w))
    count = metric(agent, "boundwise_runqueue_latency_seconds_count", workload="hog")
    if not count:
        harness.fail("boundwise_runqueue_latency_seconds has no observations for hog")
    if not metric(agent, "boundwise_ebpf_program_runs_total", program="bw_sched_switch"):
        harness.fail("no run count for bw_sched_switch: BPF run-time stats not exported")
    print(f"hog: run-queue p95 {s['runqueue_latency_seconds']['p95'] * 1e3:.1f} ms "
          f"over {s['runqueue_waits']} waits; off-CPU {off}")


def runqueue_buckets(agent, workload):
    """{upper bound in s: cumulative count} of boundwise_runqueue_latency_seconds."""
    out = {}
    text = harness.http_get(agent.base + "/metrics")[1]
    for line in text.splitlines():
        m = re.match(r'boundwise_runqueue_latency_seconds_bucket\{(.*)\} (\S+)$', line)
        if m and f'workload="{workload}"' in m.group(1):
            le = re.search(r'le="([^"]+)"', m.group(1)).group(1)
            out[float("inf") if le == "+Inf" else float(le)] = float(m.group(2))
    return out


def case_duty_cycled(binary):
    hog, _ = start_hogs()
    # A budget far below what the sched tool costs even for a few hogs: the tool is
    # attached for a slice of each 10 s cycle (or at the 5 % floor), detached the rest.
    agent = harness.Agent(binary, [{"name": "hog", "pid": hog.pid}],
                          extra="ebpf:\n  budget_cores: 0.0001\n")
    need_tools(agent, "sched")
    # At least three 10 s cycles: each re-attach meets records from before a detach.
    start = time.time()
    duties, buckets = set(), {}
    while time.time() < start + 60:
        time.sleep(2)
        duty = (agent.recommend() or {}).get("ebpf_duty", {}).get("sched")
        if duty is not None:
            duties.add(round(duty, 2))
        buckets = runqueue_buckets(agent, "hog")
        if (time.time() > start + 32 and buckets and any(d < 1 for d in duties)
                and buckets[float("inf")] > 200):
            break
    if not any(d < 1 for d in duties):
        harness.fail(f"the sched tool was never duty-cycled (duties {sorted(duties)})")
    if not buckets or buckets[float("inf")] == 0:
        harness.fail("no run-queue waits measured while duty-cycled")
    # Twice as many hogs as cores: the scheduler rotates them every few milliseconds.
    # A wait of a quarter of a second or more is not one wait but a thread's waits over
    # a detached stretch, counted from a record written before the detach.
    total = buckets[float("inf")]
    below = max(count for bound, count in buckets.items() if bound <= 0.25)
    if total - below > 0:
        harness.fail(f"{total - below:.0f} of {total:.0f} run-queue waits longer than 250 ms "
                     f"under duty cycling (duties {sorted(duties)}): {buckets}")
    print(f"hog, duty-cycled ({sorted(duties)}): {total:.0f} run-queue waits, none over 250 ms")


def case_sleeper_states(binary):
    need_root()
    # One thread sleeping 50 ms at a time, nothing else: almost all of its time is
    # interruptible sleep, which the sched tool measures exactly.
    p = harness.start([harness.PYTHON, "-c",
                       "import time\nwhile True: time.sleep(0.05)"])
    agent = harness.Agent(binary, [{"name": "sleeper", "pid": p.pid}], window="2s")
    need_tools(agent, "sched")
    w, ok = harness.wait_for_verdict(
        agent, "sleeper", lambda w: "scheduler" in w and w.get("window") is not None
        and w["window"]["duration_seconds"] > 1.5)
    if not ok:
        harness.fail(f"no measured window for the sleeper:\n{harness.describe(w)}")
    off = w["scheduler"]["offcpu_seconds_by_state"]
    window = w["window"]["duration_seconds"]
    total = sum(off.values())
    # One thread: its off-CPU time is the window less its (tiny) CPU time.
    if not 0.85 * window <= total <= 1.05 * window:
        harness.fail(f"off-CPU {total:.3f} s of a {window:.3f} s window for one sleeping "
                     f"thread: {off}")
    if off["interruptible"] < 0.9 * total:
        harness.fail(f"a nanosleep loop should be interruptible sleep: {off}")
    print(f"sleeper: off-CPU {total:.3f} s of {window:.3f} s: {off}")


def case_forks_followed(binary):
    need_root()
    # A parent that always has one short-lived child (300 ms asleep, then exit). The
    # children live between discovery scans, so only the kernel's fork follower sees
    # them: with it, the workload sleeps about two threads' worth of each window (the
    # parent in wait(), one child in nanosleep); without it, about one.
    code = ("import os, time\n"
            "while True:\n"
            "    pid = os.fork()\n"
            "    if pid == 0:\n"
            "        time.sleep(0.3)\n"
            "        os._exit(0)\n"
            "    os.waitpid(pid, 0)\n")
    p = harness.start([harness.PYTHON, "-c", code])
    agent = harness.Agent(binary, [{"name": "forker", "pid": p.pid}], window="3s",
                          discovery_interval="3s")
    need_tools(agent, "sched")
    w, ok = harness.wait_for_verdict(
        agent, "forker", lambda w: "scheduler" in w and w["window"]["duration_seconds"] > 2.5
        and sum(w["scheduler"]["offcpu_seconds_by_state"].values())
        > 1.6 * w["window"]["duration_seconds"])
    if not ok:
        harness.fail("children living between discovery scans are not counted (want off-CPU "
                     f"> 1.6 × the window):\n{harness.describe(w)}")
    off = w["scheduler"]["offcpu_seconds_by_state"]
    print(f"forker: off-CPU {sum(off.values()):.2f} s in a "
          f"{w['window']['duration_seconds']:.2f} s window, {len(w['pids'])} pids listed")


def case_gil_forked(binary):
    need_root()
    if platform.machine() != "x86_64":
        harness.skip("the GIL-wait check reads x86_64 syscall registers")
    # A Python parent that, once the agent watches it, forks two children running
    # three pure-Python threads each. The kernel marks the children at fork; discovery
    # then lists them, and the sched tool must learn their GIL ranges too: the parent
    # itself never waits for its GIL, so GIL waits measured in the kernel can only
    # come from the children (about 2 × 2 waiting threads).
    code = ("import os, threading, time\n"
            "def spin():\n"
            "    x = 0\n"
            "    while True:\n"
            "        x = (x * 31 + 7) % 1000003\n"
            "time.sleep(3)\n"
            "for _ in range(2):\n"
            "    if os.fork() == 0:\n"
            "        for _ in range(3):\n"
            "            threading.Thread(target=spin, daemon=True).start()\n"
            "        threading.Event().wait()\n"
            "os.wait()\n")
    p = harness.start([harness.PYTHON, "-c", code])
    agent = harness.Agent(binary, [{"name": "gilfork", "pid": p.pid}], window="2s")
    need_tools(agent, "sched")
    w, ok = harness.wait_for_verdict(
        agent, "gilfork", lambda w: "scheduler" in w and len(w["pids"]) == 3
        and w.get("gil", {}).get("wait_source") == "ebpf"
        and w["scheduler"]["offcpu_seconds_by_state"].get("gil", 0)
        > 1.5 * w["window"]["duration_seconds"], windows=6)
    if not ok:
        harness.fail("GIL waits of forked children are not measured in the kernel (want "
                     f"wait_source ebpf and > 1.5 × the window):\n{harness.describe(w)}")
    print(f"gilfork: GIL wait {w['scheduler']['offcpu_seconds_by_state']['gil']:.2f} s in a "
          f"{w['window']['duration_seconds']:.2f} s window, class {w['verdict']['class']}")


def case_bpf_denied(binary):
    need_root()
    if shutil.which("setpriv") is None:
        harness.skip("setpriv (util-linux) is not installed")
    # The agent as nobody without capabilities: BPF is denied. A workload owned by
    # nobody stays readable through /proc, so procfs still classifies it.
    nobody = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--inh-caps=-all"]
    if subprocess.run(nobody + [binary, "--version"], capture_output=True).returncode != 0:
        harness.skip(f"user nobody cannot run {binary} (a directory on its path is private)")
    tmp = harness.tempdir()
    os.chmod(tmp, 0o755)
    wrapper = os.path.join(tmp, "as-nobody.sh")
    # The harness's config lives in a private temp dir: hand nobody a readable copy.
    with open(wrapper, "w") as f:
        f.write("#!/bin/sh\n"
                f"cp \"$2\" {tmp}/config.yaml && chmod 644 {tmp}/config.yaml || exit 1\n"
                f"exec {' '.join(nobody)} {binary} --config {tmp}/config.yaml\n")
    os.chmod(wrapper, stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    burner = harness.start(nobody + [harness.PYTHON,
                                     os.path.join(harness.WORKLOADS, "cpu_single.py")])

    def running_python():  # setpriv has dropped to nobody and exec'd the interpreter
        try:
            with open(f"/proc/{burner.pid}/comm") as f:
                return f.read().strip().startswith("python")
        except OSError:
            return False

    if not harness.wait_until(running_python, 10):
        harness.fail("the burner did not exec python as nobody within 10 s")
    agent = harness.Agent(wrapper, [{"name": "burner", "pid": burner.pid}])
    metrics = metrics_after_first_window(agent)
    if 'boundwise_collector_up{collector="ebpf"} 0' not in metrics:
        harness.fail("ebpf is not reported down without privileges:\n" +
                     "\n".join(l for l in metrics.splitlines() if "collector_up" in l) +
                     "\n" + agent.read_log())
    w, ok = harness.wait_for_verdict(agent, "burner",
                                     lambda w: w["verdict"]["class"] in ("cpu_bound",))
    if not ok:
        harness.fail(f"without eBPF, procfs alone should still classify:\n{harness.describe(w)}")
    log = agent.read_log()
    down = [l for l in log.splitlines() if "collector ebpf: down" in l]
    if len(down) != 1:
        harness.fail(f"want the reason logged once, got {len(down)} lines:\n{log}")
    if "hint:" not in down[0]:
        harness.fail(f"the reason carries no hint: {down[0]}")
    doc = agent.recommend()
    ebpf = [c for c in doc["collectors"] if c["name"] == "ebpf"]
    if not ebpf or ebpf[0]["up"] or not ebpf[0]["error"]:
        harness.fail(f"/recommend does not say why ebpf is down: {doc['collectors']}")
    if "scheduler" in w:
        harness.fail("scheduler numbers reported without eBPF")
    print(f"ebpf down as nobody: {ebpf[0]['error']}")


def case_disabled(binary):
    need_root()
    p = harness.start([harness.PYTHON, "-c", "import time\nwhile True: time.sleep(0.05)"])
    agent = harness.Agent(binary, [{"name": "sleeper", "pid": p.pid}],
                          extra="collectors:\n  ebpf_sched: {enabled: false}")
    metrics = metrics_after_first_window(agent)
    if 'collector="ebpf_sched"' in metrics or "boundwise_offcpu_seconds_total{" in metrics:
        harness.fail("ebpf_sched disabled in the config, yet exported:\n" +
                     "\n".join(l for l in metrics.splitlines() if "ebpf" in l or "offcpu" in l))
    if any(name.startswith("bw_sched") for name in bw_programs()):
        harness.fail(f"ebpf_sched disabled, yet its programs are loaded: {bw_programs()}")
    agent.stop()

    before = bw_programs()
    port = harness.free_port()
    log_path = os.path.join(agent.dir, "disabled.log")
    with open(log_path, "w") as log:
        p2 = harness.start([binary, "--listen", f"127.0.0.1:{port}", "--window", "2s",
                            "--disable-collector", "ebpf"], stdout=log, stderr=subprocess.STDOUT)
        harness.wait_healthy(p2, f"http://127.0.0.1:{port}", log_path)
        loaded = [n for n in bw_programs() if n not in before]
        metrics = harness.http_get(f"http://127.0.0.1:{port}/metrics")[1]
        harness.stop(p2)
    if loaded:
        harness.fail(f"--disable-collector ebpf, yet programs loaded: {loaded}")
    if 'collector="ebpf"' in metrics:
        harness.fail("--disable-collector ebpf, yet ebpf is exported")
    r = subprocess.run([binary, "--disable-collector", "ebpf_sycalls"], capture_output=True,
                       text=True, timeout=10)
    if r.returncode != 2 or "unknown collector" not in r.stderr:
        harness.fail(f"a misspelt collector name: exit {r.returncode}, {r.stderr!r}")


CASES = {"runqueue_saturated": case_runqueue_saturated, "duty_cycled": case_duty_cycled,
         "sleeper_states": case_sleeper_states,
         "forks_followed": case_forks_followed, "gil_forked": case_gil_forked,
         "bpf_denied": case_bpf_denied, "disabled": case_disabled}


if __name__ == "__main__":
    harness.run_cases(CASES)
