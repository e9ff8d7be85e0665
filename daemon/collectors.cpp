// The explicit collector list. A new collector is one line here plus its own files.
#include "daemon/collectors.hpp"

#include "collectors/ebpf/ebpf_collector.hpp"
#include "collectors/node/node_collector.hpp"
#include "collectors/procfs/procfs_collector.hpp"
#include "collectors/python/python_collector.hpp"

namespace boundwise {

std::vector<std::unique_ptr<Collector>> make_collectors(const CollectorSettings& settings) {
  std::vector<std::unique_ptr<Collector>> list;
  list.push_back(make_node_collector(settings));
  list.push_back(make_procfs_collector(settings));
  list.push_back(make_python_collector(settings));
  list.push_back(make_ebpf_collector(settings));
  return list;
}

}  // namespace boundwise
