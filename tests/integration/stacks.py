"""The stacks collector against a real target: tests/workloads/stack_chain.c, built
-O2 -fomit-frame-pointer (so only DWARF call-frame information unwinds it), spins in
main -> chain_one -> chain_two -> chain_three -> chain_four. Needs perf_event_open on
the target (root here; skips with the reason when the collector reports itself down).

  chain             /profile?type=cpu names the chain in order in >= 90 % of the
                    samples; the flame graph and the metrics show it too
  threads_followed  threads the target starts after it is sampled are sampled too
                    (their stacks pass through thread_main, the main thread's do not)
  target_execs      the target execs (itself, anew) mid-capture: the agent goes on
                    sampling the same process, and the new image's stacks unwind
  target_exits      the target exits during the capture: the agent keeps answering,
                    its profile stays served until the workload goes, no crash
  offcpu_ipc        tests/workloads/offcpu_chain.c: a thread blocked in a pipe read under
                    thread_main -> worker_loop -> wait_input -> read_input shows up in
                    /profile?type=offcpu&reason=ipc under the [ipc] root with that chain in
                    order, weighed by the time it is blocked; /recommend's top_stacks
                    give that chain, leaf first, as the top ipc stack
  offcpu_psycopg2   tests/workloads/pg_threads.py (Debian's python3 and python3-psycopg2),
                    one thread in cursor.execute("SELECT pg_sleep(1)") on a private
                    PostgreSQL 15 named orders-db by the config: its waits show up in
                    /profile?type=offcpu&reason=net under [net orders-db], whole (libpq
                    keeps frame pointers: unwound with the frame pointer found in the
                    stack), root to leaf the Python caller (query_forever), psycopg2's
                    native code, libpq's PQgetResult and its frames down to poll.
                    Skipped without PostgreSQL 15 or psycopg2
  python_3_9, python_3_10, python_3_11, python_3_12, python_3_13, python_debian
                    tests/workloads/py_chain.py (outer_step -> middle_step -> inner_spin,
                    4 threads) on pyenv's CPython 3.X or Debian's stripped python3:
                    on-CPU stacks carry the chain's Python frames in order with the
                    file's name, spliced into the native stack (or alone, under
                    [python]); /profile?type=gil names inner_spin as the GIL holder; with a
                    gil_contended verdict, /recommend's top stack is that GIL holder.
                    Skipped when the interpreter is not installed

usage: stacks.py --agent PATH --chain PATH --offcpu-chain PATH --case NAME
"""
import argparse
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402
import run_case  # noqa: E402  (start_postgres)

CHAIN = ["main", "chain_one", "chain_two", "chain_three", "chain_four"]
EXTRA = "collectors:\n  stacks: {enabled: true}\nstacks:\n  frequency_hz: 49"


def folded(agent, workload, query="type=cpu"):
    """{stack: count} of the workload's profile, or None when there is none (yet)."""
    status, body = harness.http_get(f"{agent.base}/profile?workload={workload}&{query}")
    if status != 200:
        return None
    out = {}
    for line in body.splitlines():
        stack, _, count = line.rpartition(" ")
        out[stack] = out.get(stack, 0) + int(count)
    return out


def wait_for_count(agent, workload, count, timeout, query="type=cpu"):
    """The workload's profile once it holds `count` or more (samples, or milliseconds
    blocked off-CPU), or None after `timeout` seconds."""
    def enough():
        f = folded(agent, workload, query)
        return f if f and sum(f.values()) >= count else None
    return harness.wait_until(enough, timeout=timeout, interval=0.5)


def has_chain(stack, chain=None):
    chain = chain or CHAIN
    frames = stack.split(";")
    for i in range(len(frames) - len(chain) + 1):
        if frames[i:i + len(chain)] == chain:
            return True
    return False


def start_agent(binary, pid, extra=EXTRA, dependencies=None):
    agent = harness.Agent(binary, [{"name": "chain", "pid": pid}], window="1s", extra=extra,
                          dependencies=dependencies)
    down = re.search(r"collector stacks: down: (.*)", agent.read_log())
    if down:
        harness.skip(f"the stacks collector cannot run here: {down.group(1)}")
    return agent


def case_chain(binary, chain):
    target = harness.start([chain])
    agent = start_agent(binary, target.pid)
    try:
        stacks = wait_for_count(agent, "chain", 150, timeout=30)
        if not stacks:
            harness.fail(f"fewer than 150 samples in 30 s: {folded(agent, 'chain')}\n"
                         f"{agent.read_log()}")
        total = sum(stacks.values())
        good = sum(n for s, n in stacks.items() if has_chain(s))
        top = sorted(stacks.items(), key=lambda kv: -kv[1])[:5]
        print(f"{good}/{total} samples name the chain; top stacks: {top}")
        if good < 0.9 * total:
            harness.fail(f"only {good}/{total} samples name {';'.join(CHAIN)} in order: {top}")
        status, svg = harness.http_get(
            f"{agent.base}/profile?workload=chain&type=cpu&format=svg")
        if status != 200 or "<title>chain_four (" not in svg or not svg.rstrip().endswith("</svg>"):
            harness.fail(f"no flame graph with chain_four: {status} {svg[:300]}")
        metrics = harness.http_get(agent.base + "/metrics")[1]
        samples = re.search(
            r'boundwise_profile_samples_total\{type="cpu",workload="chain"\} ([0-9.e+]+)', metrics)
        seconds = re.search(r"boundwise_unwind_seconds_total ([0-9.e+-]+)", metrics)
        if not samples or float(samples.group(1)) <= 0 or not seconds \
                or float(seconds.group(1)) <= 0:
            harness.fail("boundwise_profile_samples_total or boundwise_unwind_seconds_total "
                         "did not grow")
        per_sample = float(seconds.group(1)) / float(samples.group(1))
        print(f"unwinding cost {per_sample * 1e6:.0f} us per sample (ELF reads included)")
    finally:
        agent.stop()
        harness.stop(target)


def case_threads_followed(binary, chain):
    # Two more threads, started 1 s after the process (so after the agent attached).
    target = harness.start([chain, "0", "2"])
    agent = start_agent(binary, target.pid)
    try:
        def both():
            f = folded(agent, "chain") or {}
            # Debian's libc has no symbol for start_thread (stripped): thread_main is ours.
            threads = sum(n for s, n in f.items()
                          if "thread_main;chain_one;chain_two;chain_three;chain_four" in s)
            main = sum(n for s, n in f.items() if has_chain(s))
            return (threads, main) if threads >= 40 and main >= 10 else None
        found = harness.wait_until(both, timeout=30, interval=0.5)
        if not found:
            harness.fail(f"new threads not sampled: {folded(agent, 'chain')}")
        print(f"{found[0]} samples of the new threads, {found[1]} of the main thread")
    finally:
        agent.stop()
        harness.stop(target)


def case_target_execs(binary, chain):
    # 3 s, then exec of the same program anew (same pid and start time, a new image).
    target = harness.start([chain, "3", "0", chain, "0"])
    agent = start_agent(binary, target.pid)
    try:
        def execed():
            try:
                with open(f"/proc/{target.pid}/cmdline", "rb") as f:
                    return f.read().split(b"\0")[1] == b"0"
            except (OSError, IndexError):
                return False
        if not harness.wait_until(execed, timeout=20, interval=0.1):
            harness.fail("the target did not exec")
        before = folded(agent, "chain") or {}
        after = wait_for_count(agent, "chain", sum(before.values()) + 80, timeout=30)
        if not after:
            harness.fail(f"no new samples after the exec:\n{agent.read_log()}")
        new = {s: n - before.get(s, 0) for s, n in after.items() if n > before.get(s, 0)}
        total = sum(new.values())
        good = sum(n for s, n in new.items() if has_chain(s))
        print(f"after the exec: {good}/{total} new samples name the chain")
        # The first second after an exec may unwind with the old maps (read again every
        # second): most, not all, samples must come out whole.
        if good < 0.7 * total:
            harness.fail(f"after the exec only {good}/{total} samples name the chain: {new}")
        if agent.process.poll() is not None:
            harness.fail(f"the agent exited:\n{agent.read_log()}")
    finally:
        agent.stop()
        harness.stop(target)


def case_target_exits(binary, chain):
    # Runs 4 s of wall time then exits on its own, mid-capture, while sampled.
    target = harness.start([chain, "4"])
    agent = start_agent(binary, target.pid)
    try:
        if not harness.wait_until(lambda: (folded(agent, "chain") or {}), timeout=20,
                                  interval=0.2):
            harness.fail("no samples before the target exited\n" + agent.read_log())
        target.wait(timeout=20)
        # Several windows after the exit: the agent answers every endpoint, and the
        # workload leaves (a pid target with no process is reported absent).
        gone = harness.wait_until(
            lambda: harness.http_get(f"{agent.base}/profile?workload=chain")[0] == 404,
            timeout=15, interval=0.2)
        for path in ("/healthz", "/metrics", "/recommend"):
            status, _ = harness.http_get(agent.base + path)
            if status != 200:
                harness.fail(f"{path} answered {status} after the target exited")
        if agent.process.poll() is not None:
            harness.fail(f"the agent exited ({agent.process.returncode}):\n{agent.read_log()}")
        if not gone:
            harness.fail("/profile still serves the exited workload after 15 s")
        print("the target exited during the capture; the agent kept answering")
    finally:
        agent.stop()
        harness.stop(target)


OFFCPU_CHAIN = ["thread_main", "worker_loop", "wait_input", "read_input"]


def case_offcpu_ipc(binary, _chain, offcpu_chain):
    target = harness.start([offcpu_chain])
    agent = start_agent(binary, target.pid,
                        "collectors:\n  stacks: {enabled: true}\nstacks:\n  offcpu_hz: 5")
    try:
        # 5 rounds a second of 200 ms each: 3 s of blocked time is 15 stacks or more.
        stacks = wait_for_count(agent, "chain", 3000, timeout=30, query="type=offcpu&reason=ipc")
        if not stacks:
            harness.fail(f"under 3 s of ipc waits in 30 s: "
                         f"{folded(agent, 'chain', 'type=offcpu')}\n{agent.read_log()}")
        total = sum(stacks.values())
        good = sum(n for s, n in stacks.items()
                   if s.startswith("[ipc];") and has_chain(s, OFFCPU_CHAIN))
        top = sorted(stacks.items(), key=lambda kv: -kv[1])[:3]
        print(f"{good}/{total} ms of ipc waits name the chain; top stacks: {top}")
        if good < 0.9 * total:
            harness.fail(f"only {good}/{total} ms of ipc waits name "
                         f"{';'.join(OFFCPU_CHAIN)} in order: {top}")
        everything = folded(agent, "chain", "type=offcpu") or {}
        if any(s.startswith("[idle]") for s in everything):
            harness.fail(f"idle waits were copied: {everything}")
        status, svg = harness.http_get(
            f"{agent.base}/profile?workload=chain&type=offcpu&format=svg")
        if status != 200 or "<title>read_input (" not in svg:
            harness.fail(f"no off-CPU flame graph with read_input: {status} {svg[:300]}")
        status, _ = harness.http_get(f"{agent.base}/profile?workload=chain&type=offcpu&reason=x")
        if status != 400:
            harness.fail(f"reason=x answered {status}, not 400")

        def top_stacks():
            doc = json.loads(harness.http_get(f"{agent.base}/recommend?workload=chain")[1])
            top = doc["workloads"][0].get("top_stacks")
            return top if top else None
        top = harness.wait_until(top_stacks, timeout=10, interval=0.5)
        if not top:
            harness.fail("no top_stacks in /recommend")
        print(f"top stacks: {[t['text'] for t in top]}")
        first = top[0]
        if first["type"] != "offcpu" or first["reason"] != "ipc" \
                or first["frames"] != ["read", "read_input", "wait_input", "worker_loop"] \
                or first["share"] < 0.9:
            harness.fail(f"the top stack is not the ipc chain: {top}")
    finally:
        agent.stop()
        harness.stop(target)


def psycopg2_frame(frame):
    # Debian's _psycopg exports _pq_execute_sync; its static functions are [file] frames.
    return "_psycopg" in frame or frame.startswith(("_pq_execute", "pq_execute", "curs_execute"))


def psycopg2_chain(stack):
    """Whether a folded stack is whole (no [partial]: libpq's frame-pointer frames were
    unwound too) and has, root to leaf, query_forever's Python frame, psycopg2's native
    frames, libpq's PQgetResult (or PQexec) and libpq's own frames down to poll."""
    frames = stack.split(";")
    if "[partial]" in frames or frames[-1] not in ("poll", "__poll", "[libc.so.6]"):
        return False
    caller = next((i for i, f in enumerate(frames)
                   if f.startswith("query_forever (") and "pg_threads.py:" in f), None)
    if caller is None:
        return False
    driver = next((i for i in range(caller + 1, len(frames)) if psycopg2_frame(frames[i])), None)
    if driver is None:
        return False
    api = next((i for i in range(driver + 1, len(frames))
                if frames[i] in ("PQgetResult", "PQexec")), None)
    return api is not None and any(f.startswith("[libpq.so") for f in frames[api + 1:])


def case_offcpu_psycopg2(binary):
    _, port = run_case.start_postgres()
    target = harness.start_workload("pg_threads.py", port, 1, 1.0)
    agent = start_agent(binary, target.pid,
                        "collectors:\n  stacks: {enabled: true}\nstacks:\n  offcpu_hz: 5",
                        dependencies=[("orders-db", f"127.0.0.1:{port}")])
    try:
        # One thread blocked ~100 % of the time: 3 s of net waits within a few seconds.
        stacks = wait_for_count(agent, "chain", 3000, timeout=30, query="type=offcpu&reason=net")
        if not stacks:
            harness.fail(f"under 3 s of net waits in 30 s: "
                         f"{folded(agent, 'chain', 'type=offcpu')}\n{agent.read_log()}")
        total = sum(stacks.values())
        good = sum(n for s, n in stacks.items()
                   if s.startswith("[net orders-db];") and psycopg2_chain(s))
        top = sorted(stacks.items(), key=lambda kv: -kv[1])[:3]
        print(f"{good}/{total} ms of net waits are under [net orders-db] in "
              f"query_forever -> psycopg2 -> PQgetResult -> libpq -> poll; top stacks: {top}")
        if good < 0.8 * total:
            harness.fail(f"only {good}/{total} ms of net waits name orders-db and "
                         f"query_forever -> psycopg2 -> PQgetResult -> libpq -> poll: {top}")
    finally:
        agent.stop()
        harness.stop(target)


PY_CHAIN = ["outer_step", "middle_step", "inner_spin"]


def python_names(stack):
    """The Python frames of a folded stack as (name, file, line), root first."""
    out = []
    for frame in stack.split(";"):
        m = re.fullmatch(r"(.+) \((.+):(\d+)\)", frame)
        if m:
            out.append((m.group(1), m.group(2), int(m.group(3))))
    return out


def has_py_chain(stack):
    frames = python_names(stack)
    names = [f[0] for f in frames]
    for i in range(len(names) - len(PY_CHAIN) + 1):
        if names[i:i + len(PY_CHAIN)] == PY_CHAIN:
            return all(f[1].endswith("/py_chain.py") for f in frames[i:i + len(PY_CHAIN)])
    return False


def case_python(binary, python):
    if not os.access(python, os.X_OK):
        harness.skip(f"{python} is not installed")
    target = harness.start([python, os.path.join(harness.WORKLOADS, "py_chain.py"), "4"])
    agent = start_agent(binary, target.pid)
    try:
        stacks = wait_for_count(agent, "chain", 60, timeout=20)
        if not stacks:
            harness.fail(f"fewer than 60 samples in 20 s: {folded(agent, 'chain')}\n"
                         f"{agent.read_log()}")
        total = sum(stacks.values())
        good = sum(n for s, n in stacks.items() if has_py_chain(s))
        spliced = sum(n for s, n in stacks.items()
                      if has_py_chain(s) and not s.startswith("[python]"))
        top = sorted(stacks.items(), key=lambda kv: -kv[1])[:3]
        print(f"{good}/{total} on-CPU samples name the Python chain ({spliced} spliced into "
              f"the native stack); top: {top}")
        if good < 0.8 * total:
            harness.fail(f"only {good}/{total} samples name {' -> '.join(PY_CHAIN)}: {top}")
        if spliced == 0:
            harness.fail("no sample has its Python frames spliced into the native stack")
        gil = wait_for_count(agent, "chain", 10, timeout=10, query="type=gil")
        if not gil:
            harness.fail(f"no GIL holder stacks: {folded(agent, 'chain', 'type=gil')}")
        held = sum(gil.values())
        spinning = sum(n for s, n in gil.items()
                       if has_py_chain(s) and python_names(s)[-1][0] == "inner_spin")
        print(f"{spinning}/{held} GIL-held probes: inner_spin holds it")
        if spinning < 0.8 * held:
            harness.fail(f"the GIL holder is not inner_spin in {held - spinning}/{held}: {gil}")

        def gil_top():
            doc = json.loads(harness.http_get(f"{agent.base}/recommend?workload=chain")[1])
            w = doc["workloads"][0]
            return w if w.get("top_stacks") else None
        w = harness.wait_until(gil_top, timeout=10, interval=0.5)
        if not w:
            harness.fail("no top_stacks in /recommend")
        verdict = (w.get("verdict") or {}).get("class")
        print(f"verdict {verdict}; top stacks: {[t['text'] for t in w['top_stacks']]}")
        if verdict == "gil_contended":
            first = w["top_stacks"][0]
            if first["type"] != "gil" or not first["frames"][0].startswith("inner_spin (py_chain"):
                harness.fail(f"the top stack is not inner_spin holding the GIL: {first}")
    finally:
        agent.stop()
        harness.stop(target)


PYTHONS = {
    "python_3_9": os.path.join(os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv")),
                               "versions", "3.9.18", "bin", "python3.9"),
    "python_3_10": os.path.join(os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv")),
                                "versions", "3.10.13", "bin", "python3.10"),
    "python_3_11": os.path.join(os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv")),
                                "versions", "3.11.7", "bin", "python3.11"),
    "python_3_12": os.path.join(os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv")),
                                "versions", "3.12.1", "bin", "python3.12"),
    "python_3_13": os.path.join(os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv")),
                                "versions", "3.13.0", "bin", "python3.13"),
    "python_debian": "/usr/bin/python3.11",
}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--agent", required=True)
    parser.add_argument("--chain", required=True)
    parser.add_argument("--offcpu-chain", required=True)
    cases = {"chain": case_chain, "threads_followed": case_threads_followed,
             "target_execs": case_target_execs, "target_exits": case_target_exits}
    parser.add_argument("--case", required=True,
                        choices=sorted(cases) + ["offcpu_ipc", "offcpu_psycopg2"] +
                        sorted(PYTHONS))
    args = parser.parse_args()
    if args.case in PYTHONS:
        case_python(args.agent, PYTHONS[args.case])
    elif args.case == "offcpu_psycopg2":
        case_offcpu_psycopg2(args.agent)
    elif args.case == "offcpu_ipc":
        case_offcpu_ipc(args.agent, args.chain, args.offcpu_chain)
    else:
        cases[args.case](args.agent, args.chain)
    print(f"PASS: {args.case}")
