"""Records golden windows: the real agent (with `record:` set) watches labelled real
workloads from tests/workloads/, started as tests/integration/run_case.py starts
them, and keeps a few windows of each whose live verdict is the workload's label.
For each case it writes, under tests/golden/recordings/CASE/:

  recording.jsonl  those windows' evidence lines, as the agent wrote them
  expected.json    the verdict the live agent published for each of them
                   (/recommend: class, model, confidence rounded to 4 decimals)

The unit test tests/unit/daemon/golden_replay_test.cpp replays every recording and
requires exactly those verdicts: a classifier change that changes one is seen.
docs/ARCHITECTURE.md ("Record and replay") says when to record again.

usage (root, for the eBPF evidence; from a quiet machine: the CPU cases need the
cores to themselves):
  tests/golden/record.py --agent build/daemon/boundwise [--windows 3] [CASE ...]
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import harness  # noqa: E402
import run_case  # noqa: E402  (slow_server: the HTTP server the client cases wait on)

RECORDINGS = os.path.join(HERE, "recordings")


def start_http_threads():
    _, port = run_case.slow_server(0.2)
    return harness.start_workload("http_threads.py", port, 8)


# case → (what runs, how to start it, the workload's name, the label: class, model)
CASES = {
    "cpu_single": ("cpu_single.py", lambda: harness.start_workload("cpu_single.py"),
                   "cpu", "cpu_bound", "processes"),
    "gil_threads": ("gil_threads.py 4", lambda: harness.start_workload("gil_threads.py", 4),
                    "gil", "gil_contended", "processes"),
    "native_threads": ("native_threads.py 2",
                       lambda: harness.start_workload("native_threads.py", 2),
                       "hash", "cpu_parallel", "threads"),
    "http_threads": ("http_threads.py PORT 8 against slow_http_server.py 0 0.2",
                     start_http_threads, "client", "io_network", "threads"),
    "fsync_writer": ("fsync_writer.py DIR", lambda: harness.start_workload(
        "fsync_writer.py", harness.tempdir("boundwise-fsync-")), "writer", "io_disk", "threads"),
    "lock_contention": ("lock_contention.py 6",
                        lambda: harness.start_workload("lock_contention.py", 6),
                        "locks", "lock_contended", "none"),
    "idle_service": ("idle_service.py", lambda: harness.start_workload("idle_service.py"),
                     "quiet", "idle", "none"),
}


def live_verdicts(agent, name, label, want, max_windows):
    """Polls /recommend; returns {window number: verdict} for the first `want`
    windows whose class and model are the label, or fails after `max_windows`
    classified windows."""
    kept, seen = {}, set()
    deadline = time.time() + (max_windows + 2) * 2.5
    while len(kept) < want and time.time() < deadline:
        doc, w = agent.workload(name)
        if w is not None and w.get("verdict") is not None:
            number = doc["windows_completed"]
            verdict = {"class": w["verdict"]["class"],
                       "model": w["recommendation"]["model"],
                       "confidence": w["verdict"]["confidence"]}
            if number not in seen:
                seen.add(number)
                ok = (verdict["class"], verdict["model"]) == label
                print(f"  window {number}: {verdict['class']} / {verdict['model']} "
                      f"({verdict['confidence']}){'' if ok else ' - not the label, skipped'}")
                if ok:
                    kept[number] = verdict
            if len(seen) >= max_windows and len(kept) < want:
                break
        time.sleep(0.2)
    if len(kept) < want:
        harness.fail(f"{name}: {len(kept)} of {want} windows reached the label {label} "
                     f"in {len(seen)} windows:\n{agent.read_log()[-3000:]}")
    return kept


def recorded_lines(directory, numbers):
    """The agent's lines for the given window numbers, by number."""
    lines = {}
    for file in sorted(os.listdir(directory)):
        with open(os.path.join(directory, file)) as f:
            for line in f:
                number = json.loads(line)["window"]
                if number in numbers:
                    lines[number] = line
    return lines


def record(binary, case, want):
    command, start, name, cls, model = CASES[case]
    print(f"== {case}: {name}, label {cls} / {model}")
    workload = start()
    rec = harness.tempdir("boundwise-record-")
    agent = harness.Agent(binary, [{"name": name, "pid": workload.pid}],
                          extra=f"record: {rec}")
    verdicts = live_verdicts(agent, name, (cls, model), want, max_windows=want + 5)
    agent.stop()
    harness.stop(workload)
    lines = recorded_lines(rec, set(verdicts))
    missing = set(verdicts) - set(lines)
    if missing:
        harness.fail(f"{case}: windows {sorted(missing)} have a verdict but no recorded line")
    out = os.path.join(RECORDINGS, case)
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "recording.jsonl"), "w") as f:
        f.writelines(lines[n] for n in sorted(lines))
    expected = {
        "case": case,
        "workload": f"tests/workloads/{command}",
        "label": {"class": cls, "model": model},
        "windows": [{"window": n, "verdicts": {name: verdicts[n]}} for n in sorted(verdicts)],
    }
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=2)
        f.write("\n")
    size = os.path.getsize(os.path.join(out, "recording.jsonl"))
    print(f"ok: {case}: {len(lines)} windows, {size} bytes in {out}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agent", required=True, help="the boundwise binary")
    parser.add_argument("--windows", type=int, default=3, help="windows kept per case")
    parser.add_argument("cases", nargs="*", metavar="CASE",
                        help=f"cases to record (default: all): {', '.join(sorted(CASES))}")
    args = parser.parse_args()
    unknown = set(args.cases) - set(CASES)
    if unknown:
        parser.error(f"unknown case(s) {sorted(unknown)}; known: {sorted(CASES)}")
    if os.geteuid() != 0:
        print("warning: not root: no eBPF evidence in the recordings", file=sys.stderr)
    binary = os.path.abspath(args.agent)
    for case in args.cases or sorted(CASES):
        record(binary, case, args.windows)
        check(binary, case)


def check(binary, case):
    """Replays what was written, as the unit test will, and compares the classes."""
    out = os.path.join(RECORDINGS, case)
    replayed = subprocess.run([binary, "replay", "--json", out], check=True,
                              capture_output=True, text=True).stdout
    with open(os.path.join(out, "expected.json")) as f:
        expected = {w["window"]: w["verdicts"] for w in json.load(f)["windows"]}
    for line in replayed.splitlines():
        doc = json.loads(line)
        for w in doc["workloads"]:
            want = expected[doc["window"]][w["workload"]]
            if (w["class"], w["model"]) != (want["class"], want["model"]):
                harness.fail(f"{case}: window {doc['window']} replays as {w['class']} / "
                             f"{w['model']}, the live agent said {want}")


if __name__ == "__main__":
    main()
