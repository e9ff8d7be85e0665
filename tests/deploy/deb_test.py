"""The Debian package, for real: build it with CPack from the build tree, check its
control data and contents, install it with `dpkg -i`, then run the installed
/usr/bin/boundwise as the `boundwise` user postinst created, holding exactly the
capabilities of the installed unit, against a target blocked on a TCP peer, on a
non-default port: /healthz answers and the target's dependency is seen (which needs
CAP_SYS_PTRACE; the same run without capabilities must not see it). Then `dpkg -r`
and `dpkg --purge`, checking what each leaves.

Needs root (dpkg -i): CI runs as root on a throwaway machine. Skips (77) when not
root, when a tool is missing, or when a boundwise package is already installed (it
would be replaced and removed).

usage: deb_test.py --build-dir DIR
"""
import argparse
import glob
import grp
import os
import pwd
import shutil
import stat
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deploylib  # noqa: E402
from deploylib import harness  # noqa: E402

INSTALLED = {
    "/usr/bin/boundwise",
    "/usr/lib/systemd/system/boundwise.service",
    "/etc/boundwise/boundwise.yaml",
    "/usr/share/doc/boundwise/README.md",
    "/usr/share/doc/boundwise/copyright",
}


def run(args, check=True, **kwargs):
    p = subprocess.run(args, capture_output=True, text=True, **kwargs)
    if check and p.returncode != 0:
        harness.fail(f"{' '.join(args)}: exit {p.returncode}\n{p.stdout}{p.stderr}")
    return p


def installed_status():
    p = run(["dpkg-query", "-W", "-f=${Status}", "boundwise"], check=False)
    status = p.stdout.strip() if p.returncode == 0 else ""
    return "" if status.endswith("not-installed") else status


def build_package(build_dir):
    out = harness.tempdir("boundwise-deb-")
    config = os.path.join(build_dir, "CPackConfig.cmake")
    if not os.path.exists(config):
        harness.fail(f"{config} is missing: is deploy/packaging.cmake included?")
    run(["cpack", "-G", "DEB", "--config", config, "-B", out], cwd=build_dir)
    debs = glob.glob(os.path.join(out, "*.deb"))
    if len(debs) != 1:
        harness.fail(f"cpack made {debs}, want one .deb")
    print(f"ok: cpack built {os.path.basename(debs[0])}")
    return debs[0]


def check_package(deb):
    fields = {}
    for field in ("Package", "Architecture", "Depends", "Version"):
        fields[field] = run(["dpkg-deb", "-f", deb, field]).stdout.strip()
    if fields["Package"] != "boundwise":
        harness.fail(f"Package: {fields['Package']!r}")
    depends = [d.strip().split()[0] for d in fields["Depends"].split(",") if d.strip()]
    # From dpkg-shlibdeps: the C++ runtime and the shared libraries the binary links.
    for want in ("adduser", "libc6", "libstdc++6", "libyaml-cpp0.7"):
        if want not in depends:
            harness.fail(f"Depends lacks {want}: {fields['Depends']}")
    listing = run(["dpkg-deb", "-c", deb]).stdout
    paths = {line.split()[-1].lstrip(".") for line in listing.splitlines()}
    missing = INSTALLED - paths
    if missing:
        harness.fail(f"the package lacks {sorted(missing)}:\n{listing}")
    # The licence: the copyright file says Apache-2.0, the description too.
    files = harness.tempdir("boundwise-files-")
    run(["dpkg-deb", "-x", deb, files])
    with open(os.path.join(files, "usr/share/doc/boundwise/copyright")) as f:
        copyright_text = f.read()
    if "License: Apache-2.0" not in copyright_text:
        harness.fail(f"the copyright file does not say Apache-2.0:\n{copyright_text}")
    if "Apache-2.0" not in run(["dpkg-deb", "-f", deb, "Description"]).stdout:
        harness.fail("the package description does not name its licence")
    control = harness.tempdir("boundwise-ctl-")
    run(["dpkg-deb", "-e", deb, control])
    with open(os.path.join(control, "conffiles")) as f:
        if "/etc/boundwise/boundwise.yaml" not in f.read().split():
            harness.fail("/etc/boundwise/boundwise.yaml is not a conffile")
    for script in ("postinst", "prerm", "postrm"):
        mode = os.stat(os.path.join(control, script)).st_mode
        if not mode & stat.S_IXUSR:
            harness.fail(f"{script} is not executable")
    print(f"ok: {fields['Package']} {fields['Version']} {fields['Architecture']}; "
          f"Depends: {fields['Depends']}")


def check_installed():
    for path in INSTALLED:
        if not os.path.exists(path):
            harness.fail(f"{path} is missing after dpkg -i")
    try:
        user = pwd.getpwnam("boundwise")
    except KeyError:
        harness.fail("postinst did not create the boundwise user")
    if user.pw_uid >= 1000 or user.pw_uid == 0:
        harness.fail(f"boundwise has uid {user.pw_uid}: not a system user")
    if not user.pw_shell.endswith("nologin"):
        harness.fail(f"boundwise has the login shell {user.pw_shell}")
    st = os.stat("/etc/boundwise/boundwise.yaml")
    group = grp.getgrgid(st.st_gid).gr_name
    if st.st_uid != 0 or group != "boundwise" or stat.S_IMODE(st.st_mode) != 0o640:
        harness.fail(f"/etc/boundwise/boundwise.yaml is {oct(stat.S_IMODE(st.st_mode))} "
                     f"uid {st.st_uid} group {group}, want 0640 root:boundwise")
    version = run(["/usr/bin/boundwise", "--version"]).stdout.strip()
    run(["/usr/bin/boundwise", "--check-config", "/etc/boundwise/boundwise.yaml"])
    print(f"ok: installed {version}; user boundwise uid {user.pw_uid}; config 0640 "
          "root:boundwise and valid")
    analyze = shutil.which("systemd-analyze")
    if analyze:
        p = run([analyze, "verify", "/usr/lib/systemd/system/boundwise.service"], check=False)
        if p.returncode != 0 or p.stdout.strip() or p.stderr.strip():
            harness.fail(f"systemd-analyze verify of the installed unit: exit {p.returncode}\n"
                         f"{p.stdout}{p.stderr}")
        print("ok: systemd-analyze verify of the installed unit is clean")
    else:
        print("note: systemd-analyze not installed: installed unit not verified")


def check_runs():
    unit = deploylib.parse_unit("/usr/lib/systemd/system/boundwise.service")
    caps = deploylib.unit_caps(unit, "AmbientCapabilities")
    if not caps:
        harness.fail("the installed unit grants no AmbientCapabilities")
    target = deploylib.BlockedClient()
    endpoint = f"127.0.0.1:{target.port}"
    config = ["window: 2s", "sample_rate: 20", "discovery_interval: 1s", "targets:",
              "  - name: client", f"    pid: {target.process.pid}"]

    agent, base, log = deploylib.run_agent_as("/usr/bin/boundwise", "boundwise", caps, config)
    print(f"ok: /usr/bin/boundwise as boundwise with {' '.join(sorted(caps))} answers "
          f"{base}/healthz")
    status, metrics = harness.http_get(base + "/metrics")
    if status != 200 or "boundwise_build_info" not in metrics:
        harness.fail(f"/metrics: {status}")
    w, seen = deploylib.wait_for_dependency(base, "client", endpoint, 20)
    harness.stop(agent)
    if not seen:
        harness.fail(f"the installed agent with the unit's capabilities did not see the "
                     f"target's dependency {endpoint}:\n{harness.describe(w)}\n"
                     f"{deploylib.read(log)}")
    if "Permission denied" in deploylib.read(log):
        harness.fail(f"permission errors with the unit's capabilities:\n{deploylib.read(log)}")
    print(f"ok: with the unit's capabilities the target's dependency {endpoint} is seen")

    # Control: the same run with no capability must not see it, or the check above
    # proves nothing about the capabilities.
    agent, base, log = deploylib.run_agent_as("/usr/bin/boundwise", "boundwise", set(), config)
    w, seen = deploylib.wait_for_dependency(base, "client", endpoint, 8)
    harness.stop(agent)
    if seen:
        harness.fail("the agent saw the dependency without any capability: the check "
                     "above does not test the unit's capabilities")
    print("ok: without capabilities it is not seen (control)")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build-dir", required=True)
    args = parser.parse_args()
    if os.geteuid() != 0:
        harness.skip("not root: dpkg -i needs root (CI runs as root on a throwaway machine)")
    for tool in ("cpack", "dpkg", "dpkg-deb", "dpkg-shlibdeps", "setpriv", "adduser"):
        if shutil.which(tool) is None:
            harness.skip(f"{tool} is not installed")
    if installed_status():
        harness.skip(f"a boundwise package is already installed ({installed_status()}); "
                     "this test would replace and remove it")

    deb = build_package(args.build_dir)
    check_package(deb)
    try:
        run(["dpkg", "-i", deb])
        if installed_status() != "install ok installed":
            harness.fail(f"after dpkg -i the status is {installed_status()!r}")
        check_installed()
        check_runs()

        run(["dpkg", "-r", "boundwise"])
        if os.path.exists("/usr/bin/boundwise"):
            harness.fail("/usr/bin/boundwise is still there after dpkg -r")
        if not os.path.exists("/etc/boundwise/boundwise.yaml"):
            harness.fail("dpkg -r removed the conffile (only --purge should)")
        print("ok: dpkg -r removed the binary and kept the config")
        run(["dpkg", "--purge", "boundwise"])
        if os.path.exists("/etc/boundwise"):
            harness.fail("/etc/boundwise is still there after dpkg --purge")
        if installed_status():
            harness.fail(f"after --purge the status is {installed_status()!r}")
        print("ok: dpkg --purge removed the config")
    finally:
        if installed_status():
            run(["dpkg", "--purge", "boundwise"], check=False)


if __name__ == "__main__":
    main()
