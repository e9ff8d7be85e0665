// The memory limit the agent itself runs under: the smallest limit on its own memory
// cgroup's path up to the hierarchy's root (a parent's limit binds its children too),
// cgroup v2 (memory.max) or v1 (memory.limit_in_bytes). The procfs collector sizes the
// files it keeps open from it: each holds kernel memory charged to that cgroup.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace boundwise::cgroup {

struct MemoryLimit {
  std::uint64_t bytes = 0;
  std::string dir;  // the cgroup directory that sets it
};

// Reads PROC_ROOT/self/cgroup and PROC_ROOT/self/mountinfo, then the limit files of the
// directories they name. nullopt: no limit, no memory controller mounted, or files not
// readable (a fixture proc root has none).
std::optional<MemoryLimit> own_memory_limit(const std::string& proc_root);

}  // namespace boundwise::cgroup
