"""Integration: process topology of Python workloads under the real agent.

- pool_fork / pool_spawn / pool_forkserver: a multiprocessing.Pool of 2 workers
  (tests/workloads/mp_pool.py) is one workload whose start_method is the one used,
  with current_model "processes" and 2 worker processes;
- gunicorn: Debian's gunicorn with 3 sync workers is one workload, current_model
  "processes", server "gunicorn", PSS and USS of the workers reported.

usage: python_topology.py --agent PATH --case pool_fork|pool_spawn|pool_forkserver|gunicorn
"""
import argparse
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402


def watch(binary, name, pid, accept):
    agent = harness.Agent(binary, [{"name": name, "pid": pid}])
    w, ok = harness.wait_for_verdict(agent, name, accept)
    if not ok:
        harness.fail(f"{name}: not as expected; last:\n{harness.describe(w)}\n"
                     f"agent log:\n{agent.read_log()[-2000:]}")
    return w


# Processes below a Pool(2)'s parent once it is up: the two workers, and with spawn a
# resource tracker, with forkserver also the fork server (the workers' parent).
POOL_DESCENDANTS = {"fork": 2, "spawn": 3, "forkserver": 4}


def pool(binary, method):
    p = harness.start_workload("mp_pool.py", 2, method)
    if not harness.wait_until(
            lambda: len(harness.descendants(p.pid)) >= POOL_DESCENDANTS[method], 15):
        harness.fail(f"pool ({method}): {harness.descendants(p.pid)} below the parent after "
                     f"15 s, want {POOL_DESCENDANTS[method]} processes")

    def accept(w):
        return (w.get("start_method") == method and w.get("current_model") == "processes"
                and w["runtime"]["worker_processes"] == 2 and w["runtime"]["kind"] == "python")

    w = watch(binary, "pool", p.pid, accept)
    print(f"ok: pool ({method}): pids {w['pids']}, start_method {w['start_method']}, "
          f"model {w['current_model']}, server {w['runtime']['server']}")


def gunicorn(binary):
    exe = shutil.which("gunicorn")
    if exe is None:
        harness.skip("gunicorn is not installed (apt-get install gunicorn)")
    port = harness.free_port()
    p = harness.start([exe, "-w", "3", "-b", f"127.0.0.1:{port}", "--chdir", harness.WORKLOADS,
                       "wsgi_app:app"])
    deadline = time.time() + 15
    while time.time() < deadline and harness.http_get(f"http://127.0.0.1:{port}/")[0] != 200:
        time.sleep(0.2)

    def accept(w):
        m = w["memory_bytes"]
        return (w.get("current_model") == "processes" and w["runtime"]["server"] == "gunicorn"
                and w["runtime"]["worker_processes"] == 3 and w["processes"] == 4
                and (m["pss"] or 0) > 0 and (m["uss"] or 0) > 0)

    w = watch(binary, "web", p.pid, accept)
    m = w["memory_bytes"]
    print(f"ok: gunicorn: {w['processes']} processes, model {w['current_model']}, "
          f"start_method {w['start_method']}, PSS {m['pss']} USS {m['uss']} shared {m['shared']}")


def exec_after_discovery(binary):
    # A wrapper that execs python once the agent has already seen it (as pyenv's shim
    # or a service's start script does): same pid, same start time, new executable.
    # The runtime must be detected again, not stay "native".
    code = "import threading\nwhile True: pass"
    p = harness.start(["sh", "-c", f"sleep 3; exec {harness.PYTHON} -c '{code}'"])
    agent = harness.Agent(binary, [{"name": "wrapped", "pid": p.pid}])
    w, ok = harness.wait_for_verdict(
        agent, "wrapped", lambda w: (w.get("runtime") or {}).get("kind") == "python", windows=6)
    if not ok:
        harness.fail(f"a process that exec'd python after discovery is not seen as Python:\n"
                     f"{harness.describe(w)}")
    print(f"ok: exec after discovery: {w['runtime']}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--agent", required=True)
    parser.add_argument("--case", required=True,
                        choices=["pool_fork", "pool_spawn", "pool_forkserver", "gunicorn",
                                 "exec_after_discovery"])
    args = parser.parse_args()
    if os.geteuid() != 0:
        harness.skip("reading other processes' maps and memory needs root")
    if args.case == "gunicorn":
        gunicorn(args.agent)
    elif args.case == "exec_after_discovery":
        exec_after_discovery(args.agent)
    else:
        pool(args.agent, args.case[len("pool_"):])


if __name__ == "__main__":
    sys.exit(main())
