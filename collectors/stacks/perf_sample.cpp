// Parsing a sample record: every count comes from the kernel's bytes, checked before use.
#include "collectors/stacks/perf_sample.hpp"

#include <cstring>

namespace boundwise::stacks {

namespace {

class Reader {
 public:
  explicit Reader(std::span<const std::byte> bytes) : bytes_(bytes) {}
  bool u64(std::uint64_t& out) { return take(&out, sizeof out); }
  bool u32(std::uint32_t& out) { return take(&out, sizeof out); }
  std::size_t left() const { return bytes_.size() - at_; }
  std::span<const std::byte> bytes(std::size_t n) {
    auto out = bytes_.subspan(at_, n);
    at_ += n;
    return out;
  }

 private:
  bool take(void* out, std::size_t n) {
    if (left() < n) return false;
    std::memcpy(out, bytes_.data() + at_, n);
    at_ += n;
    return true;
  }
  std::span<const std::byte> bytes_;
  std::size_t at_ = 0;
};

}  // namespace

Result<PerfSample> parse_sample(std::span<const std::byte> body) {
  Reader r(body);
  PerfSample s;
  std::uint64_t nr = 0;
  if (!r.u32(s.pid) || !r.u32(s.tid) || !r.u64(s.time_ns) || !r.u64(nr)) {
    return Error{"sample record: truncated before its callchain"};
  }
  if (nr > r.left() / 8) return Error{"sample record: callchain longer than the record"};
  for (std::uint64_t i = 0; i < nr; ++i) {
    std::uint64_t ip = 0;
    (void)r.u64(ip);
    if (ip < kPerfContextMax) s.kernel_ips.push_back(ip);
  }
  std::uint64_t abi = 0;
  if (!r.u64(abi)) return Error{"sample record: truncated before its registers"};
  if (abi != 0) {
    s.has_user_regs = true;
    for (auto& reg : s.regs) {
      if (!r.u64(reg)) return Error{"sample record: truncated in its registers"};
    }
  }
  std::uint64_t size = 0;
  if (!r.u64(size)) return Error{"sample record: truncated before its stack"};
  if (size == 0) return s;
  if (size > r.left() || r.left() - size < 8) return Error{"sample record: stack past the record"};
  auto stack = r.bytes(static_cast<std::size_t>(size));
  std::uint64_t dyn_size = 0;
  (void)r.u64(dyn_size);
  if (dyn_size > size) return Error{"sample record: dyn_size larger than the stack copy"};
  s.stack = stack.first(static_cast<std::size_t>(dyn_size));
  return s;
}

std::vector<std::byte> build_sample(const PerfSample& sample) {
  std::vector<std::byte> out;
  auto put = [&out](const void* p, std::size_t n) {
    const auto* b = static_cast<const std::byte*>(p);
    out.insert(out.end(), b, b + n);
  };
  auto u64 = [&put](std::uint64_t v) { put(&v, sizeof v); };
  put(&sample.pid, sizeof sample.pid);
  put(&sample.tid, sizeof sample.tid);
  u64(sample.time_ns);
  u64(sample.kernel_ips.size());
  for (std::uint64_t ip : sample.kernel_ips) u64(ip);
  u64(sample.has_user_regs ? 2 : 0);  // PERF_SAMPLE_REGS_ABI_64
  if (sample.has_user_regs) {
    for (std::uint64_t reg : sample.regs) u64(reg);
  }
  u64(sample.stack.size());
  if (!sample.stack.empty()) {
    put(sample.stack.data(), sample.stack.size());
    u64(sample.stack.size());
  }
  return out;
}

}  // namespace boundwise::stacks
