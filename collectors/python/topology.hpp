// How a Python workload's processes relate: multiprocessing helpers (resource
// tracker, forkserver), workers, gunicorn/uvicorn masters, and the start method in
// use (fork / spawn / forkserver), from command lines and parentage alone
// (docs/PYTHON_INTERNALS.md, "Process topology"). Pure.
#pragma once

#include <string>
#include <vector>

namespace boundwise::python {

struct ProcessFacts {
  int pid = 0;
  int ppid = 0;
  std::vector<std::string> argv;  // /proc/PID/cmdline split at NULs
  int threads = 0;
  bool python = false;  // CPython (runtime detection)
};

struct Topology {
  std::string start_method;  // "fork", "spawn", "forkserver", or "" (no workers seen)
  std::string server;        // "gunicorn", "uvicorn", "multiprocessing", or ""
  int workers = 0;           // worker processes (helpers and the master excluded)
  int max_worker_threads = 0;
};

Topology detect_topology(const std::vector<ProcessFacts>& processes);

}  // namespace boundwise::python
