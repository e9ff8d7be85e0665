// What every eBPF tool shares, once: owning its libbpf skeleton, attaching and
// detaching its links for the overhead budget, starting a new generation of in-kernel
// records at each attach, and the open → share target maps → load → attach sequence
// of its loader. A tool subclass adds only its own reading (contribute, the target
// and id hooks).
//
// The generation: every tool keeps per-event records in the kernel (a thread's
// off-CPU segment, a request in flight, a syscall's entry time) stamped with a __u32
// counter in its .bss. Bumping it before the programs run again makes every record
// written before the last detach count as absent, so time spent detached is never
// read as one long wait.
#pragma once

#include <bpf/libbpf.h>

#include <cerrno>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "collectors/ebpf/bpf_util.hpp"
#include "collectors/ebpf/targets.hpp"
#include "collectors/ebpf/tool.hpp"

namespace boundwise::ebpf {

// The generated skeleton functions of one tool (NAME_bpf__open and friends).
template <class Skel>
struct SkeletonOps {
  Skel* (*open)();
  int (*load)(Skel*);
  int (*attach)(Skel*);
  void (*detach)(Skel*);
  void (*destroy)(Skel*);
};

template <class Skel>
class SkeletonTool : public Tool {
 public:
  // `generation`: the tool's counter in its .bss; `attach_what`: what an attach failure
  // is reported as ("sched: attach to scheduler tracepoints").
  SkeletonTool(Skel* skel, const SkeletonOps<Skel>& ops, std::uint32_t* generation,
               std::string attach_what)
      : skel_(skel), ops_(ops), generation_(generation), attach_what_(std::move(attach_what)) {}
  ~SkeletonTool() override { ops_.destroy(skel_); }
  SkeletonTool(const SkeletonTool&) = delete;
  SkeletonTool& operator=(const SkeletonTool&) = delete;

  Status attach() final {
    if (attached_) return Ok{};
    __atomic_add_fetch(generation_, 1, __ATOMIC_SEQ_CST);
    if (int err = ops_.attach(skel_); err != 0) return Error{describe_failure(attach_what_, err)};
    attached_ = true;
    return Ok{};
  }
  // Records open at the detach are dropped at the next attach: no time is invented,
  // the detached part of a window is simply not measured.
  void detach() final {
    ops_.detach(skel_);
    attached_ = false;
  }
  bool attached() const final { return attached_; }
  std::vector<std::pair<std::string, int>> programs() const final {
    return program_fds(skel_->obj);
  }

 protected:
  std::uint32_t generation() const { return __atomic_load_n(generation_, __ATOMIC_SEQ_CST); }
  Skel* skel_;

 private:
  SkeletonOps<Skel> ops_;
  std::uint32_t* generation_;
  std::string attach_what_;
  bool attached_ = false;
};

// open → configure(skel) (program autoload, read-only data) → share the target maps →
// load → make(skel) → attach. Errors name the tool and the step; the skeleton is
// destroyed on every failure path (by the tool once it owns it).
template <class Skel, class Configure, class Make>
Result<std::unique_ptr<Tool>> load_skeleton_tool(const char* tool, const SkeletonOps<Skel>& ops,
                                                 const ToolContext& ctx, Configure&& configure,
                                                 Make&& make) {
  const std::string name(tool);
  Skel* skel = ops.open();
  if (skel == nullptr) return Error{describe_failure(name + ": open BPF object", errno)};
  configure(skel);
  if (int err = ctx.targets->reuse_in(skel->maps.bw_target_bits, skel->maps.bw_target_workload);
      err != 0) {
    ops.destroy(skel);
    return Error{describe_failure(name + ": share the target maps", err)};
  }
  if (int err = ops.load(skel); err != 0) {
    ops.destroy(skel);
    return Error{describe_failure(name + ": load BPF programs", err)};
  }
  std::unique_ptr<Tool> made = make(skel);
  if (auto st = made->attach(); !st.ok()) return st.error();
  return made;
}

}  // namespace boundwise::ebpf
