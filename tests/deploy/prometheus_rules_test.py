"""deploy/prometheus: `promtool check rules` accepts every rule file, `promtool test
rules` passes every unit test in deploy/prometheus/tests/, every alert has a test where
it fires and one where it stays silent, every recording rule is evaluated by a test,
the rules use only metrics the agent documents (or the ones being added, listed in
deploy/README.md), and every alert's runbook_url is its section of docs/RUNBOOK.md.

Then mutation checks, so that passing tests mean something: for each alert, a copy of
the rules where it can never fire, and a copy where it fires at once (`for: 0s`), must
each make `promtool test rules` fail.

usage: prometheus_rules_test.py
"""
import glob
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deploylib  # noqa: E402
from deploylib import harness  # noqa: E402

try:
    import yaml
except ImportError:
    harness.skip("python3-yaml is not installed (apt-get install python3-yaml)")

RULES_DIR = os.path.join(deploylib.DEPLOY, "prometheus")


def promtool(*args, cwd=None):
    p = subprocess.run(["promtool", *args], capture_output=True, text=True, cwd=cwd)
    return p.returncode, p.stdout + p.stderr


def load(path):
    with open(path) as f:
        return yaml.safe_load(f)


def rules_of(files):
    for path in files:
        for group in load(path)["groups"]:
            for rule in group["rules"]:
                yield path, rule


def main():
    if shutil.which("promtool") is None:
        harness.skip("promtool is not installed (apt-get install prometheus)")
    rule_files = sorted(glob.glob(os.path.join(RULES_DIR, "*.rules.yaml")))
    test_files = sorted(glob.glob(os.path.join(RULES_DIR, "tests", "*.yaml")))
    if len(rule_files) < 3 or len(test_files) < 2:
        harness.fail(f"expected recording, alerting and objective rule files and their tests: "
                     f"{rule_files} {test_files}")

    status, out = promtool("check", "rules", *rule_files)
    if status != 0:
        harness.fail(f"promtool check rules:\n{out}")
    print(f"ok: promtool check rules: {len(rule_files)} files")
    status, out = promtool("test", "rules", *test_files)
    if status != 0:
        harness.fail(f"promtool test rules:\n{out}")
    print(f"ok: promtool test rules: {len(test_files)} files")

    # Coverage: what the tests exercise.
    firing, silent, evaluated, tested_files = set(), set(), [], set()
    for path in test_files:
        doc = load(path)
        tested_files |= {os.path.normpath(os.path.join(os.path.dirname(path), f))
                         for f in doc["rule_files"]}
        for test in doc["tests"]:
            for case in test.get("alert_rule_test", []):
                (firing if case.get("exp_alerts") else silent).add(case["alertname"])
            evaluated += [case["expr"] for case in test.get("promql_expr_test", [])]
    untested = set(rule_files) - tested_files
    if untested:
        harness.fail(f"rule files no test loads: {sorted(untested)}")
    known = deploylib.documented_metrics() | deploylib.UPCOMING_METRICS | \
        deploylib.PROMETHEUS_METRICS | deploylib.KUBE_STATE_METRICS
    recorded = {rule["record"] for _, rule in rules_of(rule_files) if "record" in rule}
    for path, rule in rules_of(rule_files):
        name = rule.get("alert") or rule.get("record")
        if "alert" in rule and not (name in firing and name in silent):
            harness.fail(f"alert {name}: needs a test where it fires and one where it is "
                         f"silent (fires: {name in firing}, silent: {name in silent})")
        if "record" in rule and not any(name in e for e in evaluated):
            harness.fail(f"recording rule {name} is not evaluated by any promql_expr_test")
        unknown = deploylib.metric_names(rule["expr"]) - known - recorded
        if unknown:
            harness.fail(f"{os.path.basename(path)}: {name} uses metrics the agent does not "
                         f"document: {sorted(unknown)}")
    print(f"ok: every alert fires and stays silent in a test ({', '.join(sorted(firing))}); "
          f"{len(recorded)} recording rules evaluated; metric names documented")

    # Every alert has a runbook_url into docs/RUNBOOK.md, at a section of that name.
    with open(os.path.join(deploylib.REPO, "docs", "RUNBOOK.md")) as f:
        anchors = {"docs/RUNBOOK.md#" + line[3:].strip().lower()
                   for line in f if line.startswith("## ")}
    for path, rule in rules_of(rule_files):
        if "alert" not in rule:
            continue
        url = rule.get("annotations", {}).get("runbook_url")
        if url != "docs/RUNBOOK.md#" + rule["alert"].lower() or url not in anchors:
            harness.fail(f"alert {rule['alert']}: runbook_url {url!r} is not its section of "
                         f"docs/RUNBOOK.md")
    print("ok: every alert's runbook_url is its section of docs/RUNBOOK.md")

    # Mutations: each must break the tests.
    alerts = [rule["alert"] for _, rule in rules_of(rule_files) if "alert" in rule]
    work = harness.tempdir("boundwise-rules-")
    copy = os.path.join(work, "prometheus")
    for alert in alerts:
        for mutation in ("never fires", "fires at once"):
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(RULES_DIR, copy)
            for path in glob.glob(os.path.join(copy, "*.rules.yaml")):
                doc = load(path)
                for group in doc["groups"]:
                    for rule in group["rules"]:
                        if rule.get("alert") != alert:
                            continue
                        if mutation == "never fires":
                            rule["expr"] = "vector(1) == 0"
                        else:
                            rule["for"] = "0s"
                with open(path, "w") as f:
                    yaml.safe_dump(doc, f, sort_keys=False)
            tests = sorted(glob.glob(os.path.join(copy, "tests", "*.yaml")))
            status, out = promtool("test", "rules", *tests)
            if status == 0:
                harness.fail(f"the tests still pass when {alert} {mutation}")
    print(f"ok: the tests fail when any alert never fires or fires at once "
          f"({2 * len(alerts)} mutations)")


if __name__ == "__main__":
    main()
