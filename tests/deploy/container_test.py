"""deploy/container: the Containerfile and build.sh hold what the image must be, checked
without building it (a build compiles the project: minutes, not CI's seconds):
- the Containerfile parses (instructions, continuations, stages); it has a build stage
  and a runtime stage, both on the Debian 12 base; the build stage installs its
  dependencies with deploy/install-deps.sh; the runtime stage installs no compiler;
- every COPY source exists in the repository (the build context), every COPY --from
  names an earlier stage;
- the runtime stage's USER is not root, and that user is created in the stage;
- the capabilities the image declares (label boundwise.capabilities) are the ones the
  Kubernetes DaemonSet adds;
- build.sh passes `bash -n`, its --help answers, and it refuses a bad argument.
When podman is installed and an image built by build.sh (boundwise:VERSION) is local,
the image itself: its user is not root, `boundwise --version` runs in it and names
the version, and run as the DaemonSet runs it (root with only the four capabilities,
read-only root filesystem, the host's PIDs and network) it answers /healthz and
/metrics. Without the image that part is skipped with the reason.

usage: container_test.py
"""
import os
import re
import resource
import shlex
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deploylib  # noqa: E402
from deploylib import harness  # noqa: E402

try:
    import yaml
except ImportError:
    harness.skip("python3-yaml is not installed (apt-get install python3-yaml)")

CONTAINER = os.path.join(deploylib.DEPLOY, "container")
CONTAINERFILE = os.path.join(CONTAINER, "Containerfile")
BUILD_SH = os.path.join(CONTAINER, "build.sh")
DEBIAN_12 = re.compile(r"^(localhost/boundwise-base:bookworm|(docker\.io/)?(library/)?debian:"
                       r"(12|bookworm)([.-][\w.-]*)?)$")
COMPILERS = ("build-essential", "g++", "gcc", "clang", "cmake", "install-deps.sh", "-dev")
ROOT_USERS = {"root", "0"}


def check(condition, message):
    if not condition:
        harness.fail(message)


def parse(path):
    """[(line number, INSTRUCTION, arguments)], continuations joined, comments and
    blank lines dropped (as buildah and docker read a Containerfile)."""
    instructions = []
    pending, start = "", 0
    with open(path) as f:
        for number, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if not pending and (not line.strip() or line.lstrip().startswith("#")):
                continue
            if pending and line.lstrip().startswith("#"):
                continue  # a comment inside a continued instruction
            if not pending:
                start = number
            if line.endswith("\\"):
                pending += line[:-1] + " "
                continue
            text = (pending + line).strip()
            pending = ""
            m = re.match(r"([A-Za-z]+)\s+(.*)", text, re.S)
            check(m, f"{path}:{start}: not an instruction: {text!r}")
            instructions.append((start, m.group(1).upper(), m.group(2).strip()))
    check(not pending, f"{path}: ends inside a continued line")
    return instructions


def substitute(text, args):
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: args.get(m.group(1) or m.group(2), m.group(0)),
                  text)


def stages(instructions):
    """[{name, base, instructions}] with global ARG defaults substituted in FROM."""
    global_args, result = {}, []
    for number, op, args in instructions:
        if op == "ARG" and not result:
            name, _, default = args.partition("=")
            global_args[name] = default
        elif op == "FROM":
            m = re.match(r"(\S+)(?:\s+AS\s+(\S+))?$", args, re.I)
            check(m, f"Containerfile:{number}: FROM {args!r}")
            result.append({"name": m.group(2), "base": substitute(m.group(1), global_args),
                           "line": number, "instructions": []})
        else:
            check(result, f"Containerfile:{number}: {op} before the first FROM")
            result[-1]["instructions"].append((number, op, args))
    return result


def copy_sources(args):
    """(--from value or None, [sources]) of a COPY's arguments (shell or JSON form)."""
    words = shlex.split(args)
    origin = None
    while words and words[0].startswith("--"):
        flag = words.pop(0)
        if flag.startswith("--from="):
            origin = flag.split("=", 1)[1]
    if args.lstrip().startswith("["):
        words = yaml.safe_load(args)
    check(len(words) >= 2, f"COPY {args!r}: want sources and a destination")
    return origin, words[:-1]


def check_containerfile():
    instructions = parse(CONTAINERFILE)
    all_stages = stages(instructions)
    check(len(all_stages) >= 2, f"Containerfile: {len(all_stages)} stage(s), want a build "
                                "stage and a runtime stage")
    for s in all_stages:
        check(DEBIAN_12.match(s["base"]), f"Containerfile:{s['line']}: stage {s['name']} is on "
                                          f"{s['base']}, not Debian 12")
    names = []
    for s in all_stages:
        for number, op, args in s["instructions"]:
            if op not in ("COPY", "ADD"):
                continue
            check(op == "COPY", f"Containerfile:{number}: ADD (fetches URLs, unpacks archives): "
                                "use COPY")
            origin, sources = copy_sources(args)
            if origin is not None:
                check(origin in names, f"Containerfile:{number}: COPY --from={origin} names no "
                                       f"earlier stage ({names})")
                continue
            for source in sources:
                path = os.path.normpath(os.path.join(harness.REPO, source))
                check(path.startswith(harness.REPO) and os.path.exists(path),
                      f"Containerfile:{number}: COPY source {source} is not in the repository")
                tracked = subprocess.run(["git", "-C", harness.REPO, "ls-files", "--error-unmatch",
                                          source], capture_output=True)
                check(source == "." or tracked.returncode == 0 or
                      not os.path.isdir(os.path.join(harness.REPO, ".git")),
                      f"Containerfile:{number}: COPY source {source} is not committed, and "
                      "build.sh builds from the committed tree")
        names.append(s["name"])

    build, runtime = all_stages[0], all_stages[-1]
    build_runs = " ".join(a for _, op, a in build["instructions"] if op == "RUN")
    check("install-deps.sh" in build_runs, "Containerfile: the build stage does not install its "
                                           "dependencies with deploy/install-deps.sh")
    check("cpack" in build_runs, "Containerfile: the build stage makes no Debian package")
    runtime_runs = " ".join(a for _, op, a in runtime["instructions"] if op == "RUN")
    installs = " ".join(re.findall(r"apt-get install ([^&;|]*)", runtime_runs))
    for word in COMPILERS:
        check(word not in installs, f"Containerfile: the runtime stage installs {word!r}: "
                                    f"{installs}")
    runtime_copies = [a for _, op, a in runtime["instructions"] if op == "COPY"]
    check(any(copy_sources(a)[0] == build["name"] for a in runtime_copies),
          "Containerfile: the runtime stage copies nothing from the build stage")

    users = [a for _, op, a in runtime["instructions"] if op == "USER"]
    check(users, "Containerfile: the runtime stage has no USER: it would run as root")
    user = users[-1].split(":")[0]
    check(user not in ROOT_USERS, f"Containerfile: the runtime stage's USER is {users[-1]}")
    created = re.search(r"useradd\b[^&;]*\s" + re.escape(user) + r"(\s|$)", runtime_runs)
    uid = re.search(r"--uid\s+(\d+)", created.group(0)) if created else None
    check(created or user.isdigit(), f"Containerfile: USER {user} is not created in the "
                                     "runtime stage")
    check(uid is None or int(uid.group(1)) != 0, f"Containerfile: {user} has uid 0")

    labels = " ".join(a for _, op, a in runtime["instructions"] if op == "LABEL")
    m = re.search(r'boundwise\.capabilities="([^"]*)"', labels)
    check(m, "Containerfile: no boundwise.capabilities label")
    added = daemonset_caps()
    declared = set(m.group(1).split(","))
    check(declared == added, f"Containerfile declares capabilities {sorted(declared)}, the "
                             f"DaemonSet adds {sorted(added)}")
    entrypoint = [a for _, op, a in runtime["instructions"] if op == "ENTRYPOINT"]
    check(entrypoint and yaml.safe_load(entrypoint[-1]) == ["/usr/bin/boundwise"],
          f"Containerfile: ENTRYPOINT {entrypoint}, want [\"/usr/bin/boundwise\"]")
    print(f"ok: Containerfile: {len(all_stages)} stages on Debian 12 "
          f"({', '.join(s['name'] or '?' for s in all_stages)}); COPY sources exist; runtime "
          f"user {users[-1]} (not root), no compiler; capabilities {','.join(sorted(declared))} "
          "as the DaemonSet")


def check_build_script():
    p = subprocess.run(["bash", "-n", BUILD_SH], capture_output=True, text=True)
    check(p.returncode == 0, f"bash -n build.sh:\n{p.stderr}")
    check(os.access(BUILD_SH, os.X_OK), "build.sh is not executable")
    p = subprocess.run([BUILD_SH, "--help"], capture_output=True, text=True, timeout=10)
    check(p.returncode == 0 and "--base" in p.stdout and "mmdebstrap" in p.stdout,
          f"build.sh --help: exit {p.returncode}\n{p.stdout}{p.stderr}")
    p = subprocess.run([BUILD_SH, "--jobs", "zero"], capture_output=True, text=True, timeout=10)
    check(p.returncode != 0 and "--jobs" in p.stderr,
          f"build.sh --jobs zero: exit {p.returncode}, want a refusal\n{p.stderr}")
    print("ok: build.sh parses, answers --help and refuses a bad argument")


def project_version():
    with open(os.path.join(harness.REPO, "CMakeLists.txt")) as f:
        m = re.search(r"project\(boundwise VERSION ([0-9.]+)", f.read())
    check(m, "no project version in CMakeLists.txt")
    return m.group(1)


def podman_run_args():
    """The options deploy/container/build.sh adds on machines where podman's defaults
    fail (deploy/README.md, "On this project's VMs"): runc where crun refuses hybrid
    cgroups, and the limits this process holds where it lacks CAP_SYS_RESOURCE."""
    args = []
    try:
        with open("/sys/fs/cgroup/unified/cgroup.controllers") as f:
            hybrid = bool(f.read().strip())
    except OSError:
        hybrid = False
    if hybrid:
        if shutil.which("runc") is None:
            harness.skip("hybrid cgroups, which crun refuses, and runc is not installed")
        args += ["--runtime", "runc"]
    with open("/proc/self/status") as f:
        cap_eff = int(re.search(r"^CapEff:\s*([0-9a-f]+)", f.read(), re.M).group(1), 16)
    if not cap_eff >> 24 & 1:
        nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        nproc = resource.getrlimit(resource.RLIMIT_NPROC)[1]
        with open("/proc/sys/kernel/pid_max") as f:
            pid_max = int(f.read())
        if nproc == resource.RLIM_INFINITY or nproc > pid_max:
            nproc = pid_max
        args += ["--ulimit", f"nofile={nofile}:{nofile}", "--ulimit", f"nproc={nproc}:{nproc}"]
    return args


def check_image(version):
    podman = shutil.which("podman")
    if podman is None:
        print("skip: podman is not installed: the image is not run")
        return
    image = f"localhost/boundwise:{version}"
    if subprocess.run([podman, "image", "exists", image]).returncode != 0:
        print(f"skip: no local image {image}: deploy/container/build.sh builds it (minutes: "
              "not in CI)")
        return
    p = subprocess.run([podman, "image", "inspect", "--format", "{{.Config.User}}", image],
                       capture_output=True, text=True, timeout=30)
    user = p.stdout.strip()
    check(p.returncode == 0 and user and user.split(":")[0] not in ROOT_USERS,
          f"image {image} runs as {user!r}")
    extra = podman_run_args()
    p = subprocess.run([podman, "run", "--rm", *extra, image, "--version"], capture_output=True,
                       text=True, timeout=60)
    check(p.returncode == 0 and version in p.stdout,
          f"podman run {image} --version: exit {p.returncode}\n{p.stdout}{p.stderr}")
    print(f"ok: image {image} runs as {user}: {p.stdout.splitlines()[0]}")

    # As the DaemonSet runs it, on a free port of the host's network.
    port = harness.free_port()
    caps = ",".join(sorted(daemonset_caps()))
    name = f"boundwise-test-{os.getpid()}"
    run = [podman, "run", "--rm", *extra, "--name", name, "--user", "0", "--cap-drop", "all",
           "--cap-add", caps, "--read-only", "--pid", "host", "--network", "host",
           "--security-opt", "no-new-privileges", image,
           "--listen", f"127.0.0.1:{port}", "--window", "2s"]
    agent = subprocess.Popen(run, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        ok = harness.wait_until(lambda: harness.http_get(base + "/healthz", timeout=1)[0] == 200,
                                timeout=30)
        if not ok:
            agent.kill()
            harness.fail(f"the image run as the DaemonSet runs it did not answer /healthz:\n"
                         f"{' '.join(run)}\n{agent.communicate(timeout=10)[0]}")
        status, body = harness.http_get(base + "/metrics")
        check(status == 200 and "boundwise_build_info" in body, f"/metrics: {status}")
        print(f"ok: the image run as root with only {caps}, read-only, hostPID answers "
              "/healthz and /metrics")
    finally:
        subprocess.run([podman, "stop", "--time", "5", name], capture_output=True, timeout=30)
        try:
            agent.wait(timeout=15)
        except subprocess.TimeoutExpired:
            agent.kill()


def daemonset_caps():
    """The capabilities deploy/kubernetes/daemonset.yaml adds, e.g. {"BPF", ...}."""
    with open(os.path.join(deploylib.DEPLOY, "kubernetes", "daemonset.yaml")) as f:
        ds = yaml.safe_load(f)
    return set(ds["spec"]["template"]["spec"]["containers"][0]["securityContext"]
               ["capabilities"]["add"])


def main():
    check(os.path.exists(CONTAINERFILE), f"{CONTAINERFILE} is missing")
    check_containerfile()
    check_build_script()
    check_image(project_version())


if __name__ == "__main__":
    start = time.time()
    main()
    print(f"ok: {time.time() - start:.1f} s")
