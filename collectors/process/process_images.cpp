// The per-process image cache: one read per process identity and executable.
#include "collectors/process/process_images.hpp"

#include <sys/stat.h>

namespace boundwise::process {

std::optional<ExeIdentity> exe_identity(const std::string& proc_root, int pid) {
  struct stat st {};
  if (::stat((proc_root + "/" + std::to_string(pid) + "/exe").c_str(), &st) != 0) {
    return std::nullopt;
  }
  return ExeIdentity{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
}

ProcessImages::ProcessImages(std::string proc_root, Reader reader)
    : proc_root_(std::move(proc_root)), reader_(std::move(reader)) {}

ProcessImages::GilResult ProcessImages::gil(const ProcessKey& key) {
  auto exe = exe_identity(proc_root_, key.pid);
  auto it = entries_.find(key);
  if (it != entries_.end() && it->second.exe == exe) return it->second.gil;
  Entry entry{exe, reader_(proc_root_, key.pid)};
  if (it != entries_.end()) {
    it->second = std::move(entry);
  } else {
    it = entries_.emplace(key, std::move(entry)).first;
  }
  return it->second.gil;
}

void ProcessImages::retain(const TargetSet& targets) {
  std::set<ProcessKey> keep;
  for (const auto& [key, workload] : workload_by_process(targets)) keep.insert(key);
  retain(keep);
}

void ProcessImages::retain(const std::set<ProcessKey>& keep) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    it = keep.count(it->first) == 0 ? entries_.erase(it) : std::next(it);
  }
}

CollectorSettings with_process_images(const CollectorSettings& settings) {
  CollectorSettings out = settings;
  if (!out.process_images) out.process_images = std::make_shared<ProcessImages>(out.proc_root);
  return out;
}

}  // namespace boundwise::process
