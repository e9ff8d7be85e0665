"""deploy/kubernetes: the manifests parse as YAML, hold what issue 5 asks of them, and
agree with each other and with the agent. No cluster is available to CI, so this is
what can be checked without one:
- every manifest has apiVersion, kind, metadata.name and a namespace where needed, and
  kustomization.yaml lists exactly the manifests of the folder;
- the DaemonSet: hostPID, not privileged, no privilege escalation, read-only root
  filesystem, capabilities = drop ALL + the four the agent uses, /sys/kernel/btf and
  /sys/fs/cgroup mounted read-only from the host, liveness on /healthz and readiness
  on /readyz, CPU and memory requests and limits;
- the ConfigMap's boundwise.yaml passes the real binary's --check-config and listens
  on 0.0.0.0 at the container's port;
- the Service selects the DaemonSet's pods on that port, and the ServiceMonitor
  selects the Service and scrapes its port, with job="boundwise" as the alerts expect;
- the PrometheusRule holds exactly the rule groups of deploy/prometheus/.
With kubectl present, `kubectl kustomize` must also render the folder (offline).

usage: kubernetes_test.py --agent PATH
"""
import argparse
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

K8S = os.path.join(deploylib.DEPLOY, "kubernetes")
CAPS = {"BPF", "PERFMON", "SYS_PTRACE", "DAC_READ_SEARCH"}
HOST_PATHS = {"/sys/kernel/btf", "/sys/fs/cgroup"}
RULE_FILES = ("boundwise-recording.rules.yaml", "boundwise-alerts.rules.yaml",
              "boundwise-objectives.rules.yaml")


def check(condition, message):
    if not condition:
        harness.fail(message)


def load_manifests():
    docs = {}
    files = sorted(glob.glob(os.path.join(K8S, "*.yaml")))
    for path in files:
        with open(path) as f:
            try:
                parsed = [d for d in yaml.safe_load_all(f) if d is not None]
            except yaml.YAMLError as e:
                harness.fail(f"{path}: {e}")
        for d in parsed:
            name = os.path.basename(path)
            for key in ("apiVersion", "kind"):
                check(key in d, f"{name}: no {key}")
            if d["kind"] != "Kustomization":
                check(d.get("metadata", {}).get("name"), f"{name}: no metadata.name")
                if d["kind"] != "Namespace":
                    check(d["metadata"].get("namespace") == "boundwise",
                          f"{name}: {d['kind']} not in namespace boundwise")
            check(d["kind"] not in docs, f"two {d['kind']} manifests")
            docs[d["kind"]] = (name, d)
    return files, docs


def check_daemonset(ds, config_port):
    spec = ds["spec"]["template"]["spec"]
    check(spec.get("hostPID") is True, "DaemonSet: hostPID is not true")
    check(not spec.get("hostNetwork"), "DaemonSet: hostNetwork is not needed")
    pod_labels = ds["spec"]["template"]["metadata"]["labels"]
    selector = ds["spec"]["selector"]["matchLabels"]
    check(selector.items() <= pod_labels.items(), "DaemonSet: selector does not match its pods")
    containers = spec["containers"]
    check(len(containers) == 1, "DaemonSet: one container expected")
    c = containers[0]
    sc = c.get("securityContext", {})
    check(sc.get("privileged") in (None, False), "DaemonSet: container is privileged")
    check(sc.get("allowPrivilegeEscalation") is False, "DaemonSet: allowPrivilegeEscalation")
    check(sc.get("readOnlyRootFilesystem") is True, "DaemonSet: root filesystem not read-only")
    caps = sc.get("capabilities", {})
    check(caps.get("drop") == ["ALL"], f"DaemonSet: capabilities.drop is {caps.get('drop')}")
    check(set(caps.get("add", [])) == CAPS,
          f"DaemonSet: capabilities.add is {caps.get('add')}, want {sorted(CAPS)}")

    ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
    check(ports.get("metrics") == config_port,
          f"DaemonSet: port metrics is {ports.get('metrics')}, the config listens on "
          f"{config_port}")
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        get = c.get(probe, {}).get("httpGet", {})
        check(get.get("path") == path and get.get("port") in ("metrics", config_port),
              f"DaemonSet: {probe} is {c.get(probe)}, want GET {path} on the metrics port")
    for kind in ("requests", "limits"):
        r = c.get("resources", {}).get(kind, {})
        check("cpu" in r and "memory" in r, f"DaemonSet: resources.{kind} is {r}")

    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    mounts = {m["name"]: m for m in c.get("volumeMounts", [])}
    host = {v["hostPath"]["path"]: name for name, v in volumes.items() if "hostPath" in v}
    check(set(host) == HOST_PATHS,
          f"DaemonSet: host paths {sorted(host)}, want {sorted(HOST_PATHS)}")
    for path, name in host.items():
        m = mounts.get(name)
        check(m is not None and m["mountPath"] == path and m.get("readOnly") is True,
              f"DaemonSet: host path {path} not mounted read-only at {path}: {m}")
    for m in mounts.values():
        check(m["name"] in volumes, f"DaemonSet: mount of an undefined volume {m['name']}")
        check(m.get("readOnly") is True, f"DaemonSet: {m['mountPath']} mounted writable")
    config_volume = next((v for v in volumes.values() if "configMap" in v), None)
    check(config_volume is not None, "DaemonSet: no ConfigMap volume")
    args = c.get("args", []) + c.get("command", [])
    config_mount = mounts[config_volume["name"]]["mountPath"]
    check("--config" in args and args[args.index("--config") + 1].startswith(config_mount + "/"),
          f"DaemonSet: args {args} do not pass a config from {config_mount}")
    print("ok: DaemonSet: hostPID, unprivileged, read-only root, capabilities "
          f"{' '.join(sorted(CAPS))}, host paths read-only, probes, requests and limits")
    return pod_labels, config_volume["configMap"]["name"], args[args.index("--config") + 1]


def check_config(agent, configmap, config_file):
    key = os.path.basename(config_file)
    text = configmap["data"].get(key)
    check(text is not None, f"ConfigMap has no {key}")
    config = yaml.safe_load(text)
    listen = config.get("listen", "")
    check(listen.startswith("0.0.0.0:"), f"ConfigMap: listen is {listen!r}, want 0.0.0.0:PORT")
    path = os.path.join(harness.tempdir("boundwise-k8s-"), key)
    with open(path, "w") as f:
        f.write(text)
    p = subprocess.run([agent, "--check-config", path], capture_output=True, text=True)
    check(p.returncode == 0, f"ConfigMap {key} is refused by the agent:\n{p.stdout}{p.stderr}")
    print(f"ok: the ConfigMap's {key} passes --check-config; listen {listen}")
    return int(listen.rsplit(":", 1)[1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--agent", required=True)
    args = parser.parse_args()
    files, docs = load_manifests()
    for kind in ("Namespace", "ServiceAccount", "ConfigMap", "DaemonSet", "Service",
                 "ServiceMonitor", "PrometheusRule", "Kustomization"):
        check(kind in docs, f"no {kind} manifest in deploy/kubernetes")
    kustomization = docs["Kustomization"][1]
    listed = set(kustomization.get("resources", []))
    manifests = {os.path.basename(f) for f in files} - {"kustomization.yaml"}
    check(listed == manifests, f"kustomization.yaml lists {sorted(listed)}, the folder has "
                               f"{sorted(manifests)}")
    print(f"ok: {len(files)} files parse; kustomization lists every manifest")

    ds = docs["DaemonSet"][1]
    container = ds["spec"]["template"]["spec"]["containers"][0]
    config_arg = container["args"][container["args"].index("--config") + 1]
    port = check_config(args.agent, docs["ConfigMap"][1], config_arg)
    pod_labels, configmap_name, _ = check_daemonset(ds, port)
    check(configmap_name == docs["ConfigMap"][1]["metadata"]["name"],
          f"DaemonSet mounts ConfigMap {configmap_name}, which is not the one shipped")
    check(ds["spec"]["template"]["spec"]["serviceAccountName"] ==
          docs["ServiceAccount"][1]["metadata"]["name"], "DaemonSet: unknown service account")

    service = docs["Service"][1]
    check(service["spec"]["selector"].items() <= pod_labels.items(),
          "Service selector does not select the DaemonSet's pods")
    sports = {p["name"]: p for p in service["spec"]["ports"]}
    check("metrics" in sports and sports["metrics"]["targetPort"] in ("metrics", port),
          f"Service: no port metrics → the container's metrics port: {sports}")
    monitor = docs["ServiceMonitor"][1]
    check(monitor["apiVersion"] == "monitoring.coreos.com/v1", "ServiceMonitor apiVersion")
    check(monitor["spec"]["selector"]["matchLabels"].items() <=
          service["metadata"]["labels"].items(), "ServiceMonitor does not select the Service")
    endpoints = monitor["spec"]["endpoints"]
    check(any(e.get("port") == "metrics" and e.get("path", "/metrics") == "/metrics"
              for e in endpoints), f"ServiceMonitor does not scrape port metrics: {endpoints}")
    job_label = monitor["spec"].get("jobLabel")
    check(service["metadata"]["labels"].get(job_label) == "boundwise",
          f"ServiceMonitor jobLabel {job_label!r}: the job would not be \"boundwise\"")
    print("ok: Service selects the agents; ServiceMonitor scrapes it as job boundwise")

    rule = docs["PrometheusRule"][1]
    groups = []
    for name in RULE_FILES:
        with open(os.path.join(deploylib.DEPLOY, "prometheus", name)) as f:
            groups += yaml.safe_load(f)["groups"]
    check(rule["spec"]["groups"] == groups,
          "prometheusrule.yaml's groups differ from deploy/prometheus/" + ", ".join(RULE_FILES))
    print(f"ok: the PrometheusRule holds the {len(groups)} groups of deploy/prometheus")

    kubectl = shutil.which("kubectl")
    if kubectl is None:
        print("note: kubectl is not installed: the kustomize render is not checked")
        return
    p = subprocess.run([kubectl, "kustomize", K8S], capture_output=True, text=True)
    check(p.returncode == 0, f"kubectl kustomize {K8S}:\n{p.stderr}")
    rendered = [d["kind"] for d in yaml.safe_load_all(p.stdout) if d]
    check(len(rendered) == len(manifests), f"kubectl kustomize rendered {rendered}")
    print(f"ok: kubectl kustomize renders {len(rendered)} objects")


if __name__ == "__main__":
    main()
