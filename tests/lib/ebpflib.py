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


def need_tools(agent, *tools):
    """Skips, with the agent's eBPF log lines, unless every ebpf_TOOL part is up."""
    metrics = metrics_after_first_window(agent)
    for tool in tools:
        if f'boundwise_collector_up{{collector="ebpf_{tool}"}} 1' not in metrics:
            harness.skip(f"the ebpf_{tool} tool is down on this machine:\n" +
                         "\n".join(l for l in agent.read_log().splitlines() if "ebpf" in l))


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
