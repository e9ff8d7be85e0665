// libFuzzer target for one procfs parser, chosen at compile time by
// BOUNDWISE_FUZZ_TARGET (one binary per parser, see CMakeLists.txt). A parser must
// return a value or an Error for any bytes: a crash, a hang or a sanitizer report is
// a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "collectors/procfs/parse.hpp"

namespace {

void run(std::string_view parser, std::string_view text) {
  using namespace boundwise::procfs;
  if (parser == "stat") (void)parse_stat(text);
  if (parser == "schedstat") (void)parse_schedstat(text);
  if (parser == "syscall") (void)parse_syscall(text);
  if (parser == "status") (void)parse_status(text);
  if (parser == "io") (void)parse_io(text);
  if (parser == "smaps_rollup") (void)parse_smaps_rollup(text);
  if (parser == "net_sockets") {
    (void)parse_net_sockets(text, boundwise::IpAddress::Family::v4);
    (void)parse_net_sockets(text, boundwise::IpAddress::Family::v6);
  }
  if (parser == "net_unix") (void)parse_net_unix_inodes(text);
  if (parser == "proc_stat") (void)parse_proc_stat(text);
  if (parser == "pressure") (void)parse_pressure(text);
  if (parser == "loadavg") (void)parse_loadavg(text);
  if (parser == "fd_link") (void)parse_fd_link(text);
  if (parser == "cmdline") (void)parse_cmdline(text);
  if (parser == "pod_cgroup") (void)parse_pod_cgroup(text);
  if (parser == "endpoint") {
    (void)boundwise::Endpoint::parse(text);
    (void)boundwise::DependencyRule::parse("x", text);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  run(BOUNDWISE_FUZZ_TARGET, std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
