// The collector seam. A collector turns one kernel source (procfs, eBPF, perf, a
// Python interpreter's memory) into classifier types; it never classifies.
//
// Lifecycle, all on the daemon's collection thread (the HTTP thread never calls a collector):
//   start()                       once; an error means "down" (logged, exported as
//                                 boundwise_collector_up 0) and the agent goes on
//   set_targets(targets)          after every discovery scan
//   sample(now)                   every period() (never, if period() is zero)
//   contribute(now, evidence)     at each window close: write this collector's own
//                                 evidence for [previous close, now) (its own part
//                                 of each WorkloadEvidence, never another's), then
//                                 start a new window. The daemon's assemble() merges
//                                 the parts, so the order of collectors is irrelevant.
//
// Adding a collector = its own folder, with a descriptor (collectors/descriptor.hpp),
// + one line in collectors/registry.cpp.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "classifier/assemble/evidence.hpp"
#include "classifier/endpoint.hpp"
#include "classifier/result.hpp"
#include "collectors/descriptor.hpp"
#include "collectors/targets.hpp"

namespace boundwise {

namespace process {
class ProcessImages;  // collectors/process/process_images.hpp
}

using SteadyTime = std::chrono::steady_clock::time_point;

// Settings every collector may read; the daemon fills them from the config.
struct CollectorSettings {
  std::string proc_root = "/proc";  // tests point this at fixture trees
  int sample_rate_hz = 5;           // thread-state samples per second
  // procfs files kept open at most; 0: automatic (procfs::kept_files_capacity).
  int max_open_files = 0;
  // `collectors:` of the config: name → enabled (absent = enabled). Collectors with
  // parts read their parts' switches here (e.g. "ebpf_syscalls").
  std::map<std::string, bool> collectors_enabled;
  // Each collector's configured options (its `NAME:` section), by collector name;
  // options_for() adds the defaults of those not set.
  std::map<std::string, OptionValues, std::less<>> options;
  Options options_for(const CollectorDescriptor& descriptor) const {
    auto it = options.find(descriptor.name);
    return Options(descriptor, it != options.end() ? &it->second : nullptr);
  }
  // What each process's image says (CPython or not, its GIL range), shared by every
  // collector so that a process's ELF is read once. The daemon sets it, for
  // `proc_root`; a collector given none makes its own (unit tests).
  std::shared_ptr<process::ProcessImages> process_images;
  // The config's `dependencies:`: a collector that names an endpoint in its own output
  // (the stacks collector's `[net NAME]` frames) names it as assemble() does,
  // with dependency_name() (classifier/endpoint.hpp).
  std::vector<DependencyRule> dependencies;
};

// A separately loaded part of a collector (e.g. one BPF tool of the ebpf collector),
// exported as boundwise_collector_up{collector="NAME"} beside its collector.
struct PartStatus {
  std::string name;
  bool up = false;
  std::string error;  // why it is down (or "disabled by configuration")
};

class Collector {
 public:
  virtual ~Collector() = default;

  // Short name: config key, metric label ("procfs") and logger name.
  virtual std::string_view name() const = 0;

  // Prepare (probe privileges, open what stays open). Error = collector down.
  virtual Status start() = 0;

  // How often sample() runs; zero means the collector only works in contribute().
  virtual std::chrono::nanoseconds period() const = 0;

  virtual void set_targets(const TargetSet& targets) = 0;

  // One sampling round. An error means the whole round failed (e.g. proc_root is
  // gone); a single vanished target is not an error, it is skipped.
  virtual Status sample(SteadyTime now) = 0;

  virtual void contribute(SteadyTime now, EvidenceSet& evidence) = 0;

  // Parts and their state, after start(); empty for collectors without parts.
  virtual std::vector<PartStatus> parts() const { return {}; }
};

}  // namespace boundwise
