"""deploy/systemd: the unit's hardening and capabilities are the ones issue 5 asks for,
it is Type=notify with a state directory, its default config loads in the real binary
(--check-config, then a real start answering /healthz and /readyz and sending READY=1
to a NOTIFY_SOCKET as systemd gives it), and `systemd-analyze verify` finds nothing
in it.

usage: systemd_test.py --agent PATH --case unit|verify
  unit    static checks of the unit and the config with the built binary
  verify  systemd-analyze verify (skips when systemd-analyze is absent)
"""
import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deploylib  # noqa: E402
from deploylib import harness  # noqa: E402

CAPS = {"CAP_BPF", "CAP_PERFMON", "CAP_SYS_PTRACE", "CAP_DAC_READ_SEARCH"}
OPTIONAL_CAPS = {"CAP_SYS_RESOURCE"}
REQUIRED = {
    "User": "boundwise",
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "Restart": "on-failure",
    # Ready when the first window is classified (the agent sends READY=1: checked
    # below by check_config); the only writable path is /var/lib/boundwise.
    "Type": "notify",
    "NotifyAccess": "main",
    "StateDirectory": "boundwise",
}
CONFIG_PATH = "/etc/boundwise/boundwise.yaml"


def check_unit():
    unit = deploylib.parse_unit(deploylib.UNIT)
    for key, want in REQUIRED.items():
        got = deploylib.unit_values(unit, "Service", key)
        if got[-1:] != [want]:
            harness.fail(f"[Service] {key}={got}, want {want}")
    bounding = deploylib.unit_caps(unit, "CapabilityBoundingSet")
    ambient = deploylib.unit_caps(unit, "AmbientCapabilities")
    for name, caps in (("CapabilityBoundingSet", bounding), ("AmbientCapabilities", ambient)):
        if not CAPS <= caps or not caps <= CAPS | OPTIONAL_CAPS:
            harness.fail(f"{name} is {sorted(caps)}, want {sorted(CAPS)} "
                         f"(+ optionally {sorted(OPTIONAL_CAPS)})")
    if ambient != bounding:
        harness.fail(f"AmbientCapabilities {sorted(ambient)} != CapabilityBoundingSet "
                     f"{sorted(bounding)}")
    # Neither must hide processes or node-wide /proc files from the agent.
    for key, bad in (("ProtectProc", {"invisible", "noaccess", "ptraceable"}),
                     ("ProcSubset", {"pid"})):
        if set(deploylib.unit_values(unit, "Service", key)) & bad:
            harness.fail(f"{key}={deploylib.unit_values(unit, 'Service', key)} hides what the "
                         "agent reads")
    # ProtectKernelTunables hides /proc/kallsyms, which the eBPF collector needs.
    if deploylib.unit_values(unit, "Service", "ProtectKernelTunables")[-1:] == ["yes"]:
        harness.fail("ProtectKernelTunables=yes makes /proc/kallsyms inaccessible")
    # Targets are never stopped or written: no ptrace, no process_vm_writev.
    denied = " ".join(v[1:] for v in deploylib.unit_values(unit, "Service", "SystemCallFilter")
                      if v.startswith("~"))
    for syscall in ("ptrace", "process_vm_writev"):
        if syscall not in denied.split():
            harness.fail(f"SystemCallFilter does not deny {syscall}")
    execs = deploylib.unit_values(unit, "Service", "ExecStart")
    if len(execs) != 1 or not re.fullmatch(r"/usr/bin/boundwise --config " + CONFIG_PATH,
                                            execs[0]):
        harness.fail(f"ExecStart={execs}, want /usr/bin/boundwise --config {CONFIG_PATH}")
    if deploylib.unit_values(unit, "Install", "WantedBy") != ["multi-user.target"]:
        harness.fail("[Install] WantedBy is not multi-user.target")
    print(f"ok: unit runs as boundwise, hardened, capabilities {' '.join(sorted(ambient))}")


def check_config(agent):
    with open(deploylib.DEFAULT_CONFIG) as f:
        text = f.read()
    listen = re.search(r'^listen:\s*"([^"]+)"', text, re.M)
    if not listen or not listen.group(1).startswith("127.0.0.1:"):
        harness.fail(f"the default config does not listen on loopback: {listen}")
    p = subprocess.run([agent, "--check-config", deploylib.DEFAULT_CONFIG],
                       capture_output=True, text=True)
    if p.returncode != 0:
        harness.fail(f"--check-config {deploylib.DEFAULT_CONFIG}: exit {p.returncode}\n"
                     f"{p.stdout}{p.stderr}")
    # And the real thing: the agent starts on it (only the port moved off the default),
    # with a notification socket as systemd would give a Type=notify service.
    port = harness.free_port()
    d = harness.tempdir("boundwise-systemd-")
    log_path = os.path.join(d, "agent.log")
    notify_path = os.path.join(d, "notify.sock")
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(notify_path)
    notify.setblocking(False)
    with open(log_path, "w") as log:
        process = harness.start([agent, "--config", deploylib.DEFAULT_CONFIG, "--listen",
                                 f"127.0.0.1:{port}", "--window", "1s"],
                                stdout=log, stderr=subprocess.STDOUT,
                                env=dict(os.environ, NOTIFY_SOCKET=notify_path))
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 15
    health = ready = 0
    while time.time() < deadline and ready != 200:
        if process.poll() is not None:
            harness.fail(f"agent on the default config exited {process.returncode}:\n"
                         f"{deploylib.read(log_path)}")
        health = harness.http_get(base + "/healthz", timeout=1)[0]
        ready = harness.http_get(base + "/readyz", timeout=1)[0]
        time.sleep(0.2)
    harness.stop(process)
    if health != 200 or ready != 200:
        harness.fail(f"agent on the default config: /healthz {health}, /readyz {ready}\n"
                     f"{deploylib.read(log_path)}")
    messages = []
    while True:
        try:
            messages.append(notify.recv(4096).decode())
        except BlockingIOError:
            break
    if not any("READY=1" in m.split("\n") for m in messages):
        harness.fail(f"Type=notify, but the agent sent no READY=1 (got {messages})")
    print("ok: the default config passes --check-config and the agent serves /healthz and "
          "/readyz on it, and sends READY=1")
    # The check can fail: a config with a typo is refused.
    bad = os.path.join(harness.tempdir("boundwise-systemd-"), "bad.yaml")
    with open(bad, "w") as f:
        f.write(text.replace("sample_rate:", "sample_rte:"))
    p = subprocess.run([agent, "--check-config", bad], capture_output=True, text=True)
    if p.returncode != 2:
        harness.fail(f"--check-config accepted a misspelt key: exit {p.returncode}")


def verify(agent):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        harness.skip("systemd-analyze is not installed (apt-get install systemd)")
    d = harness.tempdir("boundwise-verify-")

    def run_verify(text, name):
        path = os.path.join(d, name)
        with open(path, "w") as f:
            f.write(text)
        p = subprocess.run([analyze, "verify", path], capture_output=True, text=True)
        return p.returncode, (p.stdout + p.stderr).strip()

    # verify wants ExecStart's binary to exist: point it at the built one.
    with open(deploylib.UNIT) as f:
        text = f.read().replace("/usr/bin/boundwise", os.path.abspath(agent))
    status, output = run_verify(text, "boundwise.service")
    if status != 0 or output:
        harness.fail(f"systemd-analyze verify: exit {status}\n{output}")
    # verify exits 0 on unknown keys, only printing them: the empty output is the test.
    # Make sure it would have printed something for a broken copy.
    broken = text.replace("ProtectHome=yes", "ProtectHome=yes\nProtectHomme=yes")
    status, output = run_verify(broken, "broken.service")
    if "ProtectHomme" not in output:
        harness.fail(f"systemd-analyze verify did not report an unknown key: {output!r}")
    print("ok: systemd-analyze verify is clean (and reports a misspelt key in a copy)")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--agent", required=True)
    parser.add_argument("--case", required=True, choices=["unit", "verify"])
    args = parser.parse_args()
    if args.case == "unit":
        check_unit()
        check_config(args.agent)
    else:
        verify(args.agent)


if __name__ == "__main__":
    main()
