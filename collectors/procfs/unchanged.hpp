// The rules that let idle threads and processes cost close to nothing: what the
// kernel's counters say has not changed since an earlier read, so that what was read
// then still holds and need not be read again. Pure; the procfs collector applies them
// (docs/COLLECTORS.md, "What an idle thread costs").
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "collectors/procfs/parse.hpp"

namespace boundwise::procfs {

// True when a thread has not run between two reads of its schedstat: run time,
// run-queue time and the number of times it was scheduled in are all the same. A
// thread that has not run is in the state it was in — the same wait in the same
// syscall on the same fd, the same context-switch counts, no thread or fd created —
// since only it could have changed them. A missing read is "may have run".
// (A reused TID is another task whose counters start from zero: the kept fd of the
// old task fails to read, and a reopened one shows the new task's own counters.)
inline bool not_run_since(const std::optional<SchedStat>& before,
                          const std::optional<SchedStat>& now) {
  return before && now && before->run_ns == now->run_ns && before->wait_ns == now->wait_ns &&
         before->timeslices == now->timeslices;
}

// Whether a process's thread list must be read again (its task/ directory listed),
// given the link count of /proc/PID/task — 2 + the number of its threads
// (proc_task_getattr in fs/proc/base.c) — and how many of its threads are known alive.
// An unreadable count (nullopt: the process has gone) or one that differs means list.
// Equal counts with different threads (one exited, another started between two
// checks) are found when the exited one's next read fails, which makes the counts
// differ.
inline bool thread_list_stale(std::optional<std::uint64_t> task_links, std::size_t known_alive) {
  return !task_links || *task_links < 2 || *task_links - 2 != known_alive;
}

}  // namespace boundwise::procfs
