"""Makes the example answers README.md shows ("Asking it during an incident") from a
real run: eight threads calling an HTTP service that takes 200 ms to reply (configured
as the dependency orders-api), watched with 5 s windows until three have closed. Prints
the /recommend document, `boundwise status` and `boundwise explain api`; the README
trims the document by hand (it says what it left out).

usage: tests/readme_example.py [--agent build/daemon/boundwise]   (as root: eBPF)
"""
import argparse
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import harness  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agent", default="build/daemon/boundwise")
    args = parser.parse_args()
    binary = os.path.abspath(args.agent)
    server = harness.start([harness.PYTHON, os.path.join(harness.WORKLOADS,
                                                         "slow_http_server.py"), "0", "0.2"],
                           stdout=subprocess.PIPE, text=True)
    port = int(server.stdout.readline())
    client = harness.start_workload("http_threads.py", str(port), "8")
    agent = harness.Agent(binary, [{"name": "api", "pid": client.pid}], window="5s",
                          dependencies=[("orders-api", f"127.0.0.1:{port}")])
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        _, w = agent.workload("api")
        if w and w.get("stability", {}).get("stable_for_seconds", 0) >= 10:
            break
        time.sleep(1)
    else:
        sys.exit("no third window within 40 s:\n" + agent.read_log()[-2000:])
    _, body = harness.http_get(agent.base + "/recommend?workload=api")
    url = ["--url", agent.base]
    status = subprocess.run([binary, "status", *url], capture_output=True, text=True)
    explain = subprocess.run([binary, "explain", "api", *url], capture_output=True, text=True)
    print("$ curl -s 'localhost:9977/recommend?workload=api'\n" + body)
    print("$ boundwise status\n" + status.stdout)
    print("$ boundwise explain api\n" + explain.stdout)


if __name__ == "__main__":
    main()
