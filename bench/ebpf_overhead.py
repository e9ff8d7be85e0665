"""eBPF overhead benchmark: what the agent's BPF programs cost the services on the
host, targeted and untargeted, and what each program costs per event. Prints a
Markdown report for docs/BENCHMARKS.md.

Loads (built from bench/*.c by the CMake build):
  pingpong     two processes pinned to one CPU passing a byte over pipes (a
               context-switch storm: sched_switch, sys_enter/exit on every hop)
  syscalls     getppid() in a loop, pinned to one CPU (sys_enter/exit and nothing else)
  http         the slow (200 ms) HTTP server under wrk (a realistic service)

Each round measures every load without the agent and with it, alternating which comes
first; within the agent's run the load is measured untargeted (the agent targets only
an idle process) and targeted (the agent targets the load by its comm). Ratios are
per round, so slow drift of a noisy machine cancels; the report gives the median and
the spread over rounds. Per-event cost comes from the kernel's BPF run-time stats as
the agent exports them (boundwise_ebpf_program_seconds_total / _runs_total), as
deltas over each measurement.

With --slices SECONDS, instead: one agent run per condition in which the overhead
budget duty-cycles the sched tool (attached for part of every 10 s cycle, detached for
the rest), while the ping-pong reports its CPU per round trip every 100 ms. Each slice
is labelled attached or detached by whether bw_sched_switch's run count grew during it
(read from the agent's program fd in /proc/AGENT/fdinfo), and each attached stretch is
compared with the detached stretch next to it: the same process, seconds apart, so
the machine's slow drift cancels and what differs is the tool, dispatch included.

usage: bench/ebpf_overhead.py --agent build/daemon/boundwise --bench-bin build/bench
       [--rounds 5] [--seconds 4] [--budget 1] [--http-seconds 10] [--skip-http]
       [--slices 60] [--per-run-overhead-ns 300]
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "lib"))
import harness  # noqa: E402

WARMUP = 1.5  # seconds before a load starts measuring: the agent's discovery (1 s) marks it
CPU = 1       # the loads' CPU


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def programs(agent):
    """{program: (seconds, runs)} of the agent's BPF programs, read from the kernel
    (bpftool) at this moment: the same run-time stats the agent exports as
    boundwise_ebpf_program_seconds_total / _runs_total, but not rounded to its windows.
    Programs of other processes (another agent on the machine) are left out."""
    mine = set()
    fdinfo = f"/proc/{agent.process.pid}/fdinfo"
    for fd in os.listdir(fdinfo):
        try:
            with open(os.path.join(fdinfo, fd)) as f:
                m = re.search(r"^prog_id:\s+(\d+)", f.read(), re.M)
        except OSError:
            continue
        if m:
            mine.add(int(m.group(1)))
    r = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True)
    out = {}
    for p in json.loads(r.stdout or "[]"):
        if p.get("name", "").startswith("bw_") and p["id"] in mine:
            name = p["name"]
            s0, r0 = out.get(name, (0.0, 0.0))
            out[name] = (s0 + p.get("run_time_ns", 0) / 1e9, r0 + p.get("run_cnt", 0))
    return out


def per_event(before, after):
    """{program: (ns per run, runs)} over the interval."""
    out = {}
    for prog, (s1, r1) in after.items():
        s0, r0 = before.get(prog, (0.0, 0.0))
        if r1 > r0:
            out[prog] = ((s1 - s0) / (r1 - r0) * 1e9, r1 - r0)
    return out


def run_load(binary, comm, seconds):
    r = subprocess.run([binary, comm, str(CPU), str(WARMUP), str(seconds)], capture_output=True,
                       text=True, timeout=WARMUP + seconds + 30)
    if r.returncode != 0:
        sys.exit(f"{binary} failed: {r.stderr}")
    rate, cpu_ns = map(float, r.stdout.split())
    return rate, cpu_ns


DISABLED = []  # --disable: eBPF tools switched off in the agent's config
PER_RUN_OVERHEAD_NS = None  # --per-run-overhead-ns: the agent's surcharge (None: its default)


def start_agent(binary, budget, extra_targets=()):
    idle = harness.start(["sleep", "100000"])
    targets = [{"name": "idle", "pid": idle.pid},
               {"name": "bench", "comm": "bwb_target"}, *extra_targets]
    extra = f"ebpf:\n  budget_cores: {budget}"
    if PER_RUN_OVERHEAD_NS is not None:
        extra += f"\n  per_run_overhead_ns: {PER_RUN_OVERHEAD_NS}"
    # Every tool on (syscalls is off by default) unless --disable'd.
    extra += "\ncollectors:\n" + "".join(
        f"  ebpf_{t}: {{enabled: {'false' if t in DISABLED else 'true'}}}\n"
        for t in ("sched", "net", "syscalls", "disk"))
    # On a loaded machine start-up (the verifier) can miss the harness's 10 s: retry.
    for attempt in range(3):
        try:
            agent = harness.Agent(binary, targets, window="2s", extra=extra)
            break
        except SystemExit:
            harness.stop(harness._processes[-1])
            if attempt == 2:
                raise
    time.sleep(2.5)  # first windows closed, programs attached and measured
    return agent, idle


def summarize(values):
    values = sorted(values)
    return statistics.median(values), values[0], values[-1]


def pct(x):
    return f"{x * 100:+.1f} %"


def bench_loads(args):
    loads = {"pingpong": os.path.join(args.bench_bin, "bw_pingpong"),
             "syscalls": os.path.join(args.bench_bin, "bw_syscall_loop")}
    ratios = {(l, c): [] for l in loads for c in ("untargeted", "targeted")}
    cpu_ratios = {(l, c): [] for l in loads for c in ("untargeted", "targeted")}
    cpu = {(l, c): [] for l in loads for c in ("none", "untargeted", "targeted")}
    rates = {(l, c): [] for l in loads for c in ("none", "untargeted", "targeted")}
    costs = {}  # (load, condition) -> list of {program: (ns per run, runs)}
    prog_share = {(l, c): [] for l in loads for c in ("untargeted", "targeted")}
    loads_seen = []
    for rnd in range(args.rounds):
        order = ["none", "agent"] if rnd % 2 == 0 else ["agent", "none"]
        got = {}
        for phase in order:
            if phase == "none":
                for l, b in loads.items():
                    got[(l, "none")] = run_load(b, "bwb_other", args.seconds)
                continue
            agent, idle = start_agent(args.agent, args.budget)
            for l, b in loads.items():
                for cond, comm in (("untargeted", "bwb_other"), ("targeted", "bwb_target")):
                    before = programs(agent)
                    got[(l, cond)] = run_load(b, comm, args.seconds)
                    costs.setdefault((l, cond), []).append(per_event(before, programs(agent)))
            agent.stop()
            harness.stop(idle)
        loads_seen.append(loadavg())
        for key, (rate, ns) in got.items():
            rates[key].append(rate)
            cpu[key].append(ns)
        for l in loads:
            for c in ("untargeted", "targeted"):
                ratios[(l, c)].append(1 - got[(l, c)][0] / got[(l, "none")][0])
                cpu_ratios[(l, c)].append(got[(l, c)][1] / got[(l, "none")][1] - 1)
                # Program time on the host during the measurement, per operation of the
                # load, against the operation's CPU time in the same round without the
                # agent: the part of the slowdown the run-time stats can see.
                ops = got[(l, c)][0] * args.seconds
                spent_ns = sum(ns * runs for ns, runs in costs[(l, c)][-1].values())
                prog_share[(l, c)].append(spent_ns / ops / got[(l, "none")][1] if ops else 0)
        print(f"round {rnd + 1}: " + ", ".join(f"{l}/{c} {got[(l, c)][0]:.0f}/s "
                                               f"{got[(l, c)][1]:.0f} CPU ns/op" for l, c in got) +
              f"; load {loads_seen[-1]}", file=sys.stderr, flush=True)
    return rates, ratios, cpu, cpu_ratios, costs, prog_share, loads_seen


def program_fdinfo(agent, name):
    """Path of /proc/AGENT/fdinfo/N for the agent's BPF program `name` (kernel names are
    cut to 15 characters), or None."""
    ids = {}
    r = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True)
    for p in json.loads(r.stdout or "[]"):
        ids[p["id"]] = p.get("name", "")
    fdinfo = f"/proc/{agent.process.pid}/fdinfo"
    for fd in os.listdir(fdinfo):
        path = os.path.join(fdinfo, fd)
        try:
            with open(path) as f:
                m = re.search(r"^prog_id:\s+(\d+)", f.read(), re.M)
        except OSError:
            continue
        if m and ids.get(int(m.group(1))) == name[:15]:
            return path
    return None


def run_stats(path):
    """(run count, run time in ns) of the program behind an fdinfo path."""
    with open(path) as f:
        text = f.read()
    cnt = re.search(r"^run_cnt:\s+(\d+)", text, re.M)
    ns = re.search(r"^run_time_ns:\s+(\d+)", text, re.M)
    return (int(cnt.group(1)) if cnt else 0, int(ns.group(1)) if ns else 0)


def sliced_run(args, comm):
    """Runs the ping-pong for args.slices seconds under an agent with args.budget;
    returns the stretches of consecutive slices in the same state, in time order, as
    dicts (attached, ops, cpu_ns, runs, run_ns: bw_sched_switch's runs and timed run
    time during the stretch), the attached share of the slices, and how many slices
    were kept."""
    agent, idle = start_agent(args.agent, args.budget)
    path = program_fdinfo(agent, "bw_sched_switch")
    if path is None:
        sys.exit("the agent has no bw_sched_switch program (is the sched tool up?)")
    load = subprocess.Popen([os.path.join(args.bench_bin, "bw_pingpong"), comm, str(CPU),
                             str(WARMUP), str(args.slices), "0.1"],
                            stdout=subprocess.PIPE, text=True)
    polls = []  # (CLOCK_MONOTONIC s, run count, run time ns)
    # This polling loop stays off the load's CPU (the agent, started before, is not
    # pinned).
    affinity = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {0})
    while load.poll() is None:
        polls.append((time.monotonic(), *run_stats(path)))
        time.sleep(0.02)
    out = load.stdout.read()
    os.sched_setaffinity(0, affinity)
    agent.stop()
    harness.stop(idle)

    def between(t0, t1):
        """(runs, run ns) from the last poll at or before t0 to the first at or after
        t1, or None when the polls do not cover the interval."""
        before = [p for p in polls if p[0] <= t0]
        after = [p for p in polls if p[0] >= t1]
        if not before or not after:
            return None
        return after[0][1] - before[-1][1], after[0][2] - before[-1][2]

    slices = []  # dicts as the stretches, one slice each
    for line in out.splitlines():
        if not line.startswith("slice "):
            continue
        _, t0, t1, ops, cpu_ns = line.split()
        t0, t1 = float(t0), float(t1)
        # Widened by one poll on each side: a slice with no run at all around it was
        # detached throughout; one with runs in every poll interval around it,
        # attached; anything else straddles a change and is left out.
        wide = between(t0 - 0.02, t1 + 0.02)
        if wide is None:
            continue
        around = [p[1] for p in polls if t0 - 0.02 <= p[0] <= t1 + 0.02]
        if wide[0] == 0:
            attached = False
        elif len(around) >= 2 and all(b > a for a, b in zip(around, around[1:])):
            attached = True
        else:
            continue
        runs, run_ns = between(t0, t1) or (0, 0)
        slices.append({"attached": attached, "ops": int(ops), "cpu_ns": float(cpu_ns),
                       "runs": runs if attached else 0, "run_ns": run_ns if attached else 0})
    stretches = []
    for sl in slices:
        if stretches and stretches[-1]["attached"] == sl["attached"]:
            for k in ("ops", "cpu_ns", "runs", "run_ns"):
                stretches[-1][k] += sl[k]
        else:
            stretches.append(dict(sl))
    share = sum(1 for sl in slices if sl["attached"]) / len(slices) if slices else 0
    return [st for st in stretches if st["ops"]], share, len(slices)


SWITCHES_PER_ROUND_TRIP = 2  # alone on their CPU, the two ends hand it to each other twice


def pair_costs(att, det):
    """An attached stretch against the detached one after it: (change in CPU per round
    trip, detached CPU ns per round trip, timed ns per program run, untimed ns per
    switch on the load's CPU). The untimed cost is the extra CPU per round trip less
    the programs' timed run time, per switch of the ping-pong (two per round trip):
    the program's run count also holds switches on the other CPUs, which the
    ping-pong does not pay for, so it is no denominator for the ping-pong's extra CPU."""
    att_per_op = att["cpu_ns"] / att["ops"]
    det_per_op = det["cpu_ns"] / det["ops"]
    timed = att["run_ns"] / att["runs"]
    untimed = (att_per_op - det_per_op) / SWITCHES_PER_ROUND_TRIP - timed
    return att_per_op / det_per_op - 1, det_per_op, timed, untimed


def bench_slices(args):
    print(f"\n### Sched tool attached vs detached in the same run: ping-pong, "
          f"{args.slices:g} s per condition, budget_cores {args.budget:g}"
          f"{'; tools disabled: ' + ', '.join(args.disable) if args.disable else ''}"
          f"{'; per_run_overhead_ns ' + format(args.per_run_overhead_ns, 'g') if args.per_run_overhead_ns is not None else ''}; "
          f"load average {loadavg():.1f}\n")
    print("Each attached stretch against the detached stretch right after it (CPU ns per "
          "round trip, both processes); change, median and range over pairs. Averaged "
          "over time = attached share × median change. Untimed = the extra CPU per round "
          "trip while attached, per switch on the load's CPU (two per round trip), less "
          "bw_sched_switch's timed ns per run (what `ebpf.per_run_overhead_ns` should "
          "charge on this machine):\n")
    print("| condition | slices kept | attached share | pairs | detached ns/op (median) | "
          "change when attached | averaged over time | timed ns/run | untimed ns/switch |")
    print("|---|---|---|---|---|---|---|---|---|")
    for cond, comm in (("untargeted", "bwb_other"), ("targeted", "bwb_target")):
        stretches, share, kept = sliced_run(args, comm)
        changes, detached, untimed, timed = [], [], [], []
        for att, det in zip(stretches, stretches[1:]):
            if not att["attached"] or det["attached"] or not att["runs"]:
                continue
            change, det_per_op, timed_ns, untimed_ns = pair_costs(att, det)
            changes.append(change)
            detached.append(det_per_op)
            timed.append(timed_ns)
            untimed.append(untimed_ns)
        print(f"stretches {cond}: {stretches}", file=sys.stderr, flush=True)
        if not changes:
            print(f"| {cond} | {kept} | {share:.0%} | 0 | – | no attached/detached pair: "
                  "the budget did not duty-cycle the sched tool | | | |")
            continue
        med, lo, hi = summarize(changes)
        umed, ulo, uhi = summarize(untimed)
        print(f"| {cond} | {kept} | {share:.0%} | {len(changes)} | "
              f"{statistics.median(detached):,.0f} | {pct(med)} ({pct(lo)} … {pct(hi)}) | "
              f"{pct(share * med)} | {statistics.median(timed):.0f} | "
              f"{umed:.0f} ({ulo:.0f} … {uhi:.0f}) |")


def wrk_run(url, seconds):
    r = subprocess.run(["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency", url],
                       capture_output=True, text=True, timeout=seconds + 30)
    rps = float(re.search(r"Requests/sec:\s+(\S+)", r.stdout).group(1))

    def ms(label):
        m = re.search(rf"^\s+{label}%\s+(\S+?)(us|ms|s)\s*$", r.stdout, re.M)
        v, unit = float(m.group(1)), m.group(2)
        return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v

    return rps, ms("50"), ms("99")


def bench_http(args):
    if shutil.which("wrk") is None:
        return None
    server = harness.start([harness.PYTHON, os.path.join(harness.WORKLOADS, "slow_http_server.py"),
                            "0", "0.2"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                          text=True)
    port = int(server.stdout.readline().strip())
    url = f"http://127.0.0.1:{port}/"
    rows = []
    for rnd in range(args.rounds):
        order = ["none", "agent"] if rnd % 2 == 0 else ["agent", "none"]
        got = {}
        for phase in order:
            if phase == "none":
                got["none"] = wrk_run(url, args.http_seconds)
                continue
            agent, idle = start_agent(args.agent, args.http_budget,
                                      [{"name": "server", "pid": server.pid}])
            before = programs(agent)
            got["agent"] = wrk_run(url, args.http_seconds)
            got["cost"] = per_event(before, programs(agent))
            doc = agent.recommend()
            got["duty"] = (doc or {}).get("ebpf_duty", {})
            agent.stop()
            harness.stop(idle)
        rows.append(got)
        print(f"http round {rnd + 1}: {got}", file=sys.stderr, flush=True)
    harness.stop(server)
    return rows


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--agent", required=True)
    p.add_argument("--bench-bin", required=True)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--seconds", type=float, default=4)
    p.add_argument("--budget", type=float, default=1.0,
                   help="the agent's ebpf.budget_cores for pingpong/syscalls (1: never duty-cycle)")
    p.add_argument("--http-seconds", type=int, default=10)
    p.add_argument("--http-budget", type=float, default=0.01)
    p.add_argument("--skip-http", action="store_true")
    p.add_argument("--slices", type=float, default=0,
                   help="attached-vs-detached mode: seconds of ping-pong per condition")
    p.add_argument("--disable", action="append", default=[],
                   help="an eBPF tool to switch off (sched, syscalls, disk), repeatable")
    p.add_argument("--per-run-overhead-ns", type=int, default=None,
                   help="the agent's ebpf.per_run_overhead_ns (default: the agent's own)")
    args = p.parse_args()
    DISABLED.extend(args.disable)
    global PER_RUN_OVERHEAD_NS
    PER_RUN_OVERHEAD_NS = args.per_run_overhead_ns
    if os.geteuid() != 0:
        harness.skip("needs root (the agent loads BPF programs)")
    if args.slices:
        bench_slices(args)
        return

    rates, ratios, cpu, cpu_ratios, costs, prog_share, loads_seen = bench_loads(args)
    print(f"\n### eBPF overhead: {args.rounds} rounds × {args.seconds:g} s per load, "
          f"budget_cores {args.budget:g}"
          f"{'; tools disabled: ' + ', '.join(args.disable) if args.disable else ''}; load average {min(loads_seen):.1f}–{max(loads_seen):.1f}\n")
    print("CPU time per operation (pingpong: round trip, both processes; syscalls: one "
          "getppid), the load's own user + system time, which includes what the BPF "
          "programs and the tracing cost it; change against the same round without the "
          "agent, median and range over rounds:\n")
    print("| load | without agent (median CPU ns/op) | untargeted | targeted |")
    print("|---|---|---|---|")
    for l in ("pingpong", "syscalls"):
        base = statistics.median(cpu[(l, "none")])
        cells = []
        for c in ("untargeted", "targeted"):
            med, lo, hi = summarize(cpu_ratios[(l, c)])
            cells.append(f"{pct(med)} (rounds {pct(lo)} … {pct(hi)})")
        print(f"| {l} | {base:,.0f} | {cells[0]} | {cells[1]} |")
    print("\nThroughput (wall clock; more disturbed by the machine's other load), slowdown "
          "against the same round without the agent:\n")
    print("| load | without agent (median /s) | untargeted | targeted |")
    print("|---|---|---|---|")
    for l in ("pingpong", "syscalls"):
        base = statistics.median(rates[(l, "none")])
        cells = []
        for c in ("untargeted", "targeted"):
            med, lo, hi = summarize(ratios[(l, c)])
            cells.append(f"{pct(med)} slowdown (rounds {pct(lo)} … {pct(hi)})")
        print(f"| {l} | {base:,.0f} | {cells[0]} | {cells[1]} |")
    print("\nTime inside the agent's BPF programs (run-time stats, every CPU) per operation "
          "of the load, as a share of the operation's CPU time without the agent: the part "
          "of the overhead the programs themselves cost, free of the machine's noise "
          "(tracepoint dispatch and the stats' clock reads come on top); median and range "
          "over rounds:\n")
    print("| load | untargeted | targeted |")
    print("|---|---|---|")
    for l in ("pingpong", "syscalls"):
        cells = []
        for c in ("untargeted", "targeted"):
            med, lo, hi = summarize(prog_share[(l, c)])
            cells.append(f"{med * 100:.2f} % ({lo * 100:.2f} … {hi * 100:.2f} %)")
        print(f"| {l} | {cells[0]} | {cells[1]} |")
    print("\nPer-event cost of each program (ns per run, median over rounds; runs per measurement):\n")
    print("| load | condition | program | ns/run | runs |")
    print("|---|---|---|---|---|")
    for (l, c), per_round in sorted(costs.items()):
        progs = sorted({p for r in per_round for p in r})
        for prog in progs:
            ns = [r[prog][0] for r in per_round if prog in r]
            runs = [r[prog][1] for r in per_round if prog in r]
            print(f"| {l} | {c} | {prog} | {statistics.median(ns):.0f} | "
                  f"{statistics.median(runs):,.0f} |")

    if not args.skip_http:
        rows = bench_http(args)
        if rows is None:
            print("\nwrk is not installed: HTTP benchmark skipped")
            return
        print(f"\n### Slow (200 ms) HTTP server under wrk -t2 -c32, {args.http_seconds} s per "
              f"run, agent targeting the server with budget_cores {args.http_budget:g}\n")
        print("| round | req/s without | req/s with | p50 ms without | p50 ms with | "
              "p99 ms without | p99 ms with | throughput change |")
        print("|---|---|---|---|---|---|---|---|")
        changes = []
        for i, r in enumerate(rows):
            (n_rps, n50, n99), (a_rps, a50, a99) = r["none"], r["agent"]
            changes.append(a_rps / n_rps - 1)
            print(f"| {i + 1} | {n_rps:.1f} | {a_rps:.1f} | {n50:.1f} | {a50:.1f} | {n99:.1f} | "
                  f"{a99:.1f} | {pct(a_rps / n_rps - 1)} |")
        print(f"\nmedian throughput change {pct(statistics.median(changes))}; duty in the last "
              f"window {rows[-1].get('duty')}")
        progs = sorted({p for r in rows for p in r["cost"]})
        print("\n| program | ns/run (median) | runs per run of wrk |")
        print("|---|---|---|")
        for prog in progs:
            ns = [r["cost"][prog][0] for r in rows if prog in r["cost"]]
            runs = [r["cost"][prog][1] for r in rows if prog in r["cost"]]
            print(f"| {prog} | {statistics.median(ns):.0f} | {statistics.median(runs):,.0f} |")


if __name__ == "__main__":
    main()
