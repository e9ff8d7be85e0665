"""Bad input, run against the real agent: invalid configs and command lines, garbage
HTTP, a target that exits mid-window, a reused PID, a port already in use, bad
recordings for `boundwise replay` and an unusable `record:` directory. Each must give a
clear error or a clean skip — never a crash, a hang or a wrong answer.

usage: bad_input.py --agent PATH --case NAME
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402

# (config text, expected line, expected column, a phrase the message must contain)
INVALID_CONFIGS = {
    "unknown_key": ('listen: "127.0.0.1:9977"\nwindoww: 10s\n', 2, 1, 'unknown key "windoww"'),
    "wrong_type": ("sample_rate: fast\n", 1, 14, "must be an integer"),
    "bad_duration": ("window: 10 parsecs\n", 1, 9, "bad duration"),
    "bad_regex": ('targets:\n  - name: api\n    comm: "([a-z"\n', 3, 11, "bad regex"),
    "bad_endpoint": ('dependencies:\n  - name: db\n    endpoint: "10.0.0.5:99999"\n', 3, 15,
                     "bad port"),
    "bad_cidr": ('dependencies:\n  - name: db\n    endpoint: "10.0.0.0/33:5432"\n', 3, 15,
                 "prefix length"),
    "yaml_syntax": ("targets: [1, 2\nwindow: 10s\n", None, None, "YAML"),
    "two_selectors": ("targets:\n  - name: api\n    pid: 1\n    comm: x\n", 2, 5,
                      "more than one"),
    "duplicate_target": ("targets:\n  - name: a\n    pid: 1\n  - name: a\n    pid: 2\n", 4, 11,
                         "duplicate target"),
}


def run(args, timeout=10):
    return subprocess.run(args, capture_output=True, text=True, timeout=timeout)


def case_invalid_configs(binary):
    d = harness.tempdir()
    for name, (text, line, col, phrase) in INVALID_CONFIGS.items():
        path = os.path.join(d, f"{name}.yaml")
        with open(path, "w") as f:
            f.write(text)
        for args in ([binary, "--check-config", path],
                     [binary, "--config", path, "--listen", f"127.0.0.1:{harness.free_port()}"]):
            r = run(args)
            if r.returncode != 2:
                harness.fail(f"{name}: {' '.join(args[1:2])} exited {r.returncode}, want 2\n"
                             f"stdout: {r.stdout}\nstderr: {r.stderr}")
            m = re.match(re.escape(path) + r":(\d+):(\d+): (.*)", r.stderr.strip())
            if not m:
                harness.fail(f"{name}: stderr is not FILE:LINE:COL: ...: {r.stderr!r}")
            if line is not None and (int(m.group(1)), int(m.group(2))) != (line, col):
                harness.fail(f"{name}: position {m.group(1)}:{m.group(2)}, want {line}:{col}: "
                             f"{r.stderr.strip()}")
            if phrase not in m.group(3):
                harness.fail(f"{name}: message {m.group(3)!r} lacks {phrase!r}")
            if "listening" in r.stderr:
                harness.fail(f"{name}: the agent started despite the bad config")
        print(f"ok: {name}: {r.stderr.strip()}")
    good = os.path.join(d, "good.yaml")
    with open(good, "w") as f:
        f.write(run([binary, "--print-default-config"]).stdout)
    r = run([binary, "--check-config", good])
    if r.returncode != 0 or "ok" not in r.stdout:
        harness.fail(f"the embedded default does not validate: {r.stdout} {r.stderr}")
    r = run([binary, "--check-config", os.path.join(d, "missing.yaml")])
    if r.returncode != 2 or "cannot read" not in r.stderr:
        harness.fail(f"missing file: exit {r.returncode}, stderr {r.stderr!r}")
    fifo = os.path.join(d, "fifo.yaml")
    os.mkfifo(fifo)
    for path, phrase in ((d, "is a directory"), (fifo, "not a regular file")):
        for args in ([binary, "--check-config", path],
                     [binary, "--config", path, "--listen", f"127.0.0.1:{harness.free_port()}"]):
            r = run(args)  # a FIFO must not hang the read (run() times out after 10 s)
            if r.returncode != 2 or phrase not in r.stderr:
                harness.fail(f"{' '.join(args[1:3])}: exit {r.returncode}, stderr {r.stderr!r}")
    print("ok: default config validates; a missing file, a directory and a FIFO are reported")


def case_cli_errors(binary):
    for args, phrase in ((["--window", "ten"], "--window"),
                         (["--listen", "nowhere"], "--listen"),
                         (["--sample-rate", "0"], "--sample-rate"),
                         (["--no-such-flag"], "no-such-flag")):
        r = run([binary, *args])
        if r.returncode != 2 or phrase not in (r.stderr + r.stdout):
            harness.fail(f"{args}: exit {r.returncode}, stderr {r.stderr!r}")
        print(f"ok: {args}: {r.stderr.strip().splitlines()[0]}")
    r = run([binary, "--help"])
    if r.returncode != 0 or "--config" not in r.stdout:
        harness.fail(f"--help: exit {r.returncode}: {r.stdout}")


def case_replay_errors(binary):
    """boundwise replay: a missing path, a directory without recordings, a malformed,
    a truncated and a binary line each exit 2 with the path (and FILE:LINE) and what
    is wrong; a good recording replays with exit 0; the agent's flags still work."""
    d = harness.tempdir()
    golden = os.path.join(harness.REPO, "tests", "golden", "recordings", "cpu_single")
    with open(os.path.join(golden, "recording.jsonl")) as f:
        good = f.readline()
    files = {"bad_field.jsonl": good + good.replace('"window":', '"window":"x","w":', 1),
             "cut.jsonl": good + good[:len(good) // 2],
             "binary.jsonl": "\x00\x01\xfe garbage\n"}
    for name, text in files.items():
        with open(os.path.join(d, name), "w", errors="surrogateescape") as f:
            f.write(text)
    os.mkdir(os.path.join(d, "empty"))
    cases = [
        ([os.path.join(d, "missing")], "missing: No such file or directory"),
        ([os.path.join(d, "empty")], "no *.jsonl recording"),
        ([os.path.join(d, "bad_field.jsonl")], "bad_field.jsonl:2: window: expected"),
        ([os.path.join(d, "cut.jsonl")], "cut.jsonl:2: not a JSON value (the last line has no newline"),
        ([os.path.join(d, "binary.jsonl"), "--json"], "binary.jsonl:1: not a JSON value"),
        ([], "DIR_OR_FILE is required"),
    ]
    for args, phrase in cases:
        r = run([binary, "replay", *args])
        if r.returncode != 2 or phrase not in r.stderr:
            harness.fail(f"replay {args}: exit {r.returncode} (want 2), stderr {r.stderr!r} "
                         f"lacks {phrase!r}")
        print(f"ok: replay {' '.join(os.path.basename(a) for a in args)}: "
              f"{r.stderr.strip().splitlines()[0]}")
    r = run([binary, "replay", golden])
    if r.returncode != 0 or "cpu: cpu_bound" not in r.stdout:
        harness.fail(f"replay of the golden cpu_single: exit {r.returncode}: {r.stdout} {r.stderr}")
    r = run([binary, "replay", "--json", golden])
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    if r.returncode != 0 or not lines or lines[0]["workloads"][0]["class"] != "cpu_bound":
        harness.fail(f"replay --json: exit {r.returncode}: {r.stdout} {r.stderr}")
    print(f"ok: a good recording replays ({len(lines)} windows)")
    r = run([binary, "--version"])
    if r.returncode != 0 or not r.stdout.startswith("boundwise "):
        harness.fail(f"--version beside the replay subcommand: {r.returncode} {r.stdout}")


def case_record_dir(binary):
    """record: an unusable directory stops the start (exit 1, what is wrong with the
    path); a usable one is created and gets one line per window, which replays to the
    verdict the agent published."""
    d = harness.tempdir()
    not_dir = os.path.join(d, "file")
    with open(not_dir, "w") as f:
        f.write("x")
    for path, phrase in ((not_dir, "exists and is not a directory"),
                         (os.path.join(not_dir, "sub"), "cannot create the directory")):
        config = os.path.join(d, "c.yaml")
        with open(config, "w") as f:
            f.write(f'listen: "127.0.0.1:{harness.free_port()}"\nrecord: {path}\n')
        r = run([binary, "--config", config])
        if r.returncode != 1 or phrase not in r.stderr or path not in r.stderr:
            harness.fail(f"record: {path}: exit {r.returncode} (want 1), stderr {r.stderr!r}")
        print(f"ok: {r.stderr.strip().splitlines()[-1]}")

    rec = os.path.join(d, "rec", "deeper")
    p = harness.start_workload("cpu_single.py")
    agent = harness.Agent(binary, [{"name": "cpu", "pid": p.pid}], extra=f"record: {rec}")
    w, ok = harness.wait_for_verdict(agent, "cpu", lambda w: True)
    if not ok:
        harness.fail("no verdict while recording")
    doc, w = agent.workload("cpu")
    number, live = doc["windows_completed"], w["verdict"]["class"]
    metrics = harness.http_get(agent.base + "/metrics")[1]
    if 'boundwise_dropped_total{what="records"} 0' not in metrics:
        harness.fail("boundwise_dropped_total{what=\"records\"} is not 0 while recording works")
    # No wait: the agent appends a window's line (write(2), no buffer) before it
    # publishes the window (Agent::Impl::close_window), so window `number` is on disk.
    r = run([binary, "replay", "--json", rec])
    windows = {x["window"]: x for x in map(json.loads, r.stdout.splitlines())}
    if r.returncode != 0 or number not in windows:
        harness.fail(f"replay of the live recording: exit {r.returncode}, windows "
                     f"{sorted(windows)} (want {number}): {r.stderr}")
    replayed = windows[number]["workloads"][0]["class"]
    if replayed != live:
        harness.fail(f"window {number}: replayed as {replayed}, the agent said {live}")
    print(f"ok: {len(windows)} windows recorded; window {number} replays as {replayed}, "
          "as the agent said")


def raw_request(port, data, read_timeout=10):
    """Sends raw bytes; returns the status code of the reply (0 if none) and whether the
    server closed the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=read_timeout) as s:
        if data:
            s.sendall(data)
        chunks = []
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except socket.timeout:
            return 0, False
        reply = b"".join(chunks).decode(errors="replace")
        m = re.match(r"HTTP/1\.[01] (\d{3})", reply)
        return (int(m.group(1)) if m else 0), True


def case_garbage_http(binary):
    agent = harness.Agent(binary, [])
    cases = [
        ("random bytes", os.urandom(512) + b"\r\n\r\n", {400}),
        ("bad request line", b"HELLO\r\n\r\n", {400}),
        ("huge header", b"GET / HTTP/1.1\r\nX-A: " + b"a" * 100000 + b"\r\n\r\n", {400, 431}),
        ("huge body", b"POST /recommend HTTP/1.1\r\nContent-Length: 10000000\r\n\r\n" +
         b"x" * 70000, {413}),
        ("bad percent-encoding", b"GET /recommend?workload=%zz HTTP/1.1\r\nConnection: close"
         b"\r\n\r\n", {400}),
        ("unknown path", b"GET /nope HTTP/1.1\r\nConnection: close\r\n\r\n", {404}),
        ("wrong method", b"DELETE /metrics HTTP/1.1\r\nConnection: close\r\n\r\n", {405}),
    ]
    for name, data, want in cases:
        status, closed = raw_request(agent.port, data)
        if status not in want or not closed:
            harness.fail(f"{name}: status {status} (want {want}), closed={closed}")
        print(f"ok: {name}: {status}")
    # A client that sends half a request and stalls gets 408 after the read timeout.
    start = time.time()
    status, closed = raw_request(agent.port, b"GET /metrics HTTP/1.1\r\nHost: x", read_timeout=15)
    if status != 408 or not closed or time.time() - start > 12:
        harness.fail(f"slow request: status {status}, closed={closed}, "
                     f"after {time.time() - start:.1f} s")
    print(f"ok: slow request: 408 after {time.time() - start:.1f} s")
    # Connection cap: 64 idle connections are held open; the next one gets 503.
    idle = [socket.create_connection(("127.0.0.1", agent.port)) for _ in range(64)]
    # Until the server has accepted all 64: before that, the next one is served (and,
    # asking to close, closed); then it gets 503.
    answers = []

    def refused():
        answers.append(raw_request(agent.port,
                                   b"GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n"))
        return answers[-1][0] == 503

    harness.wait_until(refused, 10, 0.1)
    status, closed = answers[-1]
    for s in idle:
        s.close()
    if status != 503 or not closed:
        harness.fail(f"65th connection: status {status} (want 503), closed={closed}")
    print("ok: connection cap: 503 beyond 64 connections")
    # Until the server has seen the 64 leave and serves again.
    if not harness.wait_until(lambda: harness.http_get(agent.base + "/healthz")[0] == 200, 10):
        harness.fail("the agent stopped answering after garbage input")
    if agent.process.poll() is not None:
        harness.fail(f"the agent exited: {agent.read_log()}")
    print("ok: still healthy")


def case_target_exits(binary):
    p = harness.start_workload("cpu_single.py")
    agent = harness.Agent(binary, [{"name": "doomed", "pid": p.pid}], window="2s")
    w, ok = harness.wait_for_verdict(agent, "doomed", lambda w: True)
    if not ok:
        harness.fail("no verdict for the target before it exits")
    time.sleep(0.9)  # mid-window
    harness.stop(p)
    # A configured target whose process is gone stays visible, absent, for alerting:
    # boundwise_target_up 0 and no other series of it.
    deadline = time.time() + 2 * 2 + 3
    metrics = ""
    while time.time() < deadline:
        doc, w = agent.workload("doomed")
        if w is not None and w.get("state") == "absent":
            metrics = harness.http_get(agent.base + "/metrics")[1] or ""
            others = [line for line in metrics.splitlines()
                      if 'workload="doomed"' in line and not line.startswith("boundwise_target_up")]
            if 'boundwise_target_up{workload="doomed"} 0' not in metrics or others:
                time.sleep(0.25)
                continue
            if w["verdict"] is not None or w["pids"] or not w["absent_since"]:
                harness.fail(f"an absent target still carries a verdict or pids:\n{harness.describe(w)}")
            status, _ = harness.http_get(agent.base + "/recommend?workload=doomed")
            if status != 200:
                harness.fail(f"/recommend?workload=doomed answered {status} for an absent target")
            print(f"ok: the exited target is reported absent since {w['absent_since']}, "
                  "boundwise_target_up 0, its other series gone")
            if agent.process.poll() is not None:
                harness.fail("agent died")
            return
        time.sleep(0.25)
    harness.fail(f"the exited target is not reported absent:\n{harness.describe(w)}\n"
                 f"{[l for l in metrics.splitlines() if 'doomed' in l]}")


def case_stopped_target(binary):
    # A target stopped by SIGSTOP (as a debugger would hold it) is said to be stopped,
    # not classified idle; SIGCONT brings its verdict back.
    p = harness.start_workload("cpu_single.py")
    agent = harness.Agent(binary, [{"name": "frozen", "pid": p.pid}], window="1s")
    w, ok = harness.wait_for_verdict(agent, "frozen", lambda w: True)
    if not ok:
        harness.fail("no verdict before the stop")
    os.kill(p.pid, signal.SIGSTOP)
    try:
        w = harness.wait_until(lambda: (agent.workload("frozen")[1] or {}).get("state") == "stopped"
                               and agent.workload("frozen")[1], timeout=6)
        if not w:
            harness.fail(f"a stopped target is not reported stopped:\n{harness.describe(agent.workload('frozen')[1])}")
        if w["verdict"] is not None or "SIGCONT" not in (w["state_detail"] or ""):
            harness.fail(f"a stopped target carries a verdict or no advice:\n{harness.describe(w)}")
        metrics = harness.http_get(agent.base + "/metrics")[1] or ""
        if 'boundwise_workload_stopped{workload="frozen"} 1' not in metrics or \
                'boundwise_target_up{workload="frozen"} 1' not in metrics:
            harness.fail("boundwise_workload_stopped 1 / boundwise_target_up 1 missing")
    finally:
        os.kill(p.pid, signal.SIGCONT)
    w, ok = harness.wait_for_verdict(agent, "frozen",
                                     lambda w: w["state"] == "running" and w["verdict"]["class"] != "idle")
    if not ok:
        harness.fail(f"no verdict after SIGCONT:\n{harness.describe(w)}")
    print(f"ok: stopped while stopped ({w['verdict']['class']} again after SIGCONT)")


def case_zombie_target(binary):
    # A target that exited but whose parent never reaps it: defunct, no live process.
    parent = harness.start([harness.PYTHON, "-c",
                            "import os, time, sys\n"
                            "pid = os.fork()\n"
                            "if pid == 0:\n    os._exit(0)\n"
                            "print(pid, flush=True)\n"
                            "time.sleep(60)\n"], stdout=subprocess.PIPE)
    child = int(parent.stdout.readline())
    agent = harness.Agent(binary, [{"name": "ghost", "pid": child}], window="1s")
    w = harness.wait_until(lambda: (agent.workload("ghost")[1] or {}).get("state") == "defunct"
                           and agent.workload("ghost")[1], timeout=6)
    if not w:
        harness.fail(f"a zombie target is not reported defunct:\n{harness.describe(agent.workload('ghost')[1])}")
    metrics = harness.http_get(agent.base + "/metrics")[1] or ""
    if 'boundwise_target_up{workload="ghost"} 0' not in metrics:
        harness.fail("a zombie target is reported up")
    print(f"ok: {w['state_detail']}")
    harness.stop(parent)


def case_pid_reuse(binary):
    # A pid selector names a process that has exited. New processes (one of which may
    # get the same PID) must never be reported as that target: identity is (pid, start
    # time), pinned at the first scan.
    p = harness.start(["sleep", "0.1"])
    pid = p.pid
    p.wait()
    agent = harness.Agent(binary, [{"name": "gone", "pid": pid}])
    children = [harness.start(["sleep", "30"]) for _ in range(50)]
    reused = any(c.pid == pid for c in children)
    # Two windows closed after the children started (discovery scans every second
    # meanwhile): the agent had every chance to adopt one.
    def windows():
        return (agent.recommend() or {}).get("windows_completed", 0)

    first = windows()
    if not harness.wait_until(lambda: windows() >= first + 2, 15, 0.25):
        harness.fail(f"windows stopped closing:\n{agent.read_log()[-2000:]}")
    doc, w = agent.workload("gone")
    if w is None or w.get("state") != "absent" or w["pids"]:
        harness.fail(f"a dead pid's selector is not reported absent:\n{harness.describe(w)}")
    print(f"ok: no process reported as the exited target, which is absent (pid reused: {reused})")
    # And a live target whose PID gets reused after it exits: the new process with the
    # same PID but another start time is not adopted. Checked through discovery's unit
    # tests (tests/unit/daemon/discovery_test.cpp) where the PID can be forced.
    for c in children:
        harness.stop(c)


def case_port_in_use(binary):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = run([binary, "--listen", f"127.0.0.1:{port}"])
        if r.returncode != 1 or "Address already in use" not in r.stderr:
            harness.fail(f"port in use: exit {r.returncode}: {r.stderr}")
        print(f"ok: {r.stderr.strip().splitlines()[-1]}")


CASES = {name[len("case_"):]: fn for name, fn in globals().items() if name.startswith("case_")}


if __name__ == "__main__":
    harness.run_cases(CASES)
