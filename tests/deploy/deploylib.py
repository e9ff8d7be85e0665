"""Helpers shared by the deploy/ tests: the repository's deploy paths, a parser for
systemd unit files, the metric names docs/METRICS.md documents, building the Debian
package with CPack, and running the agent
as an unprivileged user holding exactly a given set of capabilities (setpriv), next
to a target blocked on a TCP socket. Standard library plus harness.py.
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402

REPO = harness.REPO
DEPLOY = os.path.join(REPO, "deploy")
UNIT = os.path.join(DEPLOY, "systemd", "boundwise.service")
DEFAULT_CONFIG = os.path.join(DEPLOY, "systemd", "boundwise.yaml")

# Metrics another engineer is adding while deploy/ is written (issue 5 and the eBPF and
# Python collectors): the rules and the dashboard may use them before the agent
# exports them. deploy/README.md lists them too.
UPCOMING_METRICS = {
    "boundwise_python_gil_wait_seconds_total",
    "boundwise_dependency_latency_seconds_bucket",
    "boundwise_ebpf_program_seconds_total",
}
# Series Prometheus makes itself for every target.
PROMETHEUS_METRICS = {"up", "scrape_duration_seconds", "scrape_samples_scraped"}
# kube-state-metrics series that rules join with for pod and container names
# (docs/METRICS.md, "Pods"); the rules yield nothing where it is not installed.
KUBE_STATE_METRICS = {"kube_pod_info", "kube_pod_container_info"}


def parse_unit(path):
    """Returns {section: [(key, value), ...]} keeping repeated keys in order; comments
    and blank lines dropped, backslash continuations joined."""
    sections = {}
    current = None
    with open(path) as f:
        text = f.read().replace("\\\n", " ")
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], [])
            continue
        if current is None or "=" not in line:
            harness.fail(f"{path}:{number}: not a key=value line in a section: {raw!r}")
        key, value = line.split("=", 1)
        current.append((key.strip(), value.strip()))
    return sections


def unit_values(sections, section, key):
    return [v for k, v in sections.get(section, []) if k == key]


def unit_caps(sections, key):
    """The capability set of CapabilityBoundingSet= or AmbientCapabilities= (all
    assignments joined; an empty assignment resets, as systemd does)."""
    caps = set()
    for value in unit_values(sections, "Service", key):
        if value == "":
            caps = set()
        caps |= set(value.split())
    return caps


def documented_metrics():
    """Metric names in the table of docs/METRICS.md, with _sum/_count/_bucket for
    summaries and histograms."""
    names = set()
    with open(os.path.join(REPO, "docs", "METRICS.md")) as f:
        for line in f:
            m = re.match(r"\|\s*`((?:boundwise|process)_[a-z0-9_]+)`\s*\|\s*(\w+)", line)
            if not m:
                continue
            names.add(m.group(1))
            if m.group(2) in ("summary", "histogram"):
                names |= {m.group(1) + "_sum", m.group(1) + "_count"}
            if m.group(2) == "histogram":
                names.add(m.group(1) + "_bucket")
    if len(names) < 10:
        harness.fail(f"found only {sorted(names)} in docs/METRICS.md: has its table changed?")
    return names


def metric_names(expr):
    """Names of the metrics a PromQL expression selects (identifiers followed by a
    selector, a range or an operator, that are not functions or keywords)."""
    keywords = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool",
                "and", "or", "unless", "offset", "inf", "nan",
                # aggregation operators, which may be followed by by/without
                "sum", "min", "max", "avg", "count", "stddev", "stdvar", "topk", "bottomk",
                "quantile", "count_values", "group"}
    names = set()
    no_strings = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    no_groupings = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)",
                          r"\1", no_strings)
    for m in re.finditer(r"(?<![\w:$.])([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*\()", no_groupings):
        name = m.group(1)
        if name.lower() in keywords or re.fullmatch(r"\d+[smhdwy]", name):
            continue
        # A label name inside {...} is followed by a matcher, not a metric.
        after = no_groupings[m.end():].lstrip()
        if after[:1] in ("=", "!") or after[:2] == "=~":
            continue
        names.add(name)
    return names


class BlockedClient:
    """A TCP server that accepts and never answers, and a client process (a target)
    blocked in recv() on it: a thread waiting on a remote endpoint."""

    def __init__(self):
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen()
        self.port = self.server.getsockname()[1]
        self.accepted = []
        threading.Thread(target=self._accept, daemon=True).start()
        code = ("import socket; s = socket.create_connection(('127.0.0.1', %d)); s.recv(1)"
                % self.port)
        self.process = harness.start([harness.PYTHON, "-c", code])

    def _accept(self):
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.accepted.append(conn)


def run_agent_as(binary, user, caps, config_lines, timeout=10):
    """Starts `binary` as `user` with exactly `caps` (e.g. {"CAP_SYS_PTRACE"}) as its
    bounding, inheritable and ambient sets, no new privileges, on a config readable by
    anyone. Returns (process, base URL, log path); fails if /healthz does not answer."""
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        harness.skip("setpriv (util-linux) is not installed")
    port = harness.free_port()
    d = tempfile.mkdtemp(prefix="boundwise-deploy-")
    harness._tempdirs.append(d)
    os.chmod(d, 0o755)
    config = os.path.join(d, "boundwise.yaml")
    with open(config, "w") as f:
        f.write("\n".join([f'listen: "127.0.0.1:{port}"', *config_lines]) + "\n")
    os.chmod(config, 0o644)
    names = ",".join("+" + c.lower().removeprefix("cap_") for c in sorted(caps))
    capset = "-all" + ("," + names if names else "")
    log_path = os.path.join(d, "agent.log")
    log = open(log_path, "w")
    process = harness.start([setpriv, f"--reuid={user}", f"--regid={user}", "--clear-groups",
                             f"--inh-caps={capset}", f"--ambient-caps={capset}",
                             f"--bounding-set={capset}", "--no-new-privs", "--",
                             binary, "--config", config], stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            harness.fail(f"agent as {user} exited with {process.returncode}:\n{read(log_path)}")
        status, body = harness.http_get(base + "/healthz", timeout=1)
        if status == 200 and body.strip() == "ok":
            return process, base, log_path
        time.sleep(0.1)
    harness.fail(f"agent as {user} did not answer /healthz within {timeout} s:\n{read(log_path)}")


def build_deb(build_dir):
    """Builds the Debian package with CPack from a configured build tree into a
    temporary folder; returns its path."""
    import glob

    out = harness.tempdir("boundwise-deb-")
    config = os.path.join(build_dir, "CPackConfig.cmake")
    if not os.path.exists(config):
        harness.fail(f"{config} is missing: is deploy/packaging.cmake included?")
    p = subprocess.run(["cpack", "-G", "DEB", "--config", config, "-B", out], cwd=build_dir,
                       capture_output=True, text=True)
    if p.returncode != 0:
        harness.fail(f"cpack: exit {p.returncode}\n{p.stdout}{p.stderr}")
    debs = glob.glob(os.path.join(out, "*.deb"))
    if len(debs) != 1:
        harness.fail(f"cpack made {debs}, want one .deb")
    print(f"ok: cpack built {os.path.basename(debs[0])}")
    return debs[0]


def read(path):
    with open(path) as f:
        return f.read()


def wait_for_dependency(base, workload, endpoint, seconds):
    """Polls /recommend until `workload` lists a dependency on `endpoint`; returns the
    last workload JSON and whether it did."""
    import json

    last = None
    deadline = time.time() + seconds
    while time.time() < deadline:
        status, body = harness.http_get(base + "/recommend")
        if status == 200:
            for w in json.loads(body)["workloads"]:
                if w["workload"] == workload:
                    last = w
                    deps = (w.get("verdict") or {}).get("dependencies") or []
                    if any(d["endpoint"] == endpoint for d in deps):
                        return w, True
        time.sleep(0.25)
    return last, False
