"""Shared helpers for the integration and e2e tests: start real processes (workloads,
PostgreSQL, Prometheus, the agent) and always clean them up, find free ports, and
query the agent. Standard library only.

A test that cannot run here (no PostgreSQL, no Prometheus, not root) calls skip(),
which exits with 77: ctest reports it as skipped, with the reason printed.
"""
import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
WORKLOADS = os.path.join(REPO, "tests", "workloads")
PYTHON = "/usr/bin/python3"
SKIP = 77

_processes = []
_tempdirs = []


def skip(reason):
    print(f"SKIP: {reason}", flush=True)
    sys.exit(SKIP)


def fail(message):
    print(f"FAIL: {message}", flush=True)
    sys.exit(1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tempdir(prefix="boundwise-test-"):
    # Under the build tree, not /tmp: some tests need a real disk (fsync).
    base = os.environ.get("BOUNDWISE_TEST_TMP") or os.getcwd()
    d = tempfile.mkdtemp(prefix=prefix, dir=base)
    _tempdirs.append(d)
    return d


def start(args, **kwargs):
    """Starts a process in its own session so that cleanup kills its whole group."""
    kwargs.setdefault("stdin", subprocess.DEVNULL)
    p = subprocess.Popen(args, start_new_session=True, **kwargs)
    _processes.append(p)
    return p


def start_workload(name, *args):
    return start([PYTHON, os.path.join(WORKLOADS, name), *map(str, args)])


def stop(p, timeout=5):
    if p.poll() is not None:
        return p.returncode
    try:
        os.killpg(p.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        return p.wait(timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return p.wait()


@atexit.register
def _cleanup():
    for p in reversed(_processes):
        try:
            stop(p)
        except Exception:  # noqa: BLE001 - cleanup must go on
            pass
    for d in _tempdirs:
        shutil.rmtree(d, ignore_errors=True)


def http_get(url, timeout=5):
    """Returns (status, body text); status 0 when the connection failed."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except (urllib.error.URLError, ConnectionError, socket.timeout):
        return 0, ""


def wait_until(condition, timeout, interval=0.05):
    """Calls `condition` every `interval` seconds until it returns something truthy or
    `timeout` seconds have passed; returns its last value (falsy on timeout). For "wait
    until X is ready": never a fixed sleep that guesses how long X takes (too short on
    a loaded machine, wasted time on an idle one). The C++ tests' twin is
    tests/lib/wait_until.hpp."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def descendants(pid):
    """PIDs of every live descendant of `pid` (children, their children, ...), from the
    parent PIDs in /proc/*/stat."""
    parents = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                text = f.read()
        except OSError:
            continue  # exited meanwhile
        # comm may hold spaces and parentheses: the fields after it follow the last ')'.
        parents[int(entry)] = int(text[text.rindex(")") + 2:].split()[1])
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        kids = [p for p, pp in parents.items() if pp == parent]
        found.extend(kids)
        frontier.extend(kids)
    return found


def thread_count(pid):
    """Threads of `pid` now (0 once it has exited)."""
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return 0


def remove_cgroups(paths):
    """Removes cgroup directories, deepest first as listed, once their processes are gone
    (a killed process leaves its cgroup a moment later: a few tries each). Prints the
    ones left behind."""
    for path in paths:
        for _ in range(50):
            try:
                os.rmdir(path)
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.1)
        else:
            print(f"WARNING: could not remove cgroup {path}", flush=True)


def wait_healthy(process, base_url, log_path, context=None, timeout=10):
    """Waits until the agent at base_url answers /healthz 200; fails with its log if it
    exits first or does not answer within `timeout` seconds. `context`: an
    ssl.SSLContext for https."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            fail(f"agent exited with {process.returncode}:\n{open(log_path).read()}")
        try:
            with urllib.request.urlopen(base_url + "/healthz", timeout=1,
                                        context=context) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.1)
    fail(f"agent did not answer /healthz within {timeout} s:\n" + open(log_path).read())


def run_cases(cases):
    """The command line of a test script: --agent PATH --case NAME runs cases[NAME]."""
    import argparse
    parser = argparse.ArgumentParser()
    parser.add_argument("--agent", required=True)
    parser.add_argument("--case", required=True, choices=sorted(cases))
    args = parser.parse_args()
    cases[args.case](args.agent)
    print(f"PASS: {args.case}")


class Agent:
    """The boundwise binary on a temp config, listening on a free loopback port."""

    def __init__(self, binary, targets, window="2s", sample_rate=20, dependencies=None,
                 extra="", discovery_interval="1s", preexec_fn=None, healthy_timeout=10):
        self.port = free_port()
        self.dir = tempdir("boundwise-agent-")
        self.config = os.path.join(self.dir, "boundwise.yaml")
        lines = [f'listen: "127.0.0.1:{self.port}"', f"window: {window}",
                 f"sample_rate: {sample_rate}", "targets:"]
        if discovery_interval:
            lines.insert(3, f"discovery_interval: {discovery_interval}")
        for t in targets:
            key = next(k for k in ("pid", "comm", "cmdline") if k in t)
            value = t[key] if key == "pid" else json.dumps(t[key])
            lines.append(f"  - name: {t['name']}\n    {key}: {value}")
            if "slo" in t:  # e.g. {"latency_p95": "300ms"}
                slo = ", ".join(f"{k}: {v}" for k, v in t["slo"].items())
                lines.append(f"    slo: {{{slo}}}")
        if not targets:
            lines[-1] = "targets: []"
        if dependencies:
            lines.append("dependencies:")
            for name, endpoint in dependencies:
                lines.append(f'  - name: {name}\n    endpoint: "{endpoint}"')
        if extra:
            lines.append(extra)
        with open(self.config, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.log_path = os.path.join(self.dir, "agent.log")
        self.log = open(self.log_path, "w")
        self.process = start([binary, "--config", self.config], stdout=self.log,
                             stderr=subprocess.STDOUT, preexec_fn=preexec_fn)
        self.base = f"http://127.0.0.1:{self.port}"
        self.log.flush()
        wait_healthy(self.process, self.base, self.log_path, timeout=healthy_timeout)

    def read_log(self):
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def recommend(self, workload=None):
        url = self.base + "/recommend" + (f"?workload={workload}" if workload else "")
        status, body = http_get(url)
        if status != 200:
            return None
        return json.loads(body)

    def workload(self, name):
        doc = self.recommend()
        if doc is None:
            return None, None
        for w in doc["workloads"]:
            if w["workload"] == name:
                return doc, w
        return doc, None

    def stop(self):
        return stop(self.process)


def wait_for_verdict(agent, name, accept, windows=3, grace=3.0):
    """Polls /recommend until `accept(workload_json)` holds, for at most `windows`
    classified windows of the workload (plus the agent's first, partial window) and
    a grace period. Returns the last workload JSON and whether it was accepted."""
    window_seconds = None
    seen_windows = set()
    last = None
    start_time = time.time()
    while True:
        doc, w = agent.workload(name)
        if doc is not None:
            window_seconds = doc["window_seconds"]
            if w is not None and w.get("verdict") is not None:
                last = w
                seen_windows.add(doc["windows_completed"])
                if accept(w):
                    return w, True
        if len(seen_windows) >= windows:
            return last, False
        limit = (windows + 1) * (window_seconds or 2) + grace
        if time.time() - start_time > limit:
            return last, False
        time.sleep(0.25)


def describe(w):
    return json.dumps(w, indent=2, sort_keys=True) if w is not None else "(no verdict)"


def bcrypt(password, cost=6):
    """A bcrypt hash for web.basic_auth_users, at a low cost unless told (tests check many)."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt  # Debian's python3 (3.11) still ships it; libxcrypt does bcrypt
    return crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << cost))


def metric_value(text, name, labels):
    """The value of the series NAME{LABELS} in a /metrics exposition, or None. LABELS is
    a dict; the series' labels must be exactly those."""
    import re
    for line in text.splitlines():
        if line.startswith(name + " ") and not labels:
            return float(line.split()[1])
        if not line.startswith(name + "{"):
            continue
        body, _, value = line[len(name) + 1:].rpartition("} ")
        if dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', body)) == labels:
            return float(value)
    return None


def status_kib(pid, key="VmRSS"):
    """A size line of /proc/PID/status in KiB (VmRSS, VmHWM, ...); 0 when absent."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0
