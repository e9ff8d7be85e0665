"""The dashboard's expressions and the rules against real data: a real Prometheus
(Debian's package) scrapes the agent watching three workloads (a CPU loop, an idle
server, a client blocked on a TCP peer) and loads deploy/prometheus/*.rules.yaml.
Parsing (grafana_promql_test.py, prometheus_rules_test.py) cannot catch a query that
fails when evaluated (many-to-many matching, a label that is not there) or one that
returns nothing because a name or label is wrong; this does:
- every dashboard expression evaluates without error, and returns series unless it
  queries a metric the agent does not export yet (deploy/README.md) or is meant to be
  empty on a healthy agent (collectors down);
- every rule is evaluated by Prometheus with health "ok", and the fleet recording
  rules hold the agent's workloads.

usage: promql_live_test.py --agent PATH
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deploylib  # noqa: E402
import grafana_promql_test  # noqa: E402
from deploylib import harness  # noqa: E402

# Dashboard targets that are empty on a healthy agent, by (panel title, refId).
EMPTY_WHEN_HEALTHY = {("Collectors down", "A")}
# Targets that need traffic the three workloads do not make (requests served on accepted
# connections, block requests): they must evaluate, and may be empty.
INBOUND = "Inbound latency p95: served, and from arrival (accept queue included) (eBPF)"
NEEDS_OTHER_TRAFFIC = {(INBOUND, "A"), (INBOUND, "B"),
                       ("Disk request latency p95 (eBPF)", "A")}


def api(base, path, **params):
    url = f"{base}/api/v1/{path}" + ("?" + urllib.parse.urlencode(params) if params else "")
    status, body = harness.http_get(url)
    if status == 0:
        return None
    doc = json.loads(body)
    return doc


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--agent", required=True)
    args = parser.parse_args()
    prometheus = shutil.which("prometheus")
    if prometheus is None:
        harness.skip("prometheus is not installed (apt-get install prometheus)")

    cpu = harness.start_workload("cpu_single.py")
    quiet = harness.start_workload("idle_service.py")
    client = deploylib.BlockedClient()
    agent = harness.Agent(args.agent, [{"name": "cpu", "pid": cpu.pid},
                                       {"name": "quiet", "pid": quiet.pid},
                                       {"name": "client", "pid": client.process.pid}],
                          dependencies=[("peer", f"127.0.0.1:{client.port}")])

    d = harness.tempdir("boundwise-live-")
    rules = [os.path.join(deploylib.DEPLOY, "prometheus", f) for f in
             ("boundwise-recording.rules.yaml", "boundwise-alerts.rules.yaml",
              "boundwise-objectives.rules.yaml")]
    config = os.path.join(d, "prometheus.yml")
    with open(config, "w") as f:
        f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                f"rule_files: {json.dumps(rules)}\n"
                "scrape_configs:\n  - job_name: boundwise\n    static_configs:\n"
                f"      - targets: ['127.0.0.1:{agent.port}']\n")
    port = harness.free_port()
    log_path = os.path.join(d, "prometheus.log")
    with open(log_path, "w") as log:
        harness.start([prometheus, f"--config.file={config}", f"--storage.tsdb.path={d}/data",
                       f"--web.listen-address=127.0.0.1:{port}"], stdout=log,
                      stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"

    # Enough history for rate() and for every workload's first windows.
    deadline = time.time() + 60
    ready = False
    while time.time() < deadline and not ready:
        doc = api(base, "query",
                  query="count(count_over_time(boundwise_verdict_confidence[1m]) >= 8) >= 3"
                  " and on() count(boundwise_dependency_wait_seconds_total) > 0")
        ready = bool(doc and doc["status"] == "success" and doc["data"]["result"])
        if not ready:
            time.sleep(1)
    if not ready:
        harness.fail(f"Prometheus did not collect the agent's workloads within 60 s:\n"
                     f"{deploylib.read(log_path)[-2000:]}\n{agent.read_log()[-2000:]}")
    time.sleep(3)  # the rules' groups run at their own interval (30 s is too long here)

    with open(grafana_promql_test.DASHBOARD) as f:
        dashboard = json.load(f)
    variables = {v["name"] for v in dashboard["templating"]["list"]}
    checked = 0
    for p in grafana_promql_test.panels_of(dashboard["panels"]):
        for t in p.get("targets", []):
            expr = grafana_promql_test.substitute(t["expr"], variables)
            doc = api(base, "query", query=expr)
            where = f"panel {p['title']!r} {t['refId']}"
            if doc is None or doc.get("status") != "success":
                harness.fail(f"{where}: evaluation failed: {doc}\n{expr}")
            upcoming = deploylib.metric_names(expr) & deploylib.UPCOMING_METRICS
            result = doc["data"]["result"]
            if (p["title"], t["refId"]) in EMPTY_WHEN_HEALTHY:
                if result:
                    harness.fail(f"{where}: should be empty on a healthy agent: {result}")
            elif (p["title"], t["refId"]) in NEEDS_OTHER_TRAFFIC:
                pass
            elif not result and not (upcoming and "or" not in expr.split()):
                harness.fail(f"{where}: no series from a live agent\n{expr}")
            checked += 1
    print(f"ok: all {checked} dashboard expressions evaluate on live data; the ones on "
          "exported metrics return series")
    # Annotations mark events (a verdict change, a restart, a reload) a healthy steady
    # agent may not have had: they must evaluate, and may be empty.
    for a in grafana_promql_test.annotations_of(dashboard):
        expr = grafana_promql_test.substitute(a["expr"], variables)
        doc = api(base, "query", query=expr)
        if doc is None or doc.get("status") != "success":
            harness.fail(f"annotation {a['name']!r}: evaluation failed: {doc}\n{expr}")
    print(f"ok: the {len(grafana_promql_test.annotations_of(dashboard))} annotation queries "
          "evaluate on live data")

    # Rules: Prometheus evaluated each without error. Group intervals are 30 s, so wait
    # for one evaluation of each.
    deadline = time.time() + 45
    while True:
        doc = api(base, "rules")
        rules_state = [r for g in doc["data"]["groups"] for r in g["rules"]]
        pending = [r["name"] for r in rules_state if r.get("health") == "unknown"]
        if not pending or time.time() > deadline:
            break
        time.sleep(1)
    bad = [(r["name"], r.get("health"), r.get("lastError")) for r in rules_state
           if r.get("health") != "ok"]
    if bad or len(rules_state) < 10:
        harness.fail(f"rules not evaluated cleanly ({len(rules_state)} loaded): {bad}")
    # Which class the CPU loop gets depends on the machine's load; that there are three
    # workloads does not. The group runs every 30 s and its first run may have come
    # before every workload had a verdict: wait for one more run if so.
    deadline = time.time() + 40
    while True:
        counts = api(base, "query", query="class:boundwise_workloads:count")["data"]["result"]
        classes = {s["metric"]["class"]: float(s["value"][1]) for s in counts}
        if sum(classes.values()) == 3 or time.time() > deadline:
            break
        time.sleep(1)
    if sum(classes.values()) != 3:
        harness.fail(f"class:boundwise_workloads:count = {classes}, want 3 workloads in all")
    print(f"ok: {len(rules_state)} rules evaluated with health ok; fleet count by class "
          f"{classes}")


if __name__ == "__main__":
    main()
