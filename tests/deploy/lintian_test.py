"""lintian, Debian's package checker, on the package CPack makes: no error and no
warning. A tag that cannot be fixed is overridden in deploy/debian/lintian-overrides
(installed as /usr/share/lintian/overrides/boundwise), each override under a comment
that says why; this test refuses an override without one, and one that no longer
matches anything (lintian reports it as unused). Info-level tags are printed, not
failed on, except the hardening ones: the binary is built with Debian's hardening flags
(CMakeLists.txt), and a hardening-* tag means they were lost.

Skips (77) when lintian or cpack is not installed.

usage: lintian_test.py --build-dir DIR
"""
import argparse
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deploylib  # noqa: E402
from deploylib import harness  # noqa: E402

OVERRIDES = os.path.join(deploylib.DEPLOY, "debian", "lintian-overrides")


def check_overrides_documented():
    """Every override line sits under a comment giving its reason."""
    count = 0
    previous = ""
    with open(OVERRIDES) as f:
        for number, raw in enumerate(f, 1):
            line = raw.strip()
            if line and not line.startswith("#"):
                count += 1
                if not previous.startswith("#"):
                    harness.fail(f"{OVERRIDES}:{number}: override {line!r} without a comment "
                                 "saying why above it")
            previous = line
    print(f"ok: {count} lintian override(s), each with its reason")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build-dir", required=True)
    args = parser.parse_args()
    for tool in ("lintian", "cpack", "dpkg-shlibdeps"):
        if shutil.which(tool) is None:
            harness.skip(f"{tool} is not installed (deploy/install-deps.sh --test)")
    check_overrides_documented()
    deb = deploylib.build_deb(args.build_dir)
    start = time.monotonic()
    # --fail-on error,warning: warnings fail too unless overridden (with a reason).
    p = subprocess.run(["lintian", "--fail-on", "error,warning", "--display-info",
                        "--tag-display-limit", "0", deb], capture_output=True, text=True,
                       timeout=240)
    elapsed = time.monotonic() - start
    tags = [line for line in p.stdout.splitlines() if line[:2] in ("E:", "W:", "I:")]
    for line in tags:
        print(f"lintian: {line}")
    if p.returncode != 0 or any(line[:2] in ("E:", "W:") for line in tags):
        harness.fail(f"lintian {os.path.basename(deb)}: exit {p.returncode} in {elapsed:.0f} s\n"
                     f"{p.stdout}{p.stderr}")
    hardening = [line for line in tags if " hardening-" in line]
    if hardening:
        harness.fail(f"the binary lacks Debian's hardening flags (CMakeLists.txt): {hardening}")
    unused = [line for line in tags if "unused-override" in line]
    if unused:
        harness.fail(f"overrides that match nothing (remove them from {OVERRIDES}): {unused}")
    print(f"ok: lintian finds no error and no warning in {elapsed:.0f} s "
          f"({len(tags)} info tag(s))")


if __name__ == "__main__":
    main()
