"""deploy/grafana/boundwise.json: the dashboard is valid JSON with the panels issues 5
and 14 ask for (one unit per graph panel) and its annotations (verdict changes, agent
restarts and reloads), and every PromQL expression in it (panel targets, annotation
queries, and the selectors of its template variables) parses: they are extracted, Grafana's variables are replaced by
values of the right kind, and written as a generated rule file that `promtool check
rules` must accept. The metric names they use must be documented (docs/METRICS.md) or
among the ones being added (deploy/README.md).

The checker is checked too: one bad expression added to the generated file must make
promtool fail.

usage: grafana_promql_test.py
"""
import json
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deploylib  # noqa: E402
from deploylib import harness  # noqa: E402

DASHBOARD = os.path.join(deploylib.DEPLOY, "grafana", "boundwise.json")
# What the dashboard must show (issue 5, deploy/): a panel type and a title fragment.
REQUIRED_PANELS = [
    ("state-timeline", "verdict over time"),
    ("timeseries", "thread time by reason"),
    ("timeseries", "dependency latency p95"),
    ("timeseries", "gil wait"),
    ("timeseries", "node cpu"),
    ("table", "current recommendation"),
    ("timeseries", "collector round duration"),
    ("timeseries", "memory per worker"),
    ("timeseries", "inbound latency p95"),
    ("timeseries", "disk request latency p95"),
    ("timeseries", "run-queue latency p95"),
    ("timeseries", "off-cpu time by state"),
    ("timeseries", "left out by the limits"),
    ("timeseries", "agent cpu"),
    ("timeseries", "agent memory"),
]
# Annotations the dashboard must have, by a name fragment, and a metric each must query.
REQUIRED_ANNOTATIONS = [
    ("verdict changes", "boundwise_verdict_changes_total"),
    ("agent restarts", "process_start_time_seconds"),
    ("config reloads", "boundwise_config_last_reload_success_timestamp_seconds"),
]
# Grafana's built-in variables, by what they stand for.
DURATIONS = {"__rate_interval": "5m", "__interval": "1m", "__range": "1h"}
NUMBERS = {"__interval_ms": "60000", "__range_s": "3600", "__range_ms": "3600000"}


def panels_of(panels):
    for p in panels:
        yield p
        yield from panels_of(p.get("panels", []))


def substitute(expr, variables):
    """Replaces $var, ${var} and [[var]] with a value PromQL accepts where Grafana
    would put one: durations for the interval variables, a regex for the others (the
    dashboard's variables are used in =~ matchers)."""
    def value(name):
        if name in DURATIONS:
            return DURATIONS[name]
        if name in NUMBERS:
            return NUMBERS[name]
        if name in variables:
            return ".+"
        harness.fail(f"expression uses ${name}, which is neither a dashboard variable nor a "
                     f"Grafana built-in: {expr}")

    expr = re.sub(r"\$\{(\w+)(?::\w+)?\}", lambda m: value(m.group(1)), expr)
    expr = re.sub(r"\[\[(\w+)\]\]", lambda m: value(m.group(1)), expr)
    return re.sub(r"\$(\w+)", lambda m: value(m.group(1)), expr)


def annotations_of(dashboard):
    """The dashboard's Prometheus annotation queries (Grafana's built-in one has none)."""
    return [a for a in dashboard.get("annotations", {}).get("list", []) if "expr" in a]


def expressions(dashboard):
    """(where, PromQL) for every target expression, annotation query and variable
    selector."""
    variables = {v["name"] for v in dashboard["templating"]["list"]}
    found = []
    for p in panels_of(dashboard["panels"]):
        for t in p.get("targets", []):
            if "expr" not in t:
                harness.fail(f"panel {p['title']!r} target {t.get('refId')} has no expr")
            found.append((f"panel {p['title']!r} {t['refId']}", substitute(t["expr"], variables)))
    for a in annotations_of(dashboard):
        found.append((f"annotation {a['name']!r}", substitute(a["expr"], variables)))
    for v in dashboard["templating"]["list"]:
        if v["type"] != "query":
            continue
        query = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
        m = re.fullmatch(r"label_values\((.+),\s*(\w+)\)", query.strip())
        if not m:
            harness.fail(f"variable {v['name']}: not label_values(selector, label): {query}")
        found.append((f"variable {v['name']}", substitute(m.group(1), variables)))
    return found


def check_structure(dashboard):
    for key in ("uid", "title", "panels", "templating", "schemaVersion"):
        if key not in dashboard:
            harness.fail(f"dashboard has no {key}")
    panels = list(panels_of(dashboard["panels"]))
    ids = [p["id"] for p in panels]
    if len(ids) != len(set(ids)):
        harness.fail(f"panel ids are not unique: {ids}")
    for kind, fragment in REQUIRED_PANELS:
        if not any(p["type"] == kind and fragment in p["title"].lower() for p in panels):
            harness.fail(f"no {kind} panel titled like {fragment!r}: "
                         f"{[(p['type'], p['title']) for p in panels]}")
    for p in panels:
        if p["type"] != "row" and p.get("datasource", {}).get("uid") != "${datasource}":
            harness.fail(f"panel {p['title']!r} does not use the $datasource variable")
        if "gridPos" not in p:
            harness.fail(f"panel {p['title']!r} has no gridPos")
    # One unit per panel: a graph's series share the unit its axis shows.
    for p in panels:
        if p["type"] not in ("timeseries", "bargauge"):
            continue
        unit = p.get("fieldConfig", {}).get("defaults", {}).get("unit")
        if not unit:
            harness.fail(f"panel {p['title']!r} has no unit")
        for o in p["fieldConfig"].get("overrides", []):
            if any(prop["id"] == "unit" for prop in o.get("properties", [])):
                harness.fail(f"panel {p['title']!r} overrides its unit ({unit}) for some "
                             f"series: one unit per panel")
    annotations = annotations_of(dashboard)
    for fragment, metric in REQUIRED_ANNOTATIONS:
        found = [a for a in annotations if fragment in a["name"].lower()]
        if not found or metric not in found[0]["expr"]:
            harness.fail(f"no annotation named like {fragment!r} querying {metric}: "
                         f"{[(a['name'], a['expr']) for a in annotations]}")
        if found[0].get("datasource", {}).get("uid") != "${datasource}":
            harness.fail(f"annotation {found[0]['name']!r} does not use $datasource")
    stacked = [p for p in panels if "thread time by reason" in p["title"].lower()][0]
    mode = stacked["fieldConfig"]["defaults"]["custom"]["stacking"]["mode"]
    if mode != "normal":
        harness.fail(f"thread time by reason is not stacked: {mode}")
    print(f"ok: {len(panels)} panels, the {len(REQUIRED_PANELS)} required ones present, one "
          f"unit each; the {len(REQUIRED_ANNOTATIONS)} required annotations present")


def promtool_check(exprs, path):
    rules = {"groups": [{"name": "grafana-dashboard-expressions", "rules": [
        {"record": f"boundwise_dashboard_expr_{i}", "expr": e} for i, (_, e) in enumerate(exprs)]}]}
    with open(path, "w") as f:
        json.dump(rules, f, indent=2)  # JSON is YAML: no quoting surprises
    p = subprocess.run(["promtool", "check", "rules", path], capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def main():
    if shutil.which("promtool") is None:
        harness.skip("promtool is not installed (apt-get install prometheus)")
    with open(DASHBOARD) as f:
        dashboard = json.load(f)
    check_structure(dashboard)

    exprs = expressions(dashboard)
    d = harness.tempdir("boundwise-grafana-")
    generated = os.path.join(d, "dashboard-expressions.rules.yaml")
    status, out = promtool_check(exprs, generated)
    if status != 0:
        numbered = "\n".join(f"boundwise_dashboard_expr_{i}: {where}: {e}"
                             for i, (where, e) in enumerate(exprs))
        harness.fail(f"promtool check rules on the dashboard's expressions:\n{out}\n{numbered}")
    print(f"ok: promtool parses all {len(exprs)} expressions of the dashboard")

    known = deploylib.documented_metrics() | deploylib.UPCOMING_METRICS | \
        deploylib.PROMETHEUS_METRICS
    for where, e in exprs:
        unknown = deploylib.metric_names(e) - known
        if unknown:
            harness.fail(f"{where} uses metrics the agent does not document: "
                         f"{sorted(unknown)}\n{e}")
    print("ok: every metric the dashboard queries is documented or listed as upcoming")

    status, out = promtool_check(exprs + [("a broken one", "sum by (workload (rate(x[5m]))")],
                                 os.path.join(d, "broken.rules.yaml"))
    if status == 0:
        harness.fail("promtool check rules accepted a malformed expression: the check is void")
    print("ok: a malformed expression makes the check fail")


if __name__ == "__main__":
    main()
