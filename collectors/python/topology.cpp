// Topology from command lines. The signatures (CPython's multiprocessing/spawn.py,
// forkserver.py, resource_tracker.py; gunicorn's arbiter) are listed in
// docs/PYTHON_INTERNALS.md.
#include "collectors/python/topology.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace boundwise::python {

namespace {

bool argv_has(const ProcessFacts& p, std::string_view needle) {
  return std::any_of(p.argv.begin(), p.argv.end(),
                     [&](const std::string& a) { return a.find(needle) != std::string::npos; });
}

// The program a Python process runs: the first argument that names a script or a
// console entry point ("/usr/bin/gunicorn"), past the interpreter and its options.
bool runs(const ProcessFacts& p, std::string_view program) {
  for (std::size_t i = 0; i < p.argv.size() && i < 3; ++i) {
    const std::string& a = p.argv[i];
    auto slash = a.rfind('/');
    std::string_view base = std::string_view(a).substr(slash == std::string::npos ? 0 : slash + 1);
    if (base == program || base.rfind(std::string(program) + ":", 0) == 0) return true;
  }
  return false;
}

}  // namespace

Topology detect_topology(const std::vector<ProcessFacts>& processes) {
  Topology t;
  std::set<int> pids;
  for (const auto& p : processes) pids.insert(p.pid);
  // The forkserver's children run with its command line: the server is the one whose
  // parent does not.
  std::set<int> forkserver_like, forkservers;
  for (const auto& p : processes) {
    if (argv_has(p, "multiprocessing.forkserver")) forkserver_like.insert(p.pid);
  }
  for (const auto& p : processes) {
    if (forkserver_like.count(p.pid) != 0 && forkserver_like.count(p.ppid) == 0) {
      forkservers.insert(p.pid);
    }
  }
  const bool forkserver = !forkservers.empty();
  bool spawn = false;
  bool gunicorn = false, uvicorn = false;
  std::vector<const ProcessFacts*> workers;
  for (const auto& p : processes) {
    const bool root = pids.count(p.ppid) == 0;
    if (root) {
      gunicorn = gunicorn || runs(p, "gunicorn");
      uvicorn = uvicorn || runs(p, "uvicorn");
      continue;
    }
    if (argv_has(p, "multiprocessing.resource_tracker") || forkservers.count(p.pid) != 0) continue;
    if (argv_has(p, "--multiprocessing-fork") || argv_has(p, "spawn_main")) spawn = true;
    workers.push_back(&p);
  }
  t.workers = static_cast<int>(workers.size());
  for (const auto* w : workers) t.max_worker_threads = std::max(t.max_worker_threads, w->threads);
  if (gunicorn) t.server = "gunicorn";
  if (uvicorn) t.server = "uvicorn";
  if (workers.empty()) return t;
  if (t.server.empty()) t.server = "multiprocessing";
  bool forkserver_children =
      std::any_of(workers.begin(), workers.end(),
                  [&](const ProcessFacts* w) { return forkservers.count(w->ppid) != 0; });
  if (forkserver && forkserver_children) {
    t.start_method = "forkserver";
  } else if (spawn) {
    t.start_method = "spawn";
  } else {
    t.start_method = "fork";  // children with their parent's command line
  }
  return t;
}

}  // namespace boundwise::python
