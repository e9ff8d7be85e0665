// Runtime detection once per process (at set_targets), then one GIL read per process
// per round. Per-process state is keyed by ProcessKey, so a reused PID is a new
// process. A target that exits mid-read is skipped without a log line.
#include "collectors/python/python_collector.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "collectors/process/process_images.hpp"
#include "collectors/procfs/parse.hpp"
#include "collectors/procfs/proc_io.hpp"
#include "collectors/python/gil_reader.hpp"
#include "collectors/python/remote_memory.hpp"
#include "collectors/python/topology.hpp"
#include "collectors/python/version_scan.hpp"

namespace boundwise {

namespace {

using python::GilReader;
using python::GilSample;
using python::SampleOutcome;

// A process's executable identity (process_images.hpp). exec() keeps the pid and the
// start time (the ProcessKey) but changes it: a wrapper script or pyenv's shim that
// execs python may be discovered before the exec, and its runtime must then be
// detected again.
using process::exe_identity;
using process::ExeIdentity;

struct PythonProcess {
  ProcessKey key;
  std::string workload;
  std::optional<ExeIdentity> exe;  // at detection
  bool alive = true;
  std::optional<process::GilLocation> python;  // empty: not CPython (or unreadable ELF)
  bool elf_read = false;                       // runtime detection succeeded
  std::unique_ptr<python::ProcessMemory> memory;
  std::optional<GilReader> reader;
  std::set<int> tids;
  // This window.
  SteadyTime base_time{};
  std::uint64_t samples = 0;
  std::uint64_t locked = 0;
  std::uint64_t waiters = 0;
  std::optional<std::uint64_t> first_switch, last_switch;
  std::set<int> holders;
};

std::set<int> task_ids(const std::string& proc_root, int pid) {
  std::set<int> out;
  int dir =
      ::open((proc_root + "/" + std::to_string(pid)).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return out;
  for (int tid : procfs::list_numeric(dir, "task")) out.insert(tid);
  ::close(dir);
  return out;
}

class PythonCollector final : public Collector {
 public:
  explicit PythonCollector(const CollectorSettings& settings)
      : settings_(process::with_process_images(settings)),
        period_(std::chrono::nanoseconds(1'000'000'000LL / std::max(1, settings.sample_rate_hz))),
        log_(spdlog::get("python") ? spdlog::get("python") : spdlog::default_logger()) {}

  std::string_view name() const override { return "python"; }
  std::chrono::nanoseconds period() const override { return period_; }
  Status start() override { return Ok{}; }

  void set_targets(const TargetSet& targets) override {
    settings_.process_images->retain(targets);
    // A process that exec'd another executable is detected afresh, as a new process.
    for (auto it = processes_.begin(); it != processes_.end();) {
      auto exe = exe_identity(settings_.proc_root, it->first.pid);
      if (exe && exe != it->second.exe) {
        log_->debug("pid {}: exec'd a new executable: runtime detected again", it->first.pid);
        it = processes_.erase(it);
      } else {
        ++it;
      }
    }
    const auto now = std::chrono::steady_clock::now();
    follow_targets(
        processes_, targets,
        [&](const ProcessKey& key, const std::string& workload) {
          PythonProcess p;
          p.key = key;
          p.workload = workload;
          p.base_time = now;
          detect(p);
          return std::optional<PythonProcess>(std::move(p));
        },
        [](PythonProcess&) {});  // its partial window is dropped with it
  }

  Status sample(SteadyTime) override {
    ++round_;
    for (auto& [key, p] : processes_) {
      if (!p.alive || !p.reader) continue;
      if (p.tids.empty() || round_ % kRelistEvery == 0)
        p.tids = task_ids(settings_.proc_root, key.pid);
      if (p.tids.empty()) {
        p.alive = false;
        continue;
      }
      GilSample s;
      std::string why;
      switch (p.reader->sample(*p.memory, p.tids, s, &why)) {
        case SampleOutcome::gone:
          p.alive = false;
          continue;
        case SampleOutcome::failed:
          // The memory stopped matching the layout (or the process exec'd): stop reading
          // and say so once; the futex signature still attributes GIL waits.
          log_->warn("pid {}: GIL reads stopped: {}", key.pid, why);
          p.reader.reset();
          continue;
        case SampleOutcome::ok:
          break;
      }
      ++p.samples;
      if (s.locked) ++p.locked;
      p.waiters += static_cast<std::uint64_t>(s.waiters);
      if (!p.first_switch) p.first_switch = s.switch_number;
      p.last_switch = s.switch_number;
      if (s.holder_tid) p.holders.insert(*s.holder_tid);
    }
    return Ok{};
  }

  void contribute(SteadyTime now, EvidenceSet& evidence) override {
    struct Acc {
      bool any_elf = false;
      const PythonProcess* first_python = nullptr;
      bool all_readable = true;
      std::set<int> holders;
    };
    std::map<std::string, Acc> acc;
    for (auto& [key, p] : processes_) {
      auto wit = evidence.workloads.find(p.workload);
      if (wit == evidence.workloads.end()) continue;
      RuntimeEvidence& w = runtime_of(wit->second);
      Acc& a = acc[p.workload];
      a.any_elf = a.any_elf || p.elf_read;
      if (p.python) {
        if (a.first_python == nullptr) a.first_python = &p;
        if (!p.reader && !p.python->free_threaded) a.all_readable = false;
      }
      if (p.samples > 0) {
        const double observed = std::chrono::duration<double>(now - p.base_time).count();
        const double n = static_cast<double>(p.samples);
        w.gil.measured = true;
        w.gil.samples += p.samples;
        w.gil.locked_samples += p.locked;
        w.gil.held_seconds += observed * static_cast<double>(p.locked) / n;
        w.gil.waiters_mean += static_cast<double>(p.waiters) / n;
        if (p.first_switch && p.last_switch && *p.last_switch >= *p.first_switch) {
          w.gil.switches += *p.last_switch - *p.first_switch;
        }
        a.holders.insert(p.holders.begin(), p.holders.end());
      }
      p.base_time = now;
      p.samples = p.locked = p.waiters = 0;
      // The next window's switch delta starts from this window's last value.
      p.first_switch = p.last_switch;
      p.holders.clear();
    }
    std::map<std::string, std::vector<python::ProcessFacts>> facts;
    for (auto& [key, p] : processes_) {
      if (!p.alive || evidence.workloads.count(p.workload) == 0) continue;
      if (auto f = process_facts(p)) facts[p.workload].push_back(std::move(*f));
    }
    for (auto& [name, a] : acc) {
      RuntimeEvidence& w = runtime_of(evidence.workloads[name]);
      w.gil.holder_threads = static_cast<int>(a.holders.size());
      auto topology = python::detect_topology(facts[name]);
      w.runtime.start_method = topology.start_method;
      w.runtime.server = topology.server;
      w.runtime.worker_processes = topology.workers;
      w.runtime.max_worker_threads = topology.max_worker_threads;
      if (a.first_python != nullptr) {
        const auto& py = *a.first_python->python;
        w.runtime.kind = "python";
        w.runtime.version = py.version;
        w.runtime.free_threaded = py.free_threaded;
        w.runtime.gil_readable = a.all_readable && !py.free_threaded;
      } else if (a.any_elf) {
        w.runtime.kind = "native";
      }
    }
    for (auto it = processes_.begin(); it != processes_.end();) {
      it = it->second.alive ? std::next(it) : processes_.erase(it);
    }
  }

 private:
  static constexpr std::uint64_t kRelistEvery = 8;

  static RuntimeEvidence& runtime_of(WorkloadEvidence& e) {
    return e.runtime ? *e.runtime : e.runtime.emplace();
  }

  // Command line, parent and thread count, once per window (two small reads, each one
  // open + read + close: an ifstream per file cost ~3x that, for every target process).
  std::optional<python::ProcessFacts> process_facts(const PythonProcess& p) {
    const std::string base = settings_.proc_root + "/" + std::to_string(p.key.pid);
    auto stat_text = procfs::read_at(AT_FDCWD, (base + "/stat").c_str());
    if (!stat_text) return std::nullopt;
    auto stat = procfs::parse_stat(*stat_text);
    if (!stat || stat->start_time_ticks != p.key.start_time_ticks) return std::nullopt;
    python::ProcessFacts f;
    f.pid = p.key.pid;
    f.ppid = stat->ppid;
    f.threads = stat->num_threads;
    f.python = p.python.has_value();
    if (auto cmdline = procfs::read_at(AT_FDCWD, (base + "/cmdline").c_str())) {
      f.argv = procfs::parse_cmdline(*cmdline);
    }
    return f;
  }

  void detect(PythonProcess& p) {
    p.exe = exe_identity(settings_.proc_root, p.key.pid);
    auto located = settings_.process_images->gil(p.key);
    if (!located) {
      log_->debug("pid {}: runtime not detected: {}", p.key.pid, located.error().message);
      return;
    }
    p.elf_read = true;
    p.python = *located;
    if (!p.python || p.python->runtime_address == 0) return;
    p.memory = std::make_unique<python::ProcessMemory>(p.key.pid);
    p.tids = task_ids(settings_.proc_root, p.key.pid);
    // 3.13+: the interpreter describes itself; the table is the fallback.
    std::optional<python::PythonLayout> layout;
    auto header = python::read_debug_offsets(*p.memory, p.python->runtime_address);
    if (header && header->has_value()) {
      const auto& h = **header;
      p.python->free_threaded = p.python->free_threaded || h.free_threaded;
      if (p.python->version.empty() || p.python->version.find('.', 2) == std::string::npos) {
        p.python->version = std::to_string(h.version >> 24) + "." +
                            std::to_string((h.version >> 16) & 0xff) + "." +
                            std::to_string((h.version >> 8) & 0xff);
      }
      layout = h.layout;
    } else if (!header) {
      note_unreadable(p, header.error().message);
    }
    if (p.python->minor >= 0 &&
        std::count(p.python->version.begin(), p.python->version.end(), '.') < 2) {
      // No Py_Version (3.8 and older): the version string in the interpreter's data.
      std::ifstream maps(settings_.proc_root + "/" + std::to_string(p.key.pid) + "/maps");
      std::stringstream text;
      text << maps.rdbuf();
      if (auto v =
              python::scan_version(*p.memory, text.str(), p.python->object_path, p.python->minor)) {
        p.python->version = *v;
      }
    }
    if (p.python->free_threaded) return;  // no GIL to read (PYTHON_GIL=1 not handled)
    if (!layout) layout = python::table_layout(p.python->major, p.python->minor);
    if (!layout) {
      note_unreadable(p, "no GIL layout known for CPython " + p.python->version);
      return;
    }
    auto reader = GilReader::open(*p.memory, p.python->runtime_address, *layout, p.tids);
    if (!reader) {
      note_unreadable(p, reader.error().message);
      return;
    }
    p.reader = std::move(*reader);
  }

  void note_unreadable(const PythonProcess& p, const std::string& why) {
    if (!unreadable_warned_) {
      unreadable_warned_ = true;
      log_->warn(
          "pid {}: GIL state not readable from memory ({}); GIL waits are inferred from futex "
          "addresses only (hint: run as root or grant CAP_SYS_PTRACE)",
          p.key.pid, why);
    } else {
      log_->debug("pid {}: GIL state not readable: {}", p.key.pid, why);
    }
  }

  CollectorSettings settings_;
  std::chrono::nanoseconds period_;
  std::shared_ptr<spdlog::logger> log_;
  std::map<ProcessKey, PythonProcess> processes_;
  std::uint64_t round_ = 0;
  bool unreadable_warned_ = false;
};

}  // namespace

std::unique_ptr<Collector> make_python_collector(const CollectorSettings& settings) {
  return std::make_unique<PythonCollector>(settings);
}

}  // namespace boundwise
