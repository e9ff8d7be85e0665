"""What the eBPF integration tests (tests/integration/ebpf_*.py) share: the root check,
waiting for the first window (collector states are published with it), skipping when
a tool is down, and reading one metric from /metrics."""
import os
import time

import harness


def need_root():
    if os.geteuid() != 0:
        harness.skip("needs root: loading BPF programs needs CAP_BPF and CAP_PERFMON")


def metrics_after_first_window(agent, timeout=8):
    """/metrics once the first window has closed, or after `timeout` seconds."""
    deadline = time.time() + timeout
    while True:
        metrics = harness.http_get(agent.base + "/metrics")[1]
        if "boundwise_collector_up{" in metrics or time.time() > deadline:
            return metrics
        time.sleep(0.2)


# Why a tool may be down on a machine without the test being wrong: no privilege, no
# BTF. Anything else while root on a BTF kernel (a verifier rejection, a missing
# kernel symbol) is a bug of the tool and fails the test rather than skipping it.
MACHINE_LIMITS = ("Operation not permitted", "Permission denied", "kernel BTF is missing",
                  "no run-queue statistics")


def need_tools(agent, *tools):
    """Skips, with the agent's eBPF log lines, unless every ebpf_TOOL part is up, when
    the log says the machine does not allow it; fails when the tool itself broke."""
    metrics = metrics_after_first_window(agent)
    for tool in tools:
        if f'boundwise_collector_up{{collector="ebpf_{tool}"}} 1' not in metrics:
            lines = [l for l in agent.read_log().splitlines() if "ebpf" in l]
            why = "\n".join(lines)
            if any(limit in why for limit in MACHINE_LIMITS):
                harness.skip(f"the ebpf_{tool} tool is down on this machine:\n{why}")
            harness.fail(f"the ebpf_{tool} tool is down for a reason that is not the "
                         f"machine's (privilege, BTF):\n{why}")


def metric(agent, name, **labels):
    """Sum of the samples of `name` whose labels include `labels`; None if none."""
    text = harness.http_get(agent.base + "/metrics")[1]
    total, found = 0.0, False
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
            found = True
    return total if found else None
