"""Privileged integration cases for the ebpf collector's net tool
(collectors/ebpf/net.bpf.c): measured request latency per dependency, for thread and
asyncio clients, with either source of socket traffic, inbound latency of a server
under wrk, and two real databases in one workload. Each case starts the real agent
targeting a pid and reads /recommend and /metrics.

Skips (exit 77) with the reason when not root, when a tool or package is missing, or
when the agent reports the ebpf_net part down.

usage: ebpf_net.py --agent PATH --case NAME
"""
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402
import run_case  # noqa: E402  (slow_server, start_postgres)

TARGET = 0.2      # the server's and pg_sleep's delay, seconds
TOLERANCE = 0.10  # p95 within 10 %
WAIT_SECONDS = 40


def require_root():
    if os.geteuid() != 0:
        harness.skip("eBPF needs root (or CAP_BPF + CAP_PERFMON)")


def agent_with(binary, targets, net_source=None, dependencies=None):
    """The agent on `targets` (harness.Agent's), once its ebpf_net part is up; skips
    with the reason when it is down or not built."""
    extra = f"ebpf:\n  net_source: {net_source}" if net_source else ""
    agent = harness.Agent(binary, targets, window="2s", extra=extra, dependencies=dependencies)
    # Collectors start after the listener; their parts are in /metrics from the first
    # published window on.
    deadline = time.time() + 25
    while time.time() < deadline:
        status, text = harness.http_get(agent.base + "/metrics")
        m = re.search(r'boundwise_collector_up\{collector="ebpf_net"\} (\d)', text or "")
        if m:
            if m.group(1) != "1":
                harness.skip("the agent reports ebpf_net down:\n" + agent.read_log()[-2000:])
            return agent
        time.sleep(0.2)
    harness.skip("no boundwise_collector_up{collector=\"ebpf_net\"} (eBPF not built?):\n"
                 + agent.read_log()[-2000:])


def within(value, target=TARGET):
    return value is not None and abs(value - target) <= TOLERANCE * target


def wait_dependency(agent, workload, match, accept, what):
    """Polls /recommend until a dependency of `workload` for which match(d) holds has
    ebpf latency with accept(d); fails with the last one seen."""
    last = None
    deadline = time.time() + WAIT_SECONDS
    while time.time() < deadline:
        _, w = agent.workload(workload)
        if w and w.get("verdict"):
            for d in w["verdict"]["dependencies"]:
                if match(d):
                    last = d
                    if d.get("latency_source") == "ebpf" and d["latency_seconds"] and accept(d):
                        print(f"ok: {workload}: {what}: {d}")
                        return d
        time.sleep(0.5)
    harness.fail(f"{workload}: {what}: last dependency seen {last}\n"
                 f"agent log:\n{agent.read_log()[-3000:]}")


def scrape_check(agent):
    """The real scrape has the net metrics as histograms and passes promtool."""
    status, text = harness.http_get(agent.base + "/metrics")
    if status != 200:
        harness.fail(f"/metrics answered {status}")
    for family in ("boundwise_dependency_latency_seconds_bucket",
                   "boundwise_dependency_requests_total",
                   "boundwise_dependency_bytes_total"):
        if family not in text:
            harness.fail(f"{family} missing from /metrics")
    promtool = shutil.which("promtool")
    if promtool:
        r = subprocess.run([promtool, "check", "metrics"], input=text, text=True,
                           capture_output=True)
        # promtool lints help texts too (exit 3 = lint problems only); errors are exit 1.
        if r.returncode not in (0, 3) or "error" in (r.stdout + r.stderr).lower():
            harness.fail(f"promtool check metrics: {r.returncode} {r.stdout} {r.stderr}")
        print(f"ok: promtool check metrics: {r.returncode} {r.stdout.strip()}")
    return text


def client_case(binary, workload_script, args, net_source=None):
    require_root()
    _, port = run_case.slow_server(TARGET)
    p = harness.start_workload(workload_script, port, *args)
    agent = agent_with(binary, [{"name": "client", "pid": p.pid}], net_source)
    endpoint = f"127.0.0.1:{port}"
    d = wait_dependency(agent, "client", lambda d: d["endpoint"] == endpoint,
                        lambda d: within(d["latency_seconds"]["p95"])
                        and d["requests_per_second"] > 0,
                        f"p95 within 10 % of {TARGET} s")
    scrape_check(agent)
    agent.stop()
    if net_source and f"socket traffic from {net_source}" not in agent.read_log():
        harness.fail(f"the agent did not load the {net_source} source:\n{agent.read_log()}")
    return d


def case_http_threads(binary):
    client_case(binary, "http_threads.py", [8])


def case_asyncio_client(binary):
    client_case(binary, "asyncio_client.py", [8])


def case_syscalls_source(binary):
    client_case(binary, "http_threads.py", [8], net_source="syscalls")


def case_inbound_wrk(binary):
    require_root()
    if shutil.which("wrk") is None:
        harness.skip("wrk is not installed (apt-get install wrk)")
    server, port = run_case.slow_server(TARGET)
    agent = agent_with(binary, [{"name": "server", "pid": server.pid}])
    harness.start(["wrk", "-t2", "-c8", "-d60s", f"http://127.0.0.1:{port}/"],
                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    last = None
    deadline = time.time() + WAIT_SECONDS
    while time.time() < deadline:
        _, w = agent.workload("server")
        if w and w.get("inbound"):
            last = w["inbound"]
            if within(last["latency_seconds"]["p95"]) and last["requests_per_second"] > 0:
                print(f"ok: server: inbound {last}")
                scrape_check_inbound(agent)
                agent.stop()
                return
        time.sleep(0.5)
    harness.fail(f"server: inbound p95 not within 10 % of {TARGET} s; last {last}\n"
                 f"agent log:\n{agent.read_log()[-3000:]}")


def scrape_check_inbound(agent):
    _, text = harness.http_get(agent.base + "/metrics")
    for family in ("boundwise_inbound_latency_seconds_bucket", "boundwise_inbound_requests_total"):
        if family not in text:
            harness.fail(f"{family} missing from /metrics")
    return text


def start_redis():
    if shutil.which("redis-server") is None:
        harness.skip("redis-server is not installed (apt-get install redis-server)")
    port = harness.free_port()
    d = harness.tempdir("boundwise-redis-")
    harness.start(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                   "--appendonly", "no", "--dir", d], stdout=subprocess.DEVNULL)
    deadline = time.time() + 10
    import socket
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return port
        except OSError:
            time.sleep(0.1)
    harness.fail("redis-server did not listen within 10 s")


def case_pg_redis(binary):
    require_root()
    _, pg_port = run_case.start_postgres()
    redis_port = start_redis()
    p = harness.start_workload("pg_redis.py", pg_port, redis_port, 4, TARGET)
    agent = agent_with(binary, [{"name": "orders", "pid": p.pid}],
                       dependencies=[("orders-db", f"127.0.0.1:{pg_port}")])
    wait_dependency(agent, "orders", lambda d: d["name"] == "orders-db",
                    lambda d: within(d["latency_seconds"]["p95"]),
                    f"postgres p95 within 10 % of {TARGET} s")
    wait_dependency(agent, "orders", lambda d: d["endpoint"] == f"127.0.0.1:{redis_port}",
                    lambda d: d["latency_seconds"]["p95"] < 0.005,
                    "redis p95 under 5 ms, a separate dependency")
    scrape_check(agent)
    agent.stop()


if __name__ == "__main__":
    harness.run_cases({
        "http_threads": case_http_threads,
        "asyncio_client": case_asyncio_client,
        "syscalls_source": case_syscalls_source,
        "inbound_wrk": case_inbound_wrk,
        "pg_redis": case_pg_redis,
    })
