"""The ebpf collector's syscalls and disk tools, the overhead budget and clean-up,
against the real agent and kernel (ctest label `privileged`: loading BPF programs
needs root; a case skips with the reason when the tool it needs is down).

  fsync_writer    a writer fsyncing 4 KiB at a time: disk latency histogram and the
                  syscalls' fsync class non-empty, verdict io_disk, evidence citing
                  the measured latency
  sleep_class     a thread sleeping 50 ms at a time: the sleep class's p95 within
                  10 % of 50 ms (bounded by what the sleeper itself measured when a
                  loaded machine wakes it late), in /recommend and in /metrics
  budget_duty     ebpf: {budget_cores: 0.00001} and a syscall-heavy target: the agent
                  logs the duty change, /recommend shows the syscalls tool's duty < 1
                  and says so in the evidence, and still answers
  sigterm_cleanup agent killed with SIGTERM: none of its BPF programs stays loaded

usage: ebpf_sys.py --agent PATH --case NAME
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402
from ebpflib import metric, need_root, need_tools  # noqa: E402

# The syscalls tool is off by default (its hooks cost every syscall of the host).
SYSCALLS_ON = "collectors:\n  ebpf_syscalls: {enabled: true}"


def bpf_programs():
    """{id: name} of every loaded BPF program whose name starts with bw_, and the pids
    holding each (bpftool lists them when it can)."""
    r = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True)
    if r.returncode != 0:
        harness.skip(f"bpftool prog show failed: {r.stderr.strip()}")
    out = {}
    for p in json.loads(r.stdout or "[]"):
        name = p.get("name", "")
        if name.startswith("bw_"):
            out[p["id"]] = (name, [q.get("pid") for q in p.get("pids", [])])
    return out


def case_fsync_writer(binary):
    need_root()
    d = harness.tempdir("boundwise-fsync-")
    p = harness.start_workload("fsync_writer.py", d)
    agent = harness.Agent(binary, [{"name": "writer", "pid": p.pid}], extra=SYSCALLS_ON)
    need_tools(agent, "syscalls", "disk")

    def accept(w):
        disk = w.get("disk")
        fsync = (w.get("syscalls") or {}).get("classes", {}).get("fsync")
        return (w["verdict"]["class"] == "io_disk" and disk is not None and disk["requests"] > 0
                and fsync is not None and fsync["calls"] > 0)

    # 6 windows: on a busy 2-core machine the first ones may still judge it by the run
    # queue it waits in.
    w, ok = harness.wait_for_verdict(agent, "writer", accept, windows=6)
    if not ok:
        harness.fail(f"want io_disk with disk requests and fsync calls measured:\n"
                     f"{harness.describe(w)}\nagent log:\n{agent.read_log()[-2000:]}")
    evidence = w["recommendation"]["evidence"]
    for needle in ("disk request latency (eBPF", "fsync latency (eBPF"):
        if not any(e.startswith(needle) for e in evidence):
            harness.fail(f"the evidence does not cite '{needle}':\n{json.dumps(evidence, indent=2)}")
    disk_count = metric(agent, "boundwise_disk_latency_seconds_count", workload="writer")
    fsync_count = metric(agent, "boundwise_syscall_latency_seconds_count", workload="writer",
                         **{"class": "fsync"})
    if not disk_count or not fsync_count:
        harness.fail(f"/metrics: disk count {disk_count}, fsync count {fsync_count}")
    disk, fsync = w["disk"], w["syscalls"]["classes"]["fsync"]
    print(f"writer: io_disk; disk {disk['requests']} requests p50/p95/p99 "
          f"{disk['latency_seconds']}; fsync {fsync['calls']} calls {fsync['latency_seconds']}")


def case_sleep_class(binary):
    need_root()
    # The sleeper logs how long each of its sleeps took: on a loaded machine a thread
    # wakes late (it waits for a CPU before the syscall returns), and the kernel's
    # number is then rightly above 50 ms; the agent must agree with the sleeper.
    log_path = os.path.join(harness.tempdir(), "sleeps.txt")
    p = harness.start([harness.PYTHON, "-c",
                       "import sys, time\nf = open(sys.argv[1], 'a', buffering=1)\n"
                       "while True:\n t = time.monotonic(); time.sleep(0.05)\n"
                       " f.write(f'{time.monotonic() - t:.6f}\\n')\n", log_path])
    agent = harness.Agent(binary, [{"name": "sleeper", "pid": p.pid}], extra=SYSCALLS_ON)
    need_tools(agent, "syscalls")

    def accept(w):
        s = (w.get("syscalls") or {}).get("classes", {}).get("sleep")
        return s is not None and s["calls"] >= 20

    w, ok = harness.wait_for_verdict(agent, "sleeper", accept)
    if not ok:
        harness.fail(f"no sleep class for a nanosleep loop:\n{harness.describe(w)}")
    s = w["syscalls"]["classes"]["sleep"]
    p95 = s["latency_seconds"]["p95"]
    with open(log_path) as f:
        own = sorted(float(x) for x in f.read().split())  # every sleep so far
    own_p95 = own[max(0, -(-len(own) * 95 // 100) - 1)]
    if own_p95 <= 0.053:  # woken on time: the nominal 50 ms
        if abs(p95 - 0.05) > 0.005:
            harness.fail(f"sleep p95 {p95 * 1e3:.2f} ms, want 50 ms ± 10 %: {s}")
    elif not 0.05 <= p95 <= 1.1 * own[-1]:
        # A loaded machine woke it late; the window's sleeps are not exactly the ones
        # the sleeper logged, so only bound it by what the sleeper saw.
        harness.fail(f"sleep p95 {p95 * 1e3:.2f} ms outside 50 ms … the sleeper's longest "
                     f"{own[-1] * 1e3:.2f} ms: {s}")
    count = metric(agent, "boundwise_syscall_latency_seconds_count", workload="sleeper",
                   **{"class": "sleep"})
    le = metric(agent, "boundwise_syscall_latency_seconds_bucket", workload="sleeper",
                le="0.065536", **{"class": "sleep"})
    low = metric(agent, "boundwise_syscall_latency_seconds_bucket", workload="sleeper",
                 le="0.016384", **{"class": "sleep"})
    # Every sleep between 16.4 and 65.5 ms (most of them when a loaded machine makes
    # some late).
    late = own[-1] >= 0.0655
    if not count or low != 0 or le is None or (le != count if not late else le < 0.8 * count):
        harness.fail(f"/metrics sleep histogram: count {count}, <=65.5 ms {le}, <=16.4 ms {low}")
    print(f"sleeper: sleep class {s['calls']} calls, p50/p95/p99 {s['latency_seconds']}; "
          f"the sleeper's own p95 {own_p95 * 1e3:.2f} ms; /metrics count {count:.0f}")


def case_budget_duty(binary):
    need_root()
    if shutil.which("dd") is None:
        harness.skip("dd is not installed")
    # dd with 1-byte blocks: a read and a write syscall per byte, ~10^6 a second.
    target = harness.start(["dd", "if=/dev/zero", "of=/dev/null", "bs=1"],
                           stderr=subprocess.DEVNULL)
    agent = harness.Agent(binary, [{"name": "dd", "pid": target.pid}],
                          extra="ebpf:\n  budget_cores: 0.00001\n" + SYSCALLS_ON)
    need_tools(agent, "syscalls")

    def accept(w):
        doc = agent.recommend()
        duty = (doc or {}).get("ebpf_duty", {}).get("syscalls")
        ev = w["recommendation"]["evidence"]
        said = any("syscall latency sampled" in e or "syscall latency not measured" in e
                   for e in ev)
        return duty is not None and duty < 1 and said

    w, ok = harness.wait_for_verdict(agent, "dd", accept, windows=6)
    if not ok:
        harness.fail(f"the syscalls tool was not duty-cycled under a 0.00001-core budget:\n"
                     f"{harness.describe(w)}\n{json.dumps(agent.recommend().get('ebpf_duty'))}\n"
                     f"log:\n{agent.read_log()[-3000:]}")
    log = agent.read_log()
    changes = [l for l in log.splitlines() if re.search(r"ebpf_syscalls: .*attached \d+% of the time", l)]
    if not changes:
        harness.fail(f"no duty change logged for ebpf_syscalls:\n{log[-3000:]}")
    status, _ = harness.http_get(agent.base + "/recommend")
    if status != 200:
        harness.fail(f"/recommend answered {status} under the budget")
    runs = metric(agent, "boundwise_ebpf_program_runs_total", program="bw_sys_enter")
    attached = metric(agent, "boundwise_ebpf_tool_attached_seconds_total", tool="syscalls")
    print(f"dd under a 0.00001-core budget: duty {agent.recommend()['ebpf_duty']}; "
          f"log: {changes[0].strip()}; bw_sys_enter runs {runs}; syscalls attached {attached} s; "
          f"evidence: {[e for e in w['recommendation']['evidence'] if 'sampled' in e or 'not measured' in e]}")


def case_sigterm_cleanup(binary):
    need_root()
    if shutil.which("bpftool") is None and not os.path.exists("/usr/sbin/bpftool"):
        harness.skip("bpftool is not installed")
    os.environ["PATH"] += ":/usr/sbin"
    d = harness.tempdir("boundwise-fsync-")
    p = harness.start_workload("fsync_writer.py", d)
    before = bpf_programs()
    agent = harness.Agent(binary, [{"name": "writer", "pid": p.pid}], extra=SYSCALLS_ON)
    need_tools(agent, "syscalls", "disk")
    mine = {i: v for i, v in bpf_programs().items() if i not in before}
    names = sorted(v[0] for v in mine.values())
    for want in ("bw_sys_enter", "bw_sys_exit", "bw_disk_rq_issue"):
        if want not in names:
            harness.fail(f"{want} is not loaded while the agent runs: {names}")
    agent.process.send_signal(signal.SIGTERM)
    try:
        rc = agent.process.wait(10)
    except subprocess.TimeoutExpired:
        harness.fail("the agent did not exit within 10 s of SIGTERM")
    # The kernel frees a detached program after an RCU grace period; the syscall
    # tracepoints' (faultable since 6.13) wait for an RCU Tasks Trace one, which can
    # take a second or more on a busy machine.
    deadline = time.time() + 10
    while True:
        left = {i: v for i, v in bpf_programs().items() if i in mine}
        if not left or time.time() > deadline:
            break
        time.sleep(0.2)
    if left:
        harness.fail(f"programs left loaded after SIGTERM (exit {rc}): {left}")
    print(f"SIGTERM: exit {rc}; {len(mine)} programs loaded while running ({names}), none after")


CASES = {"fsync_writer": case_fsync_writer, "sleep_class": case_sleep_class,
         "budget_duty": case_budget_duty, "sigterm_cleanup": case_sigterm_cleanup}


if __name__ == "__main__":
    harness.run_cases(CASES)
