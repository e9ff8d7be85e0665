"""The Debian package, for real: build it with CPack from the build tree, check its
control data and contents (the changelog names the package's version; the man page
renders without a groff warning and documents every option of `boundwise --help` and
of each subcommand's; the maintainer scripts go through deb-systemd-helper and
deb-systemd-invoke, never systemctl enable/start/stop), install it with `dpkg -i`
(the unit is enabled; an administrator's disable survives a reinstall), then run the
installed
/usr/bin/boundwise as the `boundwise` user postinst created, holding exactly the
capabilities of the installed unit, against a target blocked on a TCP peer, on a
non-default port: /healthz answers and the target's dependency is seen (which needs
CAP_SYS_PTRACE; the same run without capabilities must not see it). Then `dpkg -r`
and `dpkg --purge`, checking what each leaves (purge removes the enablement).

Needs root (dpkg -i): CI runs as root on a throwaway machine. Skips (77) when not
root, when a tool is missing, or when a boundwise package is already installed (it
would be replaced and removed).

usage: deb_test.py --build-dir DIR
"""
import argparse
import grp
import gzip
import os
import pwd
import re
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
    "/usr/share/doc/boundwise/changelog.gz",
    "/usr/share/doc/boundwise/CONFIG.md",
    "/usr/share/man/man8/boundwise.8.gz",
    "/usr/share/lintian/overrides/boundwise",
}
# What deb-systemd-helper enable makes for the unit's WantedBy=multi-user.target.
WANTS = "/etc/systemd/system/multi-user.target.wants/boundwise.service"


def run(args, check=True, **kwargs):
    p = subprocess.run(args, capture_output=True, text=True, **kwargs)
    if check and p.returncode != 0:
        harness.fail(f"{' '.join(args)}: exit {p.returncode}\n{p.stdout}{p.stderr}")
    return p


def installed_status():
    p = run(["dpkg-query", "-W", "-f=${Status}", "boundwise"], check=False)
    status = p.stdout.strip() if p.returncode == 0 else ""
    return "" if status.endswith("not-installed") else status


def long_options(binary):
    """Every --option of `binary --help` and of each subcommand's --help, and the
    subcommands (read from --help): {"--config", ..., "status", ...}."""
    top = run([binary, "--help"]).stdout
    # CLI11: "Subcommands:" then one indented "  NAME  description" line each.
    section = top.split("Subcommands:", 1)[1].split("\n\n", 1)[0] if "Subcommands:" in top else ""
    subcommands = re.findall(r"^  ([a-z][a-z-]*)\s", section, re.M)
    if not {"status", "explain", "replay"} <= set(subcommands):
        harness.fail(f"subcommands {subcommands} read from --help: has its format changed?")
    found = set(subcommands)
    for sub in ["", *subcommands]:
        text = run([binary, sub, "--help"] if sub else [binary, "--help"]).stdout
        found |= set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]+)", text))
    if len(found) < 15:
        harness.fail(f"found only {sorted(found)} in --help: has its format changed?")
    return found


def check_docs(files, version):
    with gzip.open(os.path.join(files, "usr/share/doc/boundwise/changelog.gz"), "rt") as f:
        first = f.readline()
    m = re.match(r"boundwise \(([^)]+)\) \S+; urgency=\w+", first)
    if not m or m.group(1) != version:
        harness.fail(f"the changelog's newest entry {first.strip()!r} is not for version {version}")
    man = os.path.join(files, "usr/share/man/man8/boundwise.8.gz")
    if shutil.which("man"):
        p = run(["man", "--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z", man],
                env={**os.environ, "LC_ALL": "C.UTF-8", "MANWIDTH": "80"})
        if p.stderr.strip():
            harness.fail(f"groff warnings in the man page:\n{p.stderr}")
    else:
        print("note: man-db is not installed: the man page's groff warnings are not checked")
    with gzip.open(man, "rt") as f:
        page = f.read()
    if f'"boundwise {version}"' not in page:
        harness.fail(f"the man page's .TH does not name version {version}")
    # In roff source a dash is written \-: compare with those undone.
    text = page.replace("\\-", "-")
    missing = sorted(o for o in long_options(os.path.join(files, "usr/bin/boundwise"))
                     if not re.search(r"(?<![\w-])" + re.escape(o) + r"(?![\w-])", text))
    if missing:
        harness.fail(f"the man page (deploy/debian/boundwise.8.in) does not document {missing}")
    print(f"ok: changelog names {version}; boundwise(8) renders cleanly and documents every "
          "option and subcommand of --help")


def check_maintainer_scripts(control):
    for script in ("postinst", "prerm", "postrm"):
        with open(os.path.join(control, script)) as f:
            text = f.read()
        direct = re.findall(r"systemctl\s+(?:--\S+\s+)*(enable|disable|start|stop|restart|mask)",
                            text)
        if direct:
            harness.fail(f"{script} calls systemctl {direct[0]}: deb-systemd-helper and "
                         "deb-systemd-invoke do that (they honour the administrator's choice "
                         "and policy-rc.d)")
    with open(os.path.join(control, "postinst")) as f:
        postinst = f.read()
    for want in ("deb-systemd-helper enable", "deb-systemd-invoke"):
        if want not in postinst:
            harness.fail(f"postinst lacks {want}")
    with open(os.path.join(control, "postrm")) as f:
        if "deb-systemd-helper purge" not in f.read():
            harness.fail("postrm lacks deb-systemd-helper purge")
    print("ok: maintainer scripts go through deb-systemd-helper and deb-systemd-invoke")


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
    check_maintainer_scripts(control)
    check_docs(files, fields["Version"])
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


def check_enablement(deb):
    """postinst enabled the unit through deb-systemd-helper; once the administrator
    disables it, a reinstall (an upgrade) must not enable it again."""
    if not os.path.islink(WANTS) or os.path.basename(os.readlink(WANTS)) != "boundwise.service":
        harness.fail(f"postinst did not enable the unit: {WANTS} is not a link to it")
    if shutil.which("systemctl") is None:
        print("note: systemctl is not installed: an administrator's disable is not tried")
        return
    # systemctl edits the links itself when no systemd runs (CI's containers).
    run(["systemctl", "disable", "boundwise.service"])
    if os.path.lexists(WANTS):
        harness.fail(f"systemctl disable left {WANTS}")
    run(["dpkg", "-i", deb])
    if os.path.lexists(WANTS):
        harness.fail("a reinstall enabled the unit the administrator had disabled")
    run(["systemctl", "enable", "boundwise.service"])
    print("ok: postinst enables the unit; an administrator's disable survives a reinstall")


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
    for tool in ("cpack", "dpkg", "dpkg-deb", "dpkg-shlibdeps", "setpriv", "adduser",
                 "deb-systemd-helper", "man"):
        if shutil.which(tool) is None:
            harness.skip(f"{tool} is not installed")
    if installed_status():
        harness.skip(f"a boundwise package is already installed ({installed_status()}); "
                     "this test would replace and remove it")

    deb = deploylib.build_deb(args.build_dir)
    check_package(deb)
    try:
        run(["dpkg", "-i", deb])
        if installed_status() != "install ok installed":
            harness.fail(f"after dpkg -i the status is {installed_status()!r}")
        check_installed()
        check_enablement(deb)
        check_runs()

        # What systemd's StateDirectory=boundwise would hold: -r keeps it, --purge not.
        state = "/var/lib/boundwise"
        os.makedirs(state, exist_ok=True)
        with open(os.path.join(state, "deb-test"), "w") as f:
            f.write("state\n")
        run(["dpkg", "-r", "boundwise"])
        if not os.path.exists(os.path.join(state, "deb-test")):
            harness.fail(f"dpkg -r removed {state} (only --purge should)")
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
        if os.path.lexists(WANTS):
            harness.fail(f"{WANTS} is still there after dpkg --purge")
        if os.path.exists(state):
            harness.fail(f"{state} is still there after dpkg --purge")
        print(f"ok: dpkg --purge removed the config, {state} and the unit's enablement")
    finally:
        if installed_status():
            run(["dpkg", "--purge", "boundwise"], check=False)


if __name__ == "__main__":
    main()
