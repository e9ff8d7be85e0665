// The stacks collector's pure parts: sample records from bytes, kallsyms, the folded
// order, and the ELF image reader on this test binary itself (its own function symbols
// and .eh_frame_hdr table; reading a file, no process started).
#include <gtest/gtest.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <vector>

#include "collectors/process/elf_image.hpp"
#include "collectors/stacks/kernel_symbols.hpp"
#include "collectors/stacks/object_cache.hpp"
#include "collectors/stacks/perf_sample.hpp"
#include "collectors/stacks/stacks_collector.hpp"
#include "collectors/stacks/unwinder.hpp"

extern "C" __attribute__((noinline, used)) int boundwise_stacks_test_marker(int x) {
  return x * 3 + 1;
}

namespace boundwise::stacks_test {
__attribute__((noinline, used)) int marker(int x) { return x + 7; }

// A sample of this very thread, as perf would take it: the registers at a point inside
// this function and a copy of the stack above its stack pointer.
struct SelfSample {
  std::vector<std::byte> stack = std::vector<std::byte>(16384);
  stacks::PerfSample sample;
};

// Raw stack memory, copied as the kernel copies it: redzones of the frames above
// included, so not through the sanitizer's checked memcpy (volatile keeps the loop a loop).
__attribute__((noinline, no_sanitize("address"))) void copy_raw(std::byte* out,
                                                                const volatile std::byte* from,
                                                                std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) out[i] = from[i];
}

__attribute__((noinline)) void sample_here(SelfSample& out) {
  std::uint64_t ip = 0, sp = 0, bp = 0;
  asm volatile("lea (%%rip), %0\n\tmov %%rsp, %1\n\tmov %%rbp, %2" : "=r"(ip), "=r"(sp), "=r"(bp));
  // As perf does: up to the requested size or the end of the stack, whichever is less.
  pthread_attr_t attr;
  void* base = nullptr;
  std::size_t size = 0;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    pthread_attr_getstack(&attr, &base, &size);
    pthread_attr_destroy(&attr);
  }
  const auto top = reinterpret_cast<std::uint64_t>(base) + size;
  out.stack.resize(std::min<std::uint64_t>(out.stack.size(), top > sp ? top - sp : 0));
  copy_raw(out.stack.data(), reinterpret_cast<const volatile std::byte*>(sp), out.stack.size());
  out.sample.has_user_regs = true;
  out.sample.regs[stacks::reg_index(stacks::kPerfRegIp)] = ip;
  out.sample.regs[stacks::reg_index(stacks::kPerfRegSp)] = sp;
  out.sample.regs[stacks::reg_index(stacks::kPerfRegBp)] = bp;
  out.sample.stack = out.stack;
}

__attribute__((noinline)) void sampled_caller(SelfSample& out) {
  sample_here(out);
  asm volatile("" ::: "memory");  // not a tail call
}
}  // namespace boundwise::stacks_test

namespace boundwise::stacks {
namespace {

// A sample record body as the kernel lays it out for the collector's sample_type.
class RecordBuilder {
 public:
  RecordBuilder& u32(std::uint32_t v) { return put(&v, sizeof v); }
  RecordBuilder& u64(std::uint64_t v) { return put(&v, sizeof v); }
  RecordBuilder& raw(const std::vector<std::byte>& b) {
    bytes_.insert(bytes_.end(), b.begin(), b.end());
    return *this;
  }
  std::span<const std::byte> span() const { return bytes_; }
  std::vector<std::byte>& bytes() { return bytes_; }

 private:
  RecordBuilder& put(const void* p, std::size_t n) {
    const auto* b = static_cast<const std::byte*>(p);
    bytes_.insert(bytes_.end(), b, b + n);
    return *this;
  }
  std::vector<std::byte> bytes_;
};

RecordBuilder full_record(std::uint64_t stack_size, std::uint64_t dyn_size) {
  RecordBuilder r;
  r.u32(100).u32(101).u64(123456789);
  r.u64(3).u64(static_cast<std::uint64_t>(-128)).u64(0xffffffff81000010).u64(0xffffffff81000020);
  r.u64(2);  // abi: PERF_SAMPLE_REGS_ABI_64
  for (std::size_t i = 0; i < kSampleRegs; ++i) r.u64(1000 + i);
  r.u64(stack_size);
  std::vector<std::byte> stack(stack_size);
  for (std::size_t i = 0; i < stack.size(); ++i) stack[i] = static_cast<std::byte>(i);
  r.raw(stack);
  if (stack_size != 0) r.u64(dyn_size);
  return r;
}

TEST(PerfSample, ParsesEveryPartOfARecord) {
  auto r = full_record(64, 40);
  auto s = parse_sample(r.span());
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->pid, 100u);
  EXPECT_EQ(s->tid, 101u);
  EXPECT_EQ(s->time_ns, 123456789u);
  // The context marker (PERF_CONTEXT_KERNEL) is not an address.
  EXPECT_EQ(s->kernel_ips, (std::vector<std::uint64_t>{0xffffffff81000010, 0xffffffff81000020}));
  ASSERT_TRUE(s->has_user_regs);
  EXPECT_EQ(s->regs[reg_index(kPerfRegSp)], 1000u + 7);
  EXPECT_EQ(s->regs[reg_index(kPerfRegIp)], 1000u + 8);
  EXPECT_EQ(s->regs[reg_index(16)], 1000u + 9);  // R8 follows IP
  ASSERT_EQ(s->stack.size(), 40u);               // dyn_size: the valid part
  EXPECT_EQ(s->stack[39], std::byte{39});
}

TEST(PerfSample, KernelThreadsHaveNoUserRegistersOrStack) {
  RecordBuilder r;
  r.u32(1).u32(1).u64(5).u64(0).u64(0).u64(0);  // no callchain, abi 0, stack size 0
  auto s = parse_sample(r.span());
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s->has_user_regs);
  EXPECT_TRUE(s->stack.empty());
}

TEST(PerfSample, ImpossibleCountsAreErrorsNotReadsPastTheRecord) {
  auto whole = full_record(64, 64).bytes();
  for (std::size_t cut = 0; cut < whole.size(); ++cut) {
    EXPECT_FALSE(parse_sample(std::span<const std::byte>(whole.data(), cut)).ok()) << cut;
  }
  RecordBuilder huge;
  huge.u32(1).u32(1).u64(0).u64(1ULL << 60);  // callchain of 2^60 entries
  EXPECT_FALSE(parse_sample(huge.span()).ok());
  EXPECT_FALSE(parse_sample(full_record(16, 24).span()).ok());  // dyn_size > size
}

TEST(KernelSymbols, NamesTextSymbolsAtOrBeforeAnAddress) {
  auto k = KernelSymbols::parse(
      "ffffffff81000000 T _stext\n"
      "ffffffff81000100 t do_thing\n"
      "ffffffff81000200 D some_data\n"
      "ffffffff81000300 T mod_func\t[mod]\n"
      "garbage line\n"
      "0000000000000000 T hidden\n");
  EXPECT_EQ(k.name_at(0xffffffff81000150), "do_thing");
  EXPECT_EQ(k.name_at(0xffffffff81000250), "do_thing");  // data symbols are skipped
  EXPECT_EQ(k.name_at(0xffffffff81000310), "mod_func");
  EXPECT_EQ(k.name_at(0x1000), "");
  // Without CAP_SYSLOG every address reads 0: no table at all.
  EXPECT_TRUE(KernelSymbols::parse("0000000000000000 T a\n0000000000000000 t b\n").empty());
}

TEST(FoldStack, RootFirstUserThenKernelMarked) {
  EXPECT_EQ(fold_stack({"leaf", "mid", "main"}, {"kfunc", "entry_SYSCALL_64"}),
            "main;mid;leaf;entry_SYSCALL_64_[k];kfunc_[k]");
  EXPECT_EQ(fold_stack({"a;b"}, {}), "a_b");
  EXPECT_EQ(fold_stack({}, {"idle"}), "idle_[k]");
}

// This test binary's bytes, read once.
const std::vector<std::byte>& self_exe() {
  static const std::vector<std::byte> bytes = [] {
    std::ifstream in("/proc/self/exe", std::ios::binary | std::ios::ate);
    std::vector<std::byte> out(static_cast<std::size_t>(std::max<std::streamoff>(in.tellg(), 0)));
    in.seekg(0);
    in.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(out.size()));
    return out;
  }();
  return bytes;
}

TEST(ElfImage, ReadsThisBinarysSymbolsAndUnwindTable) {
  const auto& bytes = self_exe();
  ASSERT_GT(bytes.size(), 0u);
  process::SpanSource file(bytes);
  auto image = process::read_elf_image(file, "self");
  ASSERT_TRUE(image.ok()) << image.error().message;
  ASSERT_TRUE(image->table.has_value());
  EXPECT_GT(image->table->fde_count, 10u);
  ASSERT_TRUE(image->eh_frame.has_value());
  EXPECT_FALSE(image->loads.empty());
  const process::FunctionSymbol* c_marker = nullptr;
  const process::FunctionSymbol* cpp_marker = nullptr;
  for (const auto& s : image->symbols) {
    if (image->name_of(s) == "boundwise_stacks_test_marker") c_marker = &s;
    if (process::demangle(image->name_of(s)) == "boundwise::stacks_test::marker(int)") {
      cpp_marker = &s;
    }
  }
  ASSERT_NE(c_marker, nullptr);
  ASSERT_NE(cpp_marker, nullptr);
  ASSERT_GT(c_marker->size, 1u);
  // Inside the function: named; one past its end: not this function.
  EXPECT_EQ(image->name_of(*image->symbol_at(c_marker->start + 1)), "boundwise_stacks_test_marker");
  const auto* after = image->symbol_at(c_marker->start + c_marker->size);
  EXPECT_TRUE(after == nullptr || image->name_of(*after) != "boundwise_stacks_test_marker");
  EXPECT_EQ(process::demangle("not_mangled"), "not_mangled");
  EXPECT_EQ(process::demangle("_Zbroken"), "_Zbroken");
}

// The remote accessors end to end, on this process: its own maps and ELF file, a copy of
// its own stack. The chain sample_here <- sampled_caller <- this test comes back named.
TEST(Unwinder, UnwindsACopiedStackWithTheMappedFilesCallFrameTables) {
  auto self = std::make_unique<stacks_test::SelfSample>();
  stacks_test::sampled_caller(*self);
  char exe[4096];
  ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  ASSERT_GT(n, 0);
  ProcessView view("/proc/self", std::string(exe, static_cast<std::size_t>(n)));
  ASSERT_TRUE(view.refresh());
  ObjectCache cache(std::size_t{512} << 20);
  Unwinder unwinder(64);
  auto stack = unwinder.unwind(self->sample, view, cache);
  std::vector<std::string> names;
  for (std::size_t i = 0; i < stack.ips.size(); ++i) {
    const auto* region = view.find(i == 0 ? stack.ips[i] : stack.ips[i] - 1, cache);
    ASSERT_NE(region, nullptr);
    const process::FunctionSymbol* symbol =
        region->image
            ? region->image->symbol_at((i == 0 ? stack.ips[i] : stack.ips[i] - 1) - region->bias)
            : nullptr;
    names.push_back(symbol ? process::demangle(region->image->name_of(*symbol)) : "?");
  }
  ASSERT_GE(names.size(), 3u) << to_string(stack.failure);
  EXPECT_EQ(names[0], "boundwise::stacks_test::sample_here(boundwise::stacks_test::SelfSample&)");
  EXPECT_EQ(names[1],
            "boundwise::stacks_test::sampled_caller(boundwise::stacks_test::SelfSample&)");
  EXPECT_NE(names[2].find("UnwindsACopiedStack"), std::string::npos) << names[2];
  // Cut the copy to 64 bytes: the unwinding stops inside it, with the cause.
  self->sample.stack = std::span<const std::byte>(self->stack.data(), 64);
  EXPECT_EQ(unwinder.unwind(self->sample, view, cache).failure, UnwindFailure::kStackTruncated);
}

// The image cache keeps at most its byte budget, least recently used out first; an
// image larger than the whole budget is returned but not kept.
TEST(ObjectCache, StaysWithinItsBudget) {
  std::vector<process::Mapping> files;  // two distinct mapped files of this process
  for (const auto& m : process::read_maps("/proc/self/maps")) {
    bool seen = false;
    for (const auto& f : files) seen = seen || (f.device == m.device && f.inode == m.inode);
    if (!seen && m.offset == 0) files.push_back(m);
  }
  ASSERT_GE(files.size(), 2u);
  ObjectCache unlimited(std::size_t{1} << 40);
  auto first = unlimited.image("/proc/self", files[0], false);
  auto second = unlimited.image("/proc/self", files[1], false);
  ASSERT_TRUE(first && second);
  EXPECT_EQ(unlimited.size(), 2u);
  EXPECT_EQ(unlimited.image("/proc/self", files[0], false), first);  // cached: the same image
  // A budget for the larger of the two only: the other is evicted when it comes in.
  const std::size_t budget = std::max(first->memory_bytes(), second->memory_bytes());
  ObjectCache one(budget);
  (void)one.image("/proc/self", files[0], false);
  (void)one.image("/proc/self", files[1], false);
  EXPECT_EQ(one.size(), 1u);
  EXPECT_LE(one.bytes(), budget);
  ObjectCache tiny(1);
  EXPECT_NE(tiny.image("/proc/self", files[0], false), nullptr);
  EXPECT_EQ(tiny.size(), 0u);
  EXPECT_EQ(tiny.bytes(), 0u);
}

TEST(ElfImage, TruncatedOrForeignFilesAreErrors) {
  const auto& bytes = self_exe();
  // Cut in the ELF header, the program headers or before the section headers (at the
  // end of the file): an error naming the file, not a crash or a read past the end.
  for (std::size_t cut : {std::size_t{0}, std::size_t{16}, std::size_t{80}, bytes.size() / 2}) {
    process::SpanSource file(std::span<const std::byte>(bytes.data(), cut));
    auto image = process::read_elf_image(file, "cut");
    ASSERT_FALSE(image.ok()) << cut;
    EXPECT_NE(image.error().message.find("cut"), std::string::npos);
  }
  std::vector<std::byte> garbage(4096, std::byte{0x7f});
  process::SpanSource g(garbage);
  EXPECT_FALSE(process::read_elf_image(g, "garbage").ok());
}

TEST(ElfImage, EhFrameHdrHeaderIsChecked) {
  std::vector<std::byte> hdr(12 + 2 * 8);
  hdr[0] = std::byte{1};
  hdr[1] = std::byte{0x1b};
  hdr[2] = std::byte{0x03};
  hdr[3] = std::byte{0x3b};
  std::uint32_t count = 2;
  std::memcpy(hdr.data() + 8, &count, 4);
  auto table = process::parse_eh_frame_hdr(hdr);
  ASSERT_TRUE(table.has_value());
  EXPECT_EQ(table->fde_count, 2u);
  EXPECT_EQ(table->table_offset, 12u);
  count = 3;  // more entries than bytes
  std::memcpy(hdr.data() + 8, &count, 4);
  EXPECT_FALSE(process::parse_eh_frame_hdr(hdr).has_value());
  count = 2;
  std::memcpy(hdr.data() + 8, &count, 4);
  hdr[3] = std::byte{0x03};  // an encoding the lookup cannot use
  EXPECT_FALSE(process::parse_eh_frame_hdr(hdr).has_value());
  EXPECT_FALSE(process::parse_eh_frame_hdr(std::span<const std::byte>(hdr.data(), 8)).has_value());
}

}  // namespace
}  // namespace boundwise::stacks
