"""Lifecycle against the real binary: systemd readiness over a real NOTIFY_SOCKET
(READY=1 only once a window is classified, RELOADING/READY on SIGHUP, STOPPING on
SIGTERM), SIGTERM with a stalled client connected: exit 0 within 5 s, and the
build's identity: `--version` and boundwise_build_info say the same version, commit,
build type and compiler, and the commit is the checkout's.

usage: lifecycle.py --agent PATH --case sd_notify|sigterm_with_clients|version
"""
import os
import re
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402


def write_config(d, port, window="2s"):
    path = os.path.join(d, "boundwise.yaml")
    with open(path, "w") as f:
        f.write(f'listen: "127.0.0.1:{port}"\nwindow: {window}\n')
    return path


def case_sd_notify(binary):
    d = harness.tempdir("boundwise-notify-")
    sock_path = os.path.join(d, "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(sock_path)
    sock.settimeout(0.2)
    port = harness.free_port()
    config = write_config(d, port)
    log = open(os.path.join(d, "agent.log"), "w")
    t0 = time.time()
    p = harness.start([binary, "--config", config], stdout=log, stderr=subprocess.STDOUT,
                      env=dict(os.environ, NOTIFY_SOCKET=sock_path))
    messages = []

    def receive_until(phrase, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                messages.append(sock.recv(4096).decode())
            except socket.timeout:
                continue
            if phrase in messages[-1]:
                return time.time()
        return None

    ready_at = receive_until("READY=1", 10)
    if ready_at is None:
        harness.fail(f"no READY=1 within 10 s; got {messages}")
    # Ready means classified: not before the first 2 s window closed.
    if ready_at - t0 < 1.5:
        harness.fail(f"READY=1 after {ready_at - t0:.2f} s, before the first window closed")
    status = harness.http_get(f"http://127.0.0.1:{port}/readyz")[0]
    if status != 200:
        harness.fail(f"READY=1 sent but /readyz is {status}")
    p.send_signal(signal.SIGHUP)
    if receive_until("RELOADING=1", 5) is None or receive_until("READY=1", 5) is None:
        harness.fail(f"SIGHUP: want RELOADING=1 then READY=1; got {messages}")
    p.send_signal(signal.SIGTERM)
    if receive_until("STOPPING=1", 5) is None:
        harness.fail(f"SIGTERM: no STOPPING=1; got {messages}")
    if p.wait(5) != 0:
        harness.fail(f"exit code {p.returncode}")


def case_sigterm_with_clients(binary):
    d = harness.tempdir("boundwise-term-")
    port = harness.free_port()
    config = write_config(d, port)
    log_path = os.path.join(d, "agent.log")
    p = harness.start([binary, "--config", config], stdout=open(log_path, "w"),
                      stderr=subprocess.STDOUT)
    harness.wait_healthy(p, f"http://127.0.0.1:{port}", log_path)
    # A client stalled half-way through its request, and an idle keep-alive one.
    stalled = socket.create_connection(("127.0.0.1", port))
    stalled.sendall(b"GET /recommend HTTP/1.1\r\nHost: x\r\n")
    idle = socket.create_connection(("127.0.0.1", port))
    idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    idle.recv(4096)
    t0 = time.time()
    p.send_signal(signal.SIGTERM)
    try:
        code = p.wait(5)
    except subprocess.TimeoutExpired:
        harness.fail("still running 5 s after SIGTERM:\n" + open(log_path).read())
    if code != 0:
        harness.fail(f"SIGTERM: exit {code}\n" + open(log_path).read())
    # Both connections were closed by the agent, not left to the kernel's timeout.
    for name, s in (("stalled", stalled), ("idle", idle)):
        s.settimeout(2)
        try:
            data = s.recv(4096)
        except ConnectionResetError:
            data = b""
        except socket.timeout:
            harness.fail(f"the {name} client's connection is still open after exit?")
        if data and not data.startswith(b"HTTP/1.1"):
            harness.fail(f"the {name} client got garbage: {data[:80]!r}")
    print(f"exited 0 in {time.time() - t0:.2f} s with 2 clients connected")


def build_type_of(binary):
    """CMAKE_BUILD_TYPE from the CMakeCache.txt of the build tree holding `binary`."""
    d = os.path.dirname(os.path.abspath(binary))
    while d != "/":
        cache = os.path.join(d, "CMakeCache.txt")
        if os.path.exists(cache):
            with open(cache) as f:
                m = re.search(r"^CMAKE_BUILD_TYPE:\w+=(.*)$", f.read(), re.M)
            return m.group(1) if m else None
        d = os.path.dirname(d)
    return None


def case_version(binary):
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10)
    if out.returncode != 0:
        harness.fail(f"--version: exit {out.returncode}: {out.stderr}")
    lines = out.stdout.splitlines()
    m = re.fullmatch(r"boundwise (\d+\.\d+\.\d+)", lines[0]) if lines else None
    if not m:
        harness.fail(f"--version: first line should be 'boundwise X.Y.Z': {out.stdout!r}")
    fields = {"version": m.group(1)}
    for line in lines[1:]:
        key, _, value = line.partition(":")
        fields[key.strip().replace(" ", "_")] = value.strip()
    for key in ("commit", "build_type", "compiler"):
        if not fields.get(key):
            harness.fail(f"--version has no {key}: {out.stdout!r}")
    # The commit is the checkout's HEAD (the binary may be older than a commit made
    # since: then it must at least be a commit of this repository).
    head = subprocess.run(["git", "-C", harness.REPO, "rev-parse", "HEAD"],
                          capture_output=True, text=True)
    commit = fields["commit"].removesuffix("-dirty")
    if head.returncode == 0:
        known = subprocess.run(["git", "-C", harness.REPO, "cat-file", "-e", commit + "^{commit}"])
        if not re.fullmatch(r"[0-9a-f]{12}", commit) or known.returncode != 0:
            harness.fail(f"commit {fields['commit']!r} is not a commit of {harness.REPO}")
    want_type = build_type_of(binary)
    if want_type and fields["build_type"] != want_type:
        harness.fail(f"build type {fields['build_type']!r}, CMakeCache.txt says {want_type!r}")
    if not re.fullmatch(r"[A-Za-z]+ \d[\d.]*", fields["compiler"]):
        harness.fail(f"compiler {fields['compiler']!r} is not 'ID VERSION'")
    # The running agent's boundwise_build_info carries the same labels.
    agent = harness.Agent(binary, [])
    status, metrics = harness.http_get(agent.base + "/metrics")
    line = next((ln for ln in metrics.splitlines() if ln.startswith("boundwise_build_info{")), None)
    if status != 200 or line is None:
        harness.fail(f"/metrics {status}: no boundwise_build_info")
    labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', line))
    for key, value in fields.items():
        if labels.get(key) != value:
            harness.fail(f"boundwise_build_info {key}={labels.get(key)!r}, --version says {value!r}")
    print(out.stdout.strip())
    print(line)


CASES = {"sd_notify": case_sd_notify, "sigterm_with_clients": case_sigterm_with_clients,
         "version": case_version}


if __name__ == "__main__":
    harness.run_cases(CASES)
