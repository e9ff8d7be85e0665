#include "collectors/cgroup/memory_limit.hpp"

#include <fcntl.h>

#include "collectors/cgroup/cgroup_files.hpp"
#include "collectors/procfs/proc_io.hpp"

namespace boundwise::cgroup {

namespace {

std::optional<std::string> read_file(const std::string& path) {
  return procfs::read_at(AT_FDCWD, path.c_str());
}

}  // namespace

std::optional<MemoryLimit> own_memory_limit(const std::string& proc_root) {
  auto cgroups = read_file(proc_root + "/self/cgroup");
  auto mountinfo = read_file(proc_root + "/self/mountinfo");
  if (!cgroups || !mountinfo) return std::nullopt;
  auto own = parse_proc_cgroup(*cgroups, "memory");
  if (!own) return std::nullopt;
  const auto mounts = parse_cpu_mounts(*mountinfo, "memory");
  std::optional<MemoryLimit> out;
  // Walk up: "/a/b/c", "/a/b", "/a", "/"; a directory the mount does not show ends it.
  for (std::string path = own->path;;) {
    auto dir = cgroup_dir(mounts, {path, own->v2});
    if (!dir) break;
    auto text = read_file(*dir + (own->v2 ? "/memory.max" : "/memory.limit_in_bytes"));
    auto bytes = text ? parse_memory_limit(*text) : std::nullopt;
    if (bytes && (!out || *bytes < out->bytes)) out = MemoryLimit{*bytes, *dir};
    if (path == "/") break;
    auto slash = path.rfind('/');
    path = slash == 0 ? "/" : path.substr(0, slash);
  }
  return out;
}

}  // namespace boundwise::cgroup
