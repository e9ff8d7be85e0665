// Discovery: process table, selector matching, tree grouping, and the auto-discovery
// ranking. The rules are spelled out in docs/DISCOVERY.md.
#include "daemon/discovery.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "collectors/counter_delta.hpp"
#include "collectors/procfs/parse.hpp"

namespace boundwise {

namespace {

// One open + read + close (an ifstream costs twice as much; this runs for every
// process of the host every scan).
std::optional<std::string> read_small_at(int dirfd, const char* path) {
  int fd = ::openat(dirfd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) {
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > (1u << 20)) break;
  }
  ::close(fd);
  if (n < 0) return std::nullopt;
  return out;
}

std::optional<std::string> read_small(const std::string& path) {
  return read_small_at(AT_FDCWD, path.c_str());
}

// The suffix that places an auto-discovered workload in its pod: "@pod-" and the
// first 8 hex digits of the pod UID, then "/" and the first 12 of the container id
// (the short id `crictl ps` and `docker ps` print). Short enough to read on a graph,
// long enough not to collide among a node's pods (a collision still gets "#2").
std::string pod_suffix(const PodContainer& pod) {
  std::string out = "@pod-" + pod.pod_uid.substr(0, 8);
  if (!pod.container_id.empty()) out += "/" + pod.container_id.substr(0, 12);
  return out;
}

constexpr std::uint32_t kPfKthread = 0x00200000;  // PF_KTHREAD, include/linux/sched.h

// Parents whose children start separate services: init systems, shells, terminal
// multiplexers, container shims, privilege switchers.
bool is_launcher(const std::string& comm) {
  static const std::set<std::string> kLaunchers = {"init",        "systemd",
                                                   "bash",        "sh",
                                                   "dash",        "zsh",
                                                   "fish",        "ksh",
                                                   "sshd",        "su",
                                                   "sudo",        "runuser",
                                                   "login",       "tmux",
                                                   "screen",      "tini",
                                                   "dumb-init",   "s6-supervise",
                                                   "runsv",       "supervisord",
                                                   "process_api", "containerd-shim",
                                                   "make",        "ctest",
                                                   "cron",        "xargs",
                                                   "env",         "timeout",
                                                   "nohup",       "setsid",
                                                   "catatonit"};
  if (kLaunchers.count(comm) != 0) return true;
  return comm.rfind("containerd-shim", 0) == 0 || comm.rfind("tmux", 0) == 0;
}

}  // namespace

std::vector<ProcessInfo> read_process_table(const std::string& proc_root, bool with_cmdline) {
  std::vector<ProcessInfo> out;
  DIR* dir = ::opendir(proc_root.c_str());
  if (dir == nullptr) return out;
  while (dirent* e = ::readdir(dir)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0' || pid <= 0) continue;
    std::string base = proc_root + "/" + e->d_name;
    auto text = read_small(base + "/stat");
    if (!text) continue;
    auto stat = procfs::parse_stat(*text);
    if (!stat) continue;
    // Kernel threads by their flag, not as "kthreadd (pid 2) and its children": in a
    // PID namespace (a container, the PID-reuse soak) PID 2 is an ordinary process.
    if ((stat->flags & kPfKthread) != 0) continue;
    ProcessInfo p;
    p.key = ProcessKey{stat->pid, stat->start_time_ticks};
    p.ppid = stat->ppid;
    p.comm = stat->comm;
    p.cpu_ticks = stat->utime_ticks + stat->stime_ticks;
    p.threads = stat->num_threads;
    p.state = stat->state;
    if (with_cmdline) {
      if (auto raw = read_small(base + "/cmdline")) {
        auto args = procfs::parse_cmdline(*raw);
        for (const auto& a : args) p.cmdline += (p.cmdline.empty() ? "" : " ") + a;
      }
    }
    out.push_back(std::move(p));
  }
  ::closedir(dir);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
  return out;
}

Discovery::Discovery(const Config& config, int self_pid)
    : proc_root_(config.proc_root), self_pid_(self_pid), max_workloads_(config.max_workloads) {
  for (const auto& t : config.targets) {
    Selector s;
    s.config = t;
    if (t.comm_regex) s.regex.emplace(*t.comm_regex, std::regex::ECMAScript);
    if (t.cmdline_regex) s.regex.emplace(*t.cmdline_regex, std::regex::ECMAScript);
    selectors_.push_back(std::move(s));
  }
}

TargetSet Discovery::scan() {
  bool need_cmdline = std::any_of(selectors_.begin(), selectors_.end(), [](const Selector& s) {
    return s.config.cmdline_regex.has_value();
  });
  return group(read_process_table(proc_root_, need_cmdline));
}

TargetSet Discovery::group(const std::vector<ProcessInfo>& table) {
  TargetSet set = selectors_.empty() ? group_auto(table) : group_selected(table);
  facts_.clear();
  std::map<ProcessKey, const ProcessInfo*> by_key;
  for (const auto& p : table) by_key[p.key] = &p;
  for (const auto& w : set.workloads) {
    WorkloadFacts f;
    for (const auto& key : w.processes) {
      auto it = by_key.find(key);
      if (it == by_key.end()) continue;
      const ProcessInfo& p = *it->second;
      f.threads += p.threads;
      ++f.processes;
      if (p.state == 'T' || p.state == 't') ++f.stopped;
      if (p.state == 'Z') ++f.zombie;
    }
    facts_[w.name] = f;
  }
  std::map<ProcessKey, std::uint64_t> cpu;
  for (const auto& p : table) cpu[p.key] = p.cpu_ticks;
  last_cpu_ = std::move(cpu);
  for (auto it = pods_.begin(); it != pods_.end();) {
    it = last_cpu_.count(it->first) == 0 ? pods_.erase(it) : std::next(it);
  }
  return set;
}

const std::optional<PodContainer>& Discovery::pod_of(const ProcessKey& key) {
  auto known = pods_.find(key);
  if (known != pods_.end()) return known->second;
  std::optional<PodContainer> pod;
  // Both files through one directory fd, after checking the start time: a PID reused
  // since the table was read is another process, whose pod this must not become
  // (lookups through the directory of a process that has exited fail).
  std::string dir_path = proc_root_ + "/" + std::to_string(key.pid);
  int dir = ::open(dir_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    auto text = read_small_at(dir, "stat");
    auto stat = text ? procfs::parse_stat(*text) : Result<procfs::TaskStat>(Error{""});
    if (stat && stat->start_time_ticks == key.start_time_ticks) {
      if (auto cgroup = read_small_at(dir, "cgroup")) pod = procfs::parse_pod_cgroup(*cgroup);
    }
    ::close(dir);
  }
  return pods_.emplace(key, std::move(pod)).first->second;
}

std::optional<PodContainer> Discovery::common_pod(const std::vector<ProcessKey>& roots) {
  std::optional<PodContainer> common;
  for (const auto& key : roots) {
    const auto& pod = pod_of(key);
    if (!pod) return std::nullopt;
    if (!common) {
      common = pod;
    } else if (common->pod_uid != pod->pod_uid) {
      return std::nullopt;
    } else if (common->container_id != pod->container_id) {
      common->container_id.clear();  // one pod, several containers
      common->runtime.clear();
    }
  }
  return common;
}

namespace {

// Children by parent pid (a parent's identity is its pid at this instant).
std::map<int, std::vector<const ProcessInfo*>> children_of(const std::vector<ProcessInfo>& table) {
  std::map<int, std::vector<const ProcessInfo*>> children;
  for (const auto& p : table) children[p.ppid].push_back(&p);
  return children;
}

void collect_tree(const ProcessInfo& root,
                  const std::map<int, std::vector<const ProcessInfo*>>& children,
                  std::set<ProcessKey>& claimed, int self_pid, std::vector<ProcessKey>& out,
                  const std::set<ProcessKey>* other_roots = nullptr) {
  std::vector<const ProcessInfo*> stack = {&root};
  while (!stack.empty()) {
    const ProcessInfo* p = stack.back();
    stack.pop_back();
    if (p != &root && other_roots != nullptr && other_roots->count(p->key) != 0) continue;
    if (p->key.pid == self_pid || !claimed.insert(p->key).second) continue;
    out.push_back(p->key);
    auto it = children.find(p->key.pid);
    if (it == children.end()) continue;
    for (const auto* c : it->second) stack.push_back(c);
  }
}

}  // namespace

TargetSet Discovery::group_selected(const std::vector<ProcessInfo>& table) {
  TargetSet set;
  auto children = children_of(table);
  std::map<int, const ProcessInfo*> by_pid;
  for (const auto& p : table) by_pid[p.key.pid] = &p;
  std::set<ProcessKey> claimed;
  for (auto& s : selectors_) {
    std::vector<const ProcessInfo*> roots;
    if (s.config.pid) {
      auto it = by_pid.find(*s.config.pid);
      if (!s.pin_checked) {
        s.pin_checked = true;
        if (it != by_pid.end()) {
          s.pinned = it->second->key;
        } else {
          spdlog::warn("target {}: pid {} does not exist; it will not be watched", s.config.name,
                       *s.config.pid);
        }
      }
      if (it != by_pid.end() && s.pinned && it->second->key == *s.pinned) {
        roots.push_back(it->second);
      }
    } else if (s.regex) {
      auto matches = [&](const ProcessInfo& p) {
        const std::string& subject = s.config.comm_regex ? p.comm : p.cmdline;
        return std::regex_search(subject, *s.regex);
      };
      for (const auto& p : table) {
        if (!matches(p)) continue;
        // Only top-most matches are roots; matching descendants come with them.
        bool ancestor_matches = false;
        std::set<int> seen;
        for (auto up = by_pid.find(p.ppid); up != by_pid.end() && seen.insert(up->first).second;
             up = by_pid.find(up->second->ppid)) {
          if (matches(*up->second)) {
            ancestor_matches = true;
            break;
          }
        }
        if (!ancestor_matches) roots.push_back(&p);
      }
    }
    TargetWorkload w;
    w.name = s.config.name;
    std::vector<ProcessKey> root_keys;
    for (const auto* root : roots) {
      std::size_t before = w.processes.size();
      collect_tree(*root, children, claimed, self_pid_, w.processes);
      if (w.processes.size() != before) root_keys.push_back(root->key);
    }
    if (w.processes.empty()) continue;
    // A configured name stays as configured; the pod only goes with it.
    w.pod = common_pod(root_keys);
    std::sort(w.processes.begin(), w.processes.end());
    set.workloads.push_back(std::move(w));
  }
  return set;
}

std::map<ProcessKey, Discovery::AutoTree> Discovery::choose_trees(
    const std::map<ProcessKey, std::uint64_t>& tree_delta,
    const std::map<ProcessKey, const ProcessInfo*>& roots) {
  // Decay every known tree's score, drop trees that exited or went quiet.
  for (auto it = auto_trees_.begin(); it != auto_trees_.end();) {
    it->second.score *= 0.5;
    bool gone = roots.count(it->first) == 0;
    it = (gone || it->second.score < 0.25) ? auto_trees_.erase(it) : std::next(it);
  }
  struct Candidate {
    ProcessKey root;
    double score;
  };
  std::vector<Candidate> candidates;
  for (const auto& [key, delta] : tree_delta) {
    double score = static_cast<double>(delta);
    auto known = auto_trees_.find(key);
    if (known != auto_trees_.end()) score += known->second.score;
    if (score > 0) candidates.push_back({key, score});
  }
  std::sort(candidates.begin(), candidates.end(), [](const auto& a, const auto& b) {
    return a.score != b.score ? a.score > b.score : a.root < b.root;
  });
  over_limit_ = std::max(0, static_cast<int>(candidates.size()) - max_workloads_);
  if (candidates.size() > static_cast<std::size_t>(max_workloads_)) {
    candidates.resize(static_cast<std::size_t>(max_workloads_));
  }
  std::map<ProcessKey, AutoTree> next;
  std::set<std::string> used;
  for (const auto& c : candidates) {  // keep names of trees already known
    auto known = auto_trees_.find(c.root);
    if (known != auto_trees_.end()) {
      next[c.root] = AutoTree{known->second.name, c.score};
      used.insert(known->second.name);
    }
  }
  for (const auto& c : candidates) {
    if (next.count(c.root) != 0) continue;
    std::string base = roots.at(c.root)->comm.empty() ? "pid" : roots.at(c.root)->comm;
    if (const auto& pod = pod_of(c.root)) base += pod_suffix(*pod);
    std::string name = base;
    for (int n = 2; used.count(name) != 0; ++n) name = base + "#" + std::to_string(n);
    used.insert(name);
    next[c.root] = AutoTree{name, c.score};
  }
  return next;
}

TargetSet Discovery::group_auto(const std::vector<ProcessInfo>& table) {
  std::map<int, const ProcessInfo*> by_pid;
  for (const auto& p : table) by_pid[p.key.pid] = &p;
  auto children = children_of(table);

  // The root of a process's tree: climb while the parent is neither init (pid ≤ 1),
  // nor a launcher (shell, init system, shim), nor absent.
  auto root_of = [&](const ProcessInfo& p) {
    const ProcessInfo* cur = &p;
    std::set<int> seen;
    while (seen.insert(cur->key.pid).second) {
      auto parent = by_pid.find(cur->ppid);
      if (cur->ppid <= 1 || parent == by_pid.end() || is_launcher(parent->second->comm)) break;
      cur = parent->second;
    }
    return cur;
  };

  // CPU used since the last scan, per tree.
  std::map<ProcessKey, std::uint64_t> tree_delta;
  std::map<ProcessKey, const ProcessInfo*> roots;
  for (const auto& p : table) {
    if (p.key.pid == self_pid_) continue;
    const ProcessInfo* root = root_of(p);
    if (root->key.pid == self_pid_) continue;
    roots[root->key] = root;
    auto last = last_cpu_.find(p.key);
    // A process first seen, or whose counter went backwards, adds nothing this scan.
    std::optional<std::uint64_t> before;
    if (last != last_cpu_.end()) before = last->second;
    tree_delta[root->key] += counter_delta(p.cpu_ticks, before).value_or(0);
  }
  auto_trees_ = choose_trees(tree_delta, roots);

  TargetSet set;
  std::set<ProcessKey> claimed;
  std::set<ProcessKey> all_roots;
  for (const auto& [key, root] : roots) all_roots.insert(key);
  for (const auto& [root, tree] : auto_trees_) {
    TargetWorkload w;
    w.name = tree.name;
    w.pod = pod_of(root);
    collect_tree(*roots[root], children, claimed, self_pid_, w.processes, &all_roots);
    if (w.processes.empty()) continue;
    std::sort(w.processes.begin(), w.processes.end());
    set.workloads.push_back(std::move(w));
  }
  std::sort(set.workloads.begin(), set.workloads.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  return set;
}

}  // namespace boundwise
