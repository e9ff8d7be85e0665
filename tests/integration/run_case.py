"""Integration cases: one labelled workload (tests/workloads/) run for real, watched by
the real agent, asserted on the class and model the agent reports within 3 windows.

usage: run_case.py --agent PATH --case NAME
"""
import atexit
import os
import signal
import pwd
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402

PG_BIN = "/usr/lib/postgresql/15/bin"


def expect(agent, name, classes, models, extra=None):
    def accept(w):
        return (w["verdict"]["class"] in classes and w["recommendation"]["model"] in models
                and (extra is None or extra(w)))

    w, ok = harness.wait_for_verdict(agent, name, accept)
    if not ok:
        harness.fail(f"workload {name}: expected class in {classes} and model in {models}; "
                     f"last verdict:\n{harness.describe(w)}\nagent log:\n{agent.read_log()[-3000:]}")
    print(f"ok: {name}: {w['verdict']['class']} / {w['recommendation']['model']}: "
          f"{w['recommendation']['summary']}")
    return w


def slow_server(delay):
    p = harness.start([harness.PYTHON, os.path.join(harness.WORKLOADS, "slow_http_server.py"),
                       "0", str(delay)], stdout=subprocess.PIPE, text=True)
    port = int(p.stdout.readline().strip())
    return p, port


def start_postgres():
    """A private PostgreSQL cluster on a free loopback port, owned by user postgres."""
    if not os.path.exists(os.path.join(PG_BIN, "initdb")):
        harness.skip(f"PostgreSQL 15 is not installed ({PG_BIN}/initdb missing)")
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        harness.skip("python3-psycopg2 is not installed")
    if os.geteuid() != 0:
        harness.skip("starting PostgreSQL as user postgres needs root (runuser)")
    try:
        pw = pwd.getpwnam("postgres")
    except KeyError:
        harness.skip("no postgres user on this machine")
    data = tempfile.mkdtemp(prefix="boundwise-pg-")
    harness._tempdirs.append(data)
    os.chown(data, pw.pw_uid, pw.pw_gid)
    as_pg = ["runuser", "-u", "postgres", "--"]
    subprocess.run(as_pg + [f"{PG_BIN}/initdb", "-D", f"{data}/db", "-A", "trust", "-U",
                            "postgres"], check=True, stdout=subprocess.DEVNULL)
    port = harness.free_port()
    server = harness.start(as_pg + [f"{PG_BIN}/postgres", "-D", f"{data}/db", "-k", data,
                                    "-h", "127.0.0.1", "-p", str(port), "-c", "fsync=off"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 30
    while time.time() < deadline:
        ready = subprocess.run([f"{PG_BIN}/pg_isready", "-h", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL)
        if ready.returncode == 0:
            return server, port
        time.sleep(0.2)
    harness.fail("PostgreSQL did not become ready in 30 s")


def case_cpu_single(binary):
    p = harness.start_workload("cpu_single.py")
    agent = harness.Agent(binary, [{"name": "cpu", "pid": p.pid}])
    expect(agent, "cpu", {"cpu_bound"}, {"processes"})


def case_gil_threads(binary):
    p = harness.start_workload("gil_threads.py", 4)
    agent = harness.Agent(binary, [{"name": "gil", "pid": p.pid}])
    w = expect(agent, "gil", {"gil_contended"}, {"processes"})
    if w["verdict"]["shares"]["gil"] <= 0.3:
        harness.fail(f"GIL share {w['verdict']['shares']['gil']} too low")


def case_native_threads(binary):
    p = harness.start_workload("native_threads.py", 2)
    agent = harness.Agent(binary, [{"name": "hash", "pid": p.pid}])
    expect(agent, "hash", {"cpu_parallel"}, {"threads"})


def case_http_threads(binary):
    _, port = slow_server(0.2)
    p = harness.start_workload("http_threads.py", port, 8)
    agent = harness.Agent(binary, [{"name": "client", "pid": p.pid}])
    endpoint = f"127.0.0.1:{port}"

    def has_dependency(w):
        return any(d["endpoint"] == endpoint for d in w["verdict"]["dependencies"])

    w = expect(agent, "client", {"io_network"}, {"threads"}, has_dependency)
    dep = next(d for d in w["verdict"]["dependencies"] if d["endpoint"] == endpoint)
    if dep["wait_share"] < 0.5:
        harness.fail(f"dependency wait share {dep['wait_share']} < 0.5: {dep}")


def case_asyncio_client(binary):
    _, port = slow_server(0.2)
    p = harness.start_workload("asyncio_client.py", port, 64)
    agent = harness.Agent(binary, [{"name": "aio", "pid": p.pid}])
    expect(agent, "aio", {"io_network"}, {"asyncio"})


def case_pg_threads(binary):
    _, pg_port = start_postgres()
    p = harness.start_workload("pg_threads.py", pg_port, 4, 0.2)
    agent = harness.Agent(binary, [{"name": "orders", "pid": p.pid}],
                          dependencies=[("orders-db", f"127.0.0.1:{pg_port}")])

    def named(w):
        return any(d["name"] == "orders-db" for d in w["verdict"]["dependencies"])

    w = expect(agent, "orders", {"io_network"}, {"threads"}, named)
    dep = next(d for d in w["verdict"]["dependencies"] if d["name"] == "orders-db")
    latency = dep["latency_seconds"]
    if latency is None or not 0.1 <= latency["p50"] <= 0.4:
        harness.fail(f"orders-db latency estimate {latency} is not near pg_sleep(0.2)")


def case_fsync_writer(binary):
    d = harness.tempdir("boundwise-fsync-")
    p = harness.start_workload("fsync_writer.py", d)
    agent = harness.Agent(binary, [{"name": "writer", "pid": p.pid}])
    expect(agent, "writer", {"io_disk"}, {"threads"})


def case_lock_contention(binary):
    p = harness.start_workload("lock_contention.py", 6)
    agent = harness.Agent(binary, [{"name": "locks", "pid": p.pid}])
    expect(agent, "locks", {"lock_contended"}, {"none"})


def case_idle_service(binary):
    p = harness.start_workload("idle_service.py")
    agent = harness.Agent(binary, [{"name": "quiet", "pid": p.pid}])
    expect(agent, "quiet", {"idle"}, {"none"})


def case_mp_pool(binary):
    p = harness.start_workload("mp_pool.py", 2, "forkserver")
    # Up: resource tracker, forkserver and 2 workers below the parent.
    if not harness.wait_until(lambda: len(harness.descendants(p.pid)) >= 4, 15):
        harness.fail(f"the pool did not start within 15 s: {harness.descendants(p.pid)}")
    agent = harness.Agent(binary, [{"name": "pool", "pid": p.pid}])

    def grouped(w):
        return len(w["pids"]) >= 4  # parent, resource tracker, forkserver, 2 workers

    w = expect(agent, "pool", {"cpu_parallel", "cpu_saturated", "cpu_bound"},
               {"processes", "scale_out"}, grouped)
    print(f"pool pids: {w['pids']}")


def case_cpu_saturated(binary):
    if shutil.which("stress-ng") is None:
        harness.skip("stress-ng is not installed (apt-get install stress-ng)")
    cpus = os.cpu_count() or 2
    p = harness.start(["stress-ng", "--cpu", str(cpus * 2), "--cpu-method", "int64",
                       "--timeout", "120s", "--quiet"])
    if not harness.wait_until(lambda: len(harness.descendants(p.pid)) >= cpus * 2, 10):
        harness.fail(f"stress-ng did not start its {cpus * 2} hogs within 10 s")
    agent = harness.Agent(binary, [{"name": "hog", "pid": p.pid}])
    expect(agent, "hog", {"cpu_saturated"}, {"scale_out"})


def case_auto_discovery(binary):
    # No targets: the agent must find the busy tree by itself and name it by its
    # executable. The workload is started detached (its parent exits), so it is the
    # root of its own tree, as a service started by an init system would be.
    launcher = harness.start(["sh", "-c", f"{harness.PYTHON} "
                              f"{os.path.join(harness.WORKLOADS, 'cpu_single.py')} </dev/null >/dev/null 2>&1 & "
                              "echo $!"],
                             stdout=subprocess.PIPE, text=True)
    pid = int(launcher.stdout.readline())
    # The launcher exits at once, so the harness's cleanup (which kills the process
    # groups of processes still running) would miss the detached workload.
    atexit.register(lambda: os.kill(pid, signal.SIGKILL) if os.path.exists(f"/proc/{pid}") else None)
    agent = harness.Agent(binary, [])
    deadline = time.time() + 15
    while time.time() < deadline:
        doc = agent.recommend() or {"workloads": []}
        for w in doc["workloads"]:
            if pid in w["pids"] and w.get("verdict") and w["verdict"]["class"] == "cpu_bound":
                if not w["workload"].startswith("python3"):
                    harness.fail(f"auto-discovered workload named {w['workload']!r}, "
                                 "want the executable name")
                print(f"ok: auto-discovered {w['workload']} (pids {w['pids']}): "
                      f"{w['verdict']['class']}")
                return
        time.sleep(0.5)
    harness.fail(f"pid {pid} not auto-discovered as cpu_bound:\n"
                 f"{harness.describe(agent.recommend())}")


CASES = {name[len("case_"):]: fn for name, fn in globals().items() if name.startswith("case_")}


if __name__ == "__main__":
    harness.run_cases(CASES)
