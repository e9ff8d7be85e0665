"""End to end: a real Prometheus server (Debian's package) scrapes the agent watching
two labelled workloads; PromQL through Prometheus' HTTP API must return
boundwise_bottleneck == 1 with the right class for each, and `promtool check metrics`
must accept a scrape of /metrics.

usage: prometheus_e2e.py --agent PATH
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402

EXPECTED = {"cpu": "cpu_bound", "quiet": "idle"}


def promql(base, query):
    url = f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": query})
    status, body = harness.http_get(url)
    if status != 200:
        return None
    doc = json.loads(body)
    return doc["data"]["result"] if doc.get("status") == "success" else None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--agent", required=True)
    args = parser.parse_args()
    prometheus = shutil.which("prometheus")
    promtool = shutil.which("promtool")
    if prometheus is None or promtool is None:
        harness.skip("prometheus/promtool are not installed (apt-get install prometheus)")

    cpu = harness.start_workload("cpu_single.py")
    quiet = harness.start_workload("idle_service.py")
    agent = harness.Agent(args.agent, [{"name": "cpu", "pid": cpu.pid},
                                       {"name": "quiet", "pid": quiet.pid}])

    d = harness.tempdir("boundwise-prom-")
    config = os.path.join(d, "prometheus.yml")
    with open(config, "w") as f:
        f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                "scrape_configs:\n  - job_name: boundwise\n    static_configs:\n"
                f"      - targets: ['127.0.0.1:{agent.port}']\n")
    prom_port = harness.free_port()
    log = open(os.path.join(d, "prometheus.log"), "w")
    harness.start([prometheus, f"--config.file={config}", f"--storage.tsdb.path={d}/data",
                   f"--web.listen-address=127.0.0.1:{prom_port}"], stdout=log,
                  stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{prom_port}"

    deadline = time.time() + 60
    found = {}
    while time.time() < deadline and len(found) < len(EXPECTED):
        result = promql(base, "boundwise_bottleneck == 1")
        for series in result or []:
            labels = series["metric"]
            if labels.get("workload") in EXPECTED:
                found[labels["workload"]] = labels["class"]
        if len(found) < len(EXPECTED):
            time.sleep(1)
    for workload, want in EXPECTED.items():
        got = found.get(workload)
        if got != want:
            with open(os.path.join(d, "prometheus.log")) as f:
                tail = f.read()[-2000:]
            harness.fail(f"PromQL boundwise_bottleneck == 1 for {workload}: class {got!r}, "
                         f"want {want!r}\nprometheus log:\n{tail}")
        print(f"ok: Prometheus reports {workload}: {got}")

    up = promql(base, 'up{job="boundwise"}')
    if not up or up[0]["value"][1] != "1":
        harness.fail(f"Prometheus does not see the agent up: {up}")
    on_cpu = []
    deadline = time.time() + 30
    # Wait until the range holds several windows' increments (the counter moves once a
    # window), then judge the rate.
    while time.time() < deadline:
        rate = promql(base, 'rate(boundwise_thread_seconds_total{workload="cpu",reason="on_cpu"}[15s])'
                      ' and on() count_over_time(boundwise_windows_total[15s]) >= 10')
        on_cpu = [float(s["value"][1]) for s in rate or []]
        if on_cpu:
            break
        time.sleep(1)
    if not on_cpu or not 0.5 < on_cpu[0] < 1.5:
        harness.fail(f"rate of on_cpu thread-seconds for a one-thread CPU loop: {on_cpu}")
    print(f"ok: rate(boundwise_thread_seconds_total{{reason=on_cpu}}) = {on_cpu[0]:.2f} s/s")

    status, text = harness.http_get(agent.base + "/metrics")
    check = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                           text=True)
    if check.returncode != 0 or check.stdout.strip() or check.stderr.strip():
        harness.fail(f"promtool check metrics: exit {check.returncode}\n{check.stdout}"
                     f"{check.stderr}")
    print("ok: promtool check metrics is clean")


if __name__ == "__main__":
    main()
