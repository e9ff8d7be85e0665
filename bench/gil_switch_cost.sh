#!/usr/bin/env bash
# What the sched tool's GIL check costs: bw_sched_switch's timed ns per run (BPF
# run-time stats, via bpftool) while the agent targets 4 GIL-bound Python threads,
# where every switch-out asleep looks up the process's GIL range and reads the saved
# syscall registers. Budget 1 core, so the tool is never duty-cycled. Compare with the
# targeted ping-pong's ns/run in bench/ebpf_overhead.py --slices (no Python: no check).
#   sudo bench/gil_switch_cost.sh [build/daemon/boundwise] [python3]
set -euo pipefail
agent=${1:-build/daemon/boundwise}
python=${2:-/usr/bin/python3}
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
trap 'kill "${a:-}" "${p:-}" 2>/dev/null || true; rm -rf "$dir"' EXIT
"$python" "$here/../tests/workloads/gil_threads.py" 4 &
p=$!
cat >"$dir/boundwise.yaml" <<YAML
listen: "127.0.0.1:19978"
window: 2s
discovery_interval: 1s
targets:
  - name: gil4
    pid: $p
ebpf:
  budget_cores: 1
YAML
"$agent" --config "$dir/boundwise.yaml" 2>"$dir/agent.log" &
a=$!
sleep 4  # discovered, GIL range written, programs attached
stats() {
  bpftool -j prog show | python3 -c '
import json, sys
for p in json.load(sys.stdin):
    if p.get("name") == "bw_sched_switch":
        print(p.get("run_time_ns", 0), p.get("run_cnt", 0))'
}
read -r t0 c0 < <(stats)
sleep 10
read -r t1 c1 < <(stats)
"$python" -c 'import platform; print("CPython", platform.python_version(), end=": ")'
echo "bw_sched_switch $(((t1 - t0) / (c1 - c0))) ns/run over $((c1 - c0)) runs in 10 s"
