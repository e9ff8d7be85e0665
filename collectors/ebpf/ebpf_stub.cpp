// The ebpf collector of a build without the BPF toolchain (collectors/ebpf/
// CMakeLists.txt): always down, saying why.
#include "collectors/ebpf/ebpf_collector.hpp"

namespace boundwise {

namespace {

class EbpfStub final : public Collector {
 public:
  std::string_view name() const override { return "ebpf"; }
  Status start() override {
    return Error{
        "built without eBPF support (hint: install clang-14, llvm-14, bpftool and "
        "libbpf-dev with deploy/install-deps.sh and rebuild on a kernel with BTF)"};
  }
  std::chrono::nanoseconds period() const override { return std::chrono::nanoseconds(0); }
  void set_targets(const TargetSet&) override {}
  Status sample(SteadyTime) override { return Ok{}; }
  void contribute(SteadyTime, EvidenceSet&) override {}
};

}  // namespace

std::unique_ptr<Collector> make_ebpf_collector(const CollectorSettings&) {
  return std::make_unique<EbpfStub>();
}

}  // namespace boundwise
