"""What the agent's memory is made of while it watches one process of N idle threads:
its RSS (/proc/PID/status, and smaps_rollup's anonymous and file-backed parts) and what
its memory cgroup is charged — user pages and kernel memory (cgroup v1
memory.kmem.usage_in_bytes: slab, the kept-open procfs files' seq_file pages, BPF maps)
— with the kept-open file cache at the sizes given (max_open_files; 0 = automatic).
(Not bench/many_threads.py: its busy threads hold the GIL while it starts the others,
1 300 threads in 30 s here.) The agent runs in a fresh v1 memory cgroup of its own (no limit unless --limit-mib),
default config otherwise (eBPF on where permitted), after --settle seconds.

usage: bench/agent_memory.py --agent build/daemon/boundwise [--threads 2000,10000] \
           [--max-open-files 0,2000,500] [--sample-rate 20] [--settle 20] [--limit-mib N]
Needs root and cgroup v1's memory controller (this project's CI machines). Memory
figures do not depend on the machine's load; the load average is printed anyway.
"""
import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "lib"))
import harness  # noqa: E402

MEMCG = "/sys/fs/cgroup/memory"
IDLE_CODE = """
import sys, threading
stop = threading.Event()
for _ in range(int(sys.argv[1]) - 1):
    threading.Thread(target=stop.wait, daemon=True).start()
stop.wait()
"""


def kib_fields(path, names):
    out = {}
    with open(path) as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in names:
                out[key] = int(rest.split()[0])
    return out


def read_int(path):
    with open(path) as f:
        return int(f.read())


def memory_stat(cg):
    out = {}
    with open(os.path.join(cg, "memory.stat")) as f:
        for line in f:
            key, value = line.split()
            out[key] = int(value)
    return out


def measure(binary, threads, max_open_files, args):
    cg = os.path.join(MEMCG, f"boundwise-memory-{os.getpid()}-{threads}-{max_open_files}")
    os.mkdir(cg)
    target = agent = None
    try:
        if args.limit_mib:
            with open(os.path.join(cg, "memory.limit_in_bytes"), "w") as f:
                f.write(str(args.limit_mib << 20))
        target = harness.start(["/usr/bin/python3", "-c", IDLE_CODE, str(threads)])
        if not harness.wait_until(lambda: harness.thread_count(target.pid) >= threads, 180):
            sys.exit(f"the target did not start its {threads} threads")

        def join():
            with open(os.path.join(cg, "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))

        extra = f"max_open_files: {max_open_files}" if max_open_files else ""
        agent = harness.Agent(binary, [{"name": "idle", "pid": target.pid}],
                              sample_rate=args.sample_rate, extra=extra, preexec_fn=join,
                              healthy_timeout=60)
        time.sleep(args.settle)
        pid = agent.process.pid
        status = kib_fields(f"/proc/{pid}/status", {"VmRSS", "VmHWM", "RssAnon", "RssFile"})
        rollup = kib_fields(f"/proc/{pid}/smaps_rollup", {"Rss", "Anonymous", "Pss_File"})
        stat = memory_stat(cg)
        kept = next((line.split("keeping at most ")[1].split(" procfs")[0]
                     for line in agent.read_log().splitlines() if "keeping at most" in line), "?")
        fds = len(os.listdir(f"/proc/{pid}/fd"))
        row = {
            "threads": threads, "max_open_files": max_open_files or "auto", "kept_max": kept,
            "fds": fds, "rss": status["VmRSS"] / 1024, "hwm": status["VmHWM"] / 1024,
            "anon": rollup.get("Anonymous", 0) / 1024, "file": status.get("RssFile", 0) / 1024,
            "cg_usage": read_int(os.path.join(cg, "memory.usage_in_bytes")) / 2**20,
            "cg_peak": read_int(os.path.join(cg, "memory.max_usage_in_bytes")) / 2**20,
            "cg_user": (stat.get("rss", 0) + stat.get("cache", 0)) / 2**20,
            "cg_kmem": read_int(os.path.join(cg, "memory.kmem.usage_in_bytes")) / 2**20,
            "load": os.getloadavg()[0],
        }
        print("| {threads} | {max_open_files} | {kept_max} | {fds} | {rss:.1f} ({hwm:.1f}) | "
              "{anon:.1f} | {file:.1f} | {cg_usage:.1f} ({cg_peak:.1f}) | {cg_user:.1f} | "
              "{cg_kmem:.1f} | {load:.2f} |".format(**row), flush=True)
    finally:
        for p in (agent.process if agent else None, target):
            if p is not None:
                harness.stop(p)
        harness.remove_cgroups([cg])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--agent", required=True)
    ap.add_argument("--threads", default="2000,10000")
    ap.add_argument("--max-open-files", default="0")
    ap.add_argument("--sample-rate", type=int, default=20)
    ap.add_argument("--settle", type=float, default=20)
    ap.add_argument("--limit-mib", type=int, default=0)
    args = ap.parse_args()
    if os.geteuid() != 0 or not os.path.exists(os.path.join(MEMCG, "memory.kmem.usage_in_bytes")):
        sys.exit("needs root and cgroup v1's memory controller with kmem accounting")
    print("| target threads | max_open_files | kept at most | agent fds | RSS (peak) MiB | "
          "anonymous MiB | file-backed MiB | cgroup usage (peak) MiB | cgroup user pages MiB | "
          "cgroup kernel MiB | load1 |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for threads in (int(t) for t in args.threads.split(",")):
        for mof in (int(m) for m in args.max_open_files.split(",")):
            measure(os.path.abspath(args.agent), threads, mof, args)


if __name__ == "__main__":
    main()
