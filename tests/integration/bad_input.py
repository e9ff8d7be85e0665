"""Bad input, run against the real agent: invalid configs and command lines, garbage
HTTP, a target that exits mid-window, a reused PID, a port already in use. Each must
give a clear error or a clean skip — never a crash, a hang or a wrong answer.

usage: bad_input.py --agent PATH --case NAME
"""
import os
import re
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
    time.sleep(0.3)
    status, closed = raw_request(agent.port, b"GET /healthz HTTP/1.1\r\n\r\n")
    for s in idle:
        s.close()
    if status != 503 or not closed:
        harness.fail(f"65th connection: status {status} (want 503), closed={closed}")
    print("ok: connection cap: 503 beyond 64 connections")
    time.sleep(0.3)
    if harness.http_get(agent.base + "/healthz")[0] != 200:
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
    deadline = time.time() + 2 * 2 + 3
    while time.time() < deadline:
        doc, w = agent.workload("doomed")
        if doc is not None and w is None:
            metrics = harness.http_get(agent.base + "/metrics")[1]
            if 'workload="doomed"' in metrics:
                time.sleep(0.5)
                continue
            print("ok: the workload left /recommend and /metrics after its process exited")
            if agent.process.poll() is not None:
                harness.fail("agent died")
            return
        time.sleep(0.25)
    harness.fail(f"the exited workload is still reported:\n{harness.describe(w)}")


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
    time.sleep(5)
    doc, w = agent.workload("gone")
    if w is not None:
        harness.fail(f"a dead pid's selector matched a new process:\n{harness.describe(w)}")
    print(f"ok: no process reported as the exited target (pid reused: {reused})")
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
