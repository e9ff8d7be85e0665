"""Targets whose owners (or whose size) could hurt the agent, run against the real agent.
Each case must leave the agent answering /healthz and closing windows, with the
target still classified — never a hang, a crash or a wrong answer.

  deleted_exe_fifo    the interpreter's file deleted after start and a FIFO put at
                      "<path> (deleted)", the name maps and exe then show (an open()
                      of it without O_NONBLOCK blocks for good)
  deleted_exe_sparse  a sparse 100 GiB file at that name
  replaced_exe        another ELF file (/bin/true) at that name
  fd_limit            a target with 2 000 idle threads, the agent under an open-files
                      limit of 1 024 (soft and hard): the agent stays within it, answers
                      every request, reports its privileges truly and counts every thread
  threads_20k         a target with 20 000 threads: windows keep closing on time
  fds_100k            a target holding 100 000 open fds (or as many as the hard limit
                      allows without CAP_SYS_RESOURCE), blocked on a socket: windows
                      keep closing on time and the wait is still attributed
  renaming            a busy auto-discovered process renaming itself every millisecond:
                      one workload, one name, no series churn

usage: hostile_targets.py --agent PATH --case NAME
"""
import os
import resource
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import harness  # noqa: E402

WINDOW_SECONDS = 1.0


def python_with_deleted_file(make_substitute):
    """Starts a copy of Debian's interpreter running a CPU-bound loop, deletes the copy
    and lets `make_substitute(path)` put something at "<path> (deleted)". Returns the
    process."""
    if not os.path.exists(harness.PYTHON):
        harness.skip(f"no {harness.PYTHON}")
    d = harness.tempdir("boundwise-hostile-")
    exe = os.path.join(d, "python3.11")
    shutil.copy2(os.path.realpath(harness.PYTHON), exe)
    p = harness.start([exe, os.path.join(harness.WORKLOADS, "cpu_single.py")])

    def mapped():  # the interpreter has mapped itself (exec maps it: at once, normally)
        try:
            with open(f"/proc/{p.pid}/maps") as f:
                return exe in f.read()
        except OSError:
            return False

    if not harness.wait_until(mapped, 10):
        harness.fail(f"{exe} is not in /proc/{p.pid}/maps after 10 s")
    os.unlink(exe)
    shown = os.readlink(f"/proc/{p.pid}/exe")
    if shown != exe + " (deleted)":
        harness.fail(f"/proc/{p.pid}/exe shows {shown!r}, expected {exe + ' (deleted)'!r}")
    make_substitute(shown)
    return p


def require_agent_unharmed(binary, p):
    """The agent, started after the substitution, keeps answering and closing windows,
    and still finds the interpreter (from the mapped file, not the name)."""
    agent = harness.Agent(binary, [{"name": "hostile", "pid": p.pid}],
                          window=f"{WINDOW_SECONDS:g}s", sample_rate=10)
    first = None
    deadline = time.time() + 8 * WINDOW_SECONDS + 10
    while time.time() < deadline:
        status, _ = harness.http_get(agent.base + "/healthz", timeout=2)
        if status != 200:
            harness.fail(f"/healthz answered {status}:\n{agent.read_log()[-3000:]}")
        doc, w = agent.workload("hostile")
        if doc is not None:
            first = doc["windows_completed"] if first is None else first
            if doc["windows_completed"] >= first + 3 and w is not None and w.get("verdict"):
                runtime = w.get("runtime") or {}
                if runtime.get("kind") != "python":
                    harness.fail(f"runtime {runtime}: the interpreter was not read from the "
                                 f"mapped file\n{agent.read_log()[-3000:]}")
                print(f"ok: {doc['windows_completed'] - first} windows closed, verdict "
                      f"{w['verdict']['class']}, runtime {runtime['kind']} {runtime['version']}")
                agent.stop()
                return
        time.sleep(0.2)
    harness.fail(f"windows stopped closing (first {first}):\n{agent.read_log()[-3000:]}")


def case_deleted_exe_fifo(binary):
    p = python_with_deleted_file(lambda path: os.mkfifo(path, 0o600))
    require_agent_unharmed(binary, p)


def case_deleted_exe_sparse(binary):
    def sparse(path):
        with open(path, "wb") as f:
            f.truncate(100 << 30)
    p = python_with_deleted_file(sparse)
    require_agent_unharmed(binary, p)


def case_replaced_exe(binary):
    p = python_with_deleted_file(lambda path: shutil.copy2("/bin/true", path))
    require_agent_unharmed(binary, p)


MANY_THREADS = """
import threading
threading.stack_size(256 * 1024)
stop = threading.Event()
for _ in range(2000):
    threading.Thread(target=stop.wait, daemon=True).start()
print("ready", flush=True)
stop.wait()
"""


def case_fd_limit(binary):
    limit = 1024
    p = harness.start([harness.PYTHON, "-c", MANY_THREADS], stdout=subprocess.PIPE, text=True)
    if p.stdout.readline().strip() != "ready":
        harness.fail("the 2 000-thread target did not start")
    threads = len(os.listdir(f"/proc/{p.pid}/task"))

    def low_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

    agent = harness.Agent(binary, [{"name": "many", "pid": p.pid}],
                          window=f"{WINDOW_SECONDS:g}s", sample_rate=10, preexec_fn=low_limit)
    most_fds = 0
    first = None
    counted = None
    deadline = time.time() + 6 * WINDOW_SECONDS + 15
    while time.time() < deadline:
        most_fds = max(most_fds, len(os.listdir(f"/proc/{agent.process.pid}/fd")))
        status, _ = harness.http_get(agent.base + "/healthz", timeout=2)
        if status != 200:
            harness.fail(f"/healthz answered {status} (fds {most_fds}):\n"
                         f"{agent.read_log()[-3000:]}")
        doc, w = agent.workload("many")
        if doc is not None:
            first = doc["windows_completed"] if first is None else first
            if w is not None and w.get("verdict") is not None:
                counted = w["threads"]
            if doc["windows_completed"] >= first + 4 and counted is not None:
                break
        time.sleep(0.1)
    else:
        harness.fail(f"windows stopped closing:\n{agent.read_log()[-3000:]}")
    log = agent.read_log()
    problems = []
    # Half the limit for kept procfs files, the rest for BPF maps and programs, the
    # listener and its connections, and one-read opens: a quarter left free at least.
    if most_fds > limit * 3 // 4:
        problems.append(f"the agent held {most_fds} fds under a limit of {limit}")
    if "Too many open files" in log:
        problems.append("the log reports 'Too many open files'")
    if os.geteuid() == 0 and " unavailable: " in log:
        problems.append("a privilege is reported unavailable although the agent runs as root")
    if counted is None or counted < threads - 5:
        problems.append(f"the workload counts {counted} threads, the target has {threads}")
    if problems:
        harness.fail("; ".join(problems) + "\n" + log[-3000:])
    print(f"ok: at most {most_fds} fds under a limit of {limit}; {counted} of {threads} "
          f"threads counted")


def require_windows_on_time(agent, name, windows=4, check=None):
    """Polls until `windows` windows have closed after the first one that shows `name`
    with a verdict, each no later than 2.5 window lengths after the previous; /healthz
    must answer throughout. Returns the last workload JSON."""
    last_count = None
    last_time = None
    closed = 0
    w = None
    deadline = time.time() + 60
    while time.time() < deadline and closed < windows:
        status, _ = harness.http_get(agent.base + "/healthz", timeout=2)
        if status != 200:
            harness.fail(f"/healthz answered {status}:\n{agent.read_log()[-3000:]}")
        doc, w = agent.workload(name)
        now = time.time()
        if doc is not None and w is not None and w.get("verdict") is not None:
            if last_count is None or doc["windows_completed"] > last_count:
                if last_count is not None:
                    closed += doc["windows_completed"] - last_count
                last_count, last_time = doc["windows_completed"], now
            elif now - last_time > 2.5 * WINDOW_SECONDS + 1:
                harness.fail(f"no window closed for {now - last_time:.1f} s:\n"
                             f"{agent.read_log()[-3000:]}")
        time.sleep(0.1)
    if closed < windows:
        harness.fail(f"{closed} windows closed in 60 s:\n{agent.read_log()[-3000:]}")
    if check:
        check(w)
    return w


def case_threads_20k(binary):
    n = 20000
    free = int(open("/proc/sys/kernel/pid_max").read()) - len(os.listdir("/proc"))
    if free < n + 2000:
        harness.skip(f"kernel.pid_max leaves room for {free} more tasks, {n} needed")
    code = MANY_THREADS.replace("range(2000)", f"range({n})").replace("256 * 1024", "64 * 1024")
    p = harness.start([harness.PYTHON, "-c", code], stdout=subprocess.PIPE, text=True)
    if p.stdout.readline().strip() != "ready":
        harness.fail(f"the {n}-thread target did not start")
    agent = harness.Agent(binary, [{"name": "huge", "pid": p.pid}],
                          window=f"{WINDOW_SECONDS:g}s", sample_rate=5)

    def counted(w):
        if w["threads"] < n:
            harness.fail(f"{w['threads']} threads counted, the target has {n + 1}")
    w = require_windows_on_time(agent, "huge", check=counted)
    print(f"ok: {w['threads']} threads, windows on time")


MANY_FDS = """
import os, resource, socket, time
try:
    resource.setrlimit(resource.RLIMIT_NOFILE, (100100, 100100))
    n = 100000
except (ValueError, OSError):  # no CAP_SYS_RESOURCE here: as many as the hard limit allows
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    n = hard - 100
keep = [os.open("/dev/null", os.O_RDONLY) for _ in range(n)]
server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen()
client = socket.create_connection(server.getsockname())
peer, _ = server.accept()
print("ready", n, flush=True)
client.recv(1)  # blocks: the peer never writes
"""


def case_fds_100k(binary):
    p = harness.start([harness.PYTHON, "-c", MANY_FDS], stdout=subprocess.PIPE, text=True)
    ready = p.stdout.readline().split()
    if not ready or ready[0] != "ready":
        harness.fail("the many-fd target did not start")
    fds = int(ready[1])
    if fds < 10000:
        harness.skip(f"the open-files hard limit allows only {fds} fds (CAP_SYS_RESOURCE "
                     "would raise it to 100 000)")
    agent = harness.Agent(binary, [{"name": "fds", "pid": p.pid}],
                          window=f"{WINDOW_SECONDS:g}s", sample_rate=10)

    def waits_on_the_socket(w):
        shares = w["verdict"]["shares"]
        if shares.get("net", 0) + shares.get("idle", 0) < 0.5:
            harness.fail(f"the socket wait is not attributed: {shares}")
    require_windows_on_time(agent, "fds", check=waits_on_the_socket)
    print(f"ok: windows on time with {fds} fds in the target"
          + ("" if fds >= 100000 else " (the most this machine's hard limit allows)"))


RENAMING = """
import ctypes, itertools, time
libc = ctypes.CDLL(None)
for i in itertools.count():
    libc.prctl(15, f"evil{i % 100000}".encode(), 0, 0, 0)  # PR_SET_NAME, the process comm
    end = time.monotonic() + 0.001
    while time.monotonic() < end:
        pass
"""


def case_renaming(binary):
    p = harness.start([harness.PYTHON, "-c", RENAMING])
    agent = harness.Agent(binary, [], window=f"{WINDOW_SECONDS:g}s", sample_rate=10)
    names = set()
    deadline = time.time() + 8 * WINDOW_SECONDS + 5
    while time.time() < deadline:
        doc = agent.recommend()
        if doc:
            for w in doc["workloads"]:
                if p.pid in w.get("pids", []):
                    names.add(w["workload"])
        time.sleep(0.2)
    metrics = harness.http_get(agent.base + "/metrics")[1]
    evil_series = {line.split('workload="')[1].split('"')[0]
                   for line in metrics.splitlines() if 'workload="evil' in line}
    if len(names) != 1 or len(evil_series) > 1:
        harness.fail(f"the renaming process was seen as {sorted(names)}; series under "
                     f"{sorted(evil_series)}")
    print(f"ok: one workload ({names.pop()}) for a process renaming itself every ms")


if __name__ == "__main__":
    harness.run_cases({
        "deleted_exe_fifo": case_deleted_exe_fifo,
        "deleted_exe_sparse": case_deleted_exe_sparse,
        "replaced_exe": case_replaced_exe,
        "fd_limit": case_fd_limit,
        "threads_20k": case_threads_20k,
        "fds_100k": case_fds_100k,
        "renaming": case_renaming,
    })
