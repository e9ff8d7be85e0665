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
  on 0.0.0.0 at the container's port, which is allowed only together with a
  NetworkPolicy that selects the DaemonSet's pods and lets in only selected pods
  (Prometheus) on that port, and with /recommend protected by a bearer token;
- the token: the config's web.bearer_token_file lies in the mount of a Secret volume,
  read-only, whose name is the kustomization's secretGenerator and whose key is the
  file's name;
- the DaemonSet's priorityClassName is the PriorityClass shipped, with a value between
  ordinary pods (0) and the limit for user-defined classes;
- the Service selects the DaemonSet's pods on that port, and the ServiceMonitor
  selects the Service and scrapes its port, with job="boundwise" as the alerts expect;
- the PrometheusRule holds exactly the rule groups of deploy/prometheus/.
With kubectl present, `kubectl kustomize` must also render the folder (offline, on a
copy holding a token file): every manifest plus the Secret, the DaemonSet naming the
Secret by its hashed name; and without the token file it must refuse.

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
# Objects without a namespace.
CLUSTER_SCOPED = {"Namespace", "PriorityClass"}
# Above this, priority classes are reserved for the system (system-cluster-critical).
MAX_USER_PRIORITY = 1_000_000_000
CAPS = {"BPF", "PERFMON", "SYS_PTRACE", "DAC_READ_SEARCH"}
HOST_PATHS = {"/sys/kernel/btf", "/sys/fs/cgroup"}
# The one host path written: the agent's state_dir (baselines), at the config's default.
STATE_DIR = "/var/lib/boundwise"
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
                if d["kind"] not in CLUSTER_SCOPED:
                    check(d["metadata"].get("namespace") == "boundwise",
                          f"{name}: {d['kind']} not in namespace boundwise")
            check(d["kind"] not in docs, f"two {d['kind']} manifests")
            check(d["kind"] != "Secret", f"{name}: a Secret in the repository; the token is "
                                         "generated from a file by kustomization.yaml")
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
    check(set(host) == HOST_PATHS | {STATE_DIR},
          f"DaemonSet: host paths {sorted(host)}, want {sorted(HOST_PATHS | {STATE_DIR})}")
    for path, name in host.items():
        m = mounts.get(name)
        writable = path == STATE_DIR
        check(m is not None and m["mountPath"] == path and m.get("readOnly", False) is not writable,
              f"DaemonSet: host path {path} not mounted {'writable' if writable else 'read-only'} "
              f"at {path}: {m}")
    state = volumes[host[STATE_DIR]]["hostPath"]
    check(state.get("type") == "DirectoryOrCreate",
          f"DaemonSet: the state directory's hostPath is {state}, want type DirectoryOrCreate")
    for m in mounts.values():
        check(m["name"] in volumes, f"DaemonSet: mount of an undefined volume {m['name']}")
        check(m.get("readOnly") is True or m["mountPath"] == STATE_DIR,
              f"DaemonSet: {m['mountPath']} mounted writable")
    config_volume = next((v for v in volumes.values() if "configMap" in v), None)
    check(config_volume is not None, "DaemonSet: no ConfigMap volume")
    args = c.get("args", []) + c.get("command", [])
    config_mount = mounts[config_volume["name"]]["mountPath"]
    check("--config" in args and args[args.index("--config") + 1].startswith(config_mount + "/"),
          f"DaemonSet: args {args} do not pass a config from {config_mount}")
    print("ok: DaemonSet: hostPID, unprivileged, read-only root, capabilities "
          f"{' '.join(sorted(CAPS))}, host paths read-only but the state directory, probes, "
          "requests and limits")
    return pod_labels, config_volume["configMap"]["name"], args[args.index("--config") + 1]


def check_config(agent, configmap, config_file):
    """Returns (port, the config's web.bearer_token_file)."""
    key = os.path.basename(config_file)
    text = configmap["data"].get(key)
    check(text is not None, f"ConfigMap has no {key}")
    config = yaml.safe_load(text)
    listen = config.get("listen", "")
    check(listen.startswith("0.0.0.0:"), f"ConfigMap: listen is {listen!r}, want 0.0.0.0:PORT")
    web = config.get("web") or {}
    token_file = web.get("bearer_token_file")
    check(token_file, "ConfigMap: listens on all addresses without web.bearer_token_file")
    # docs/CONFIG.md: the default protects /, /recommend, /profile, /baselines and /compare.
    protected = web.get("protected_endpoints",
                        ["/", "/recommend", "/profile", "/baselines", "/compare"])
    check("/recommend" in protected and "/" in protected,
          f"ConfigMap: web.protected_endpoints {protected} leaves /recommend or / open")
    check("/healthz" not in protected and "/readyz" not in protected,
          f"ConfigMap: web.protected_endpoints {protected}: the kubelet probes carry no token")
    # The agent reads the token file when it checks the config: point it at a real one.
    d = harness.tempdir("boundwise-k8s-")
    token = os.path.join(d, "token")
    with open(token, "w") as f:
        f.write("0123456789abcdef\n")
    path = os.path.join(d, key)
    with open(path, "w") as f:
        f.write(text.replace(token_file, token))
    check(token_file not in open(path).read(), "could not point the config at a test token")
    p = subprocess.run([agent, "--check-config", path], capture_output=True, text=True)
    check(p.returncode == 0, f"ConfigMap {key} is refused by the agent:\n{p.stdout}{p.stderr}")
    print(f"ok: the ConfigMap's {key} passes --check-config; listen {listen}, "
          f"{', '.join(protected)} need the token in {token_file}")
    return int(listen.rsplit(":", 1)[1]), token_file


def check_token_secret(ds, kustomization, token_file):
    """The token file is a key of a Secret volume mounted read-only at its folder, and
    that Secret is the one kustomization.yaml generates."""
    spec = ds["spec"]["template"]["spec"]
    mounts = spec["containers"][0].get("volumeMounts", [])
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    folder, key = os.path.split(token_file)
    mount = next((m for m in mounts if m["mountPath"] == folder), None)
    check(mount is not None, f"DaemonSet: nothing is mounted at {folder}, the folder of the "
                             f"config's bearer_token_file {token_file}")
    check(mount.get("readOnly") is True and "subPath" not in mount,
          f"DaemonSet: the token mount {mount} is writable or a subPath (never updated)")
    secret = volumes.get(mount["name"], {}).get("secret")
    check(secret is not None, f"DaemonSet: {folder} is not a Secret volume")
    generators = {g["name"]: g for g in kustomization.get("secretGenerator", [])}
    generator = generators.get(secret["secretName"])
    check(generator is not None, f"DaemonSet mounts Secret {secret['secretName']}, which "
                                 f"kustomization.yaml does not generate ({sorted(generators)})")
    check(generator.get("namespace") == "boundwise",
          f"secretGenerator {generator['name']}: not in namespace boundwise")
    keys = {}
    for entry in generator.get("files", []):
        k, _, source = entry.partition("=")
        keys[k] = source or k
    check(key in keys, f"secretGenerator {generator['name']} has keys {sorted(keys)}, the "
                       f"config reads {key}")
    items = secret.get("items")
    check(items is None or any(i["key"] == key and i["path"] == key for i in items),
          f"DaemonSet: the Secret volume's items {items} do not put {key} at {token_file}")
    gitignore = os.path.join(K8S, ".gitignore")
    ignored = open(gitignore).read().split() if os.path.exists(gitignore) else []
    check(keys[key] in ignored, f"the token file {keys[key]} is not in deploy/kubernetes/"
                                ".gitignore: a real token could be committed")
    print(f"ok: token {token_file} = key {key} of the generated Secret {generator['name']} "
          f"(from the file {keys[key]}, git-ignored), mounted read-only")
    return generator["name"], keys[key]


def check_network_policy(policy, pod_labels, port):
    spec = policy["spec"]
    check(spec["podSelector"].get("matchLabels", {}).items() <= pod_labels.items()
          and spec["podSelector"].get("matchLabels"),
          f"NetworkPolicy selects {spec['podSelector']}, not the DaemonSet's pods {pod_labels}")
    check("Ingress" in spec.get("policyTypes", []), "NetworkPolicy: policyTypes lacks Ingress")
    rules = spec.get("ingress", [])
    check(rules, "NetworkPolicy: no ingress rule: nobody could scrape")
    for rule in rules:
        sources = rule.get("from")
        check(sources, f"NetworkPolicy: ingress rule {rule} admits every source")
        for source in sources:
            check("ipBlock" not in source, f"NetworkPolicy: ingress from an ipBlock {source}")
            pods = source.get("podSelector")
            check(pods is not None and (pods.get("matchLabels") or pods.get("matchExpressions")),
                  f"NetworkPolicy: source {source} admits every pod of a namespace, not "
                  "selected pods (Prometheus)")
        ports = rule.get("ports")
        check(ports and all(p.get("port") in ("metrics", port) and
                            p.get("protocol", "TCP") == "TCP" for p in ports),
              f"NetworkPolicy: ingress rule ports {ports}, want only the metrics port {port}")
    print(f"ok: NetworkPolicy lets only selected pods reach the agents, on port {port}")


def check_priority(ds, priority_class):
    name = ds["spec"]["template"]["spec"].get("priorityClassName")
    check(name == priority_class["metadata"]["name"],
          f"DaemonSet: priorityClassName {name!r}, the PriorityClass shipped is "
          f"{priority_class['metadata']['name']!r}")
    value = priority_class.get("value")
    check(isinstance(value, int) and 0 < value <= MAX_USER_PRIORITY,
          f"PriorityClass value {value}: want above 0 and at most {MAX_USER_PRIORITY}")
    check(priority_class.get("globalDefault") is not True, "PriorityClass is the global default")
    print(f"ok: DaemonSet has priorityClassName {name} (value {value})")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--agent", required=True)
    args = parser.parse_args()
    files, docs = load_manifests()
    for kind in ("Namespace", "ServiceAccount", "ConfigMap", "DaemonSet", "Service",
                 "ServiceMonitor", "PrometheusRule", "Kustomization", "NetworkPolicy",
                 "PriorityClass"):
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
    port, token_file = check_config(args.agent, docs["ConfigMap"][1], config_arg)
    pod_labels, configmap_name, _ = check_daemonset(ds, port)
    secret_name, token_source = check_token_secret(ds, kustomization, token_file)
    check_network_policy(docs["NetworkPolicy"][1], pod_labels, port)
    check_priority(ds, docs["PriorityClass"][1])
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
    # On a copy: the token file must not be written into the source tree.
    copy = os.path.join(harness.tempdir("boundwise-kustomize-"), "kubernetes")
    shutil.copytree(K8S, copy, ignore=shutil.ignore_patterns(token_source))
    p = subprocess.run([kubectl, "kustomize", copy], capture_output=True, text=True)
    check(p.returncode != 0 and token_source in p.stderr,
          f"kubectl kustomize without the token file {token_source}: exit {p.returncode}, "
          f"want a refusal naming it:\n{p.stderr}")
    with open(os.path.join(copy, token_source), "w") as f:
        f.write("0123456789abcdef\n")
    p = subprocess.run([kubectl, "kustomize", copy], capture_output=True, text=True)
    check(p.returncode == 0, f"kubectl kustomize {copy}:\n{p.stderr}")
    objects = [d for d in yaml.safe_load_all(p.stdout) if d]
    rendered = [d["kind"] for d in objects]
    check(len(rendered) == len(manifests) + 1 and rendered.count("Secret") == 1,
          f"kubectl kustomize rendered {rendered}, want the {len(manifests)} manifests and "
          "the Secret")
    secret = next(d for d in objects if d["kind"] == "Secret")
    check(secret["metadata"]["name"].startswith(secret_name + "-") and
          secret["metadata"].get("namespace") == "boundwise",
          f"rendered Secret {secret['metadata']}")
    rendered_ds = next(d for d in objects if d["kind"] == "DaemonSet")
    names = [v["secret"]["secretName"] for v in rendered_ds["spec"]["template"]["spec"]["volumes"]
             if "secret" in v]
    check(names == [secret["metadata"]["name"]],
          f"rendered DaemonSet mounts Secrets {names}, the rendered one is "
          f"{secret['metadata']['name']}")
    print(f"ok: kubectl kustomize renders {len(rendered)} objects, the DaemonSet mounting "
          f"{secret['metadata']['name']}; without {token_source} it refuses")


if __name__ == "__main__":
    main()
