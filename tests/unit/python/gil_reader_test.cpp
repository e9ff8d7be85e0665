// The GIL reader on fake memory images (layouts from the per-version table and a
// _Py_DebugOffsets header recorded from a live CPython 3.13.0), its validation, and a
// target that vanishes mid-read. Every CPython on this machine read through
// process_vm_readv: tests/integration/native/python/gil_reader_test.cpp.
#include "collectors/python/gil_reader.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <vector>

namespace boundwise::python {
namespace {

constexpr std::uint64_t kRuntime = 0x7f0000010000;
constexpr std::uint64_t kInterp = 0x7f0000100000;
constexpr std::uint64_t kT1 = 0x7f0000200000;
constexpr std::uint64_t kT2 = 0x7f0000201000;

// A process image laid out as `layout` says: main interpreter, two thread states
// (tids 101, 102), the GIL locked by the second one.
FakeMemory image(const PythonLayout& l, std::uint64_t holder = kT2, std::uint32_t locked = 1) {
  FakeMemory m;
  m.add(kRuntime, std::vector<std::uint8_t>(0x20000));
  m.add(kInterp, std::vector<std::uint8_t>(0x2000));
  m.add(kT1, std::vector<std::uint8_t>(0x400));
  m.add(kT2, std::vector<std::uint8_t>(0x400));
  m.put(kRuntime + l.interpreters_head, kInterp);
  std::uint64_t gil = kRuntime + *l.main_gil;
  if (!l.gil_embedded) m.put(kInterp + l.gil_pointer, gil);
  m.put(kInterp + l.threads_head, kT1);
  m.put(kT1 + l.tstate_next, kT2);
  m.put(kT2 + l.tstate_next, std::uint64_t{0});
  m.put(kT1 + l.tstate_interp, kInterp);
  m.put(kT2 + l.tstate_interp, kInterp);
  if (l.tstate_native_thread_id) {
    m.put(kT1 + *l.tstate_native_thread_id, std::uint64_t{101});
    m.put(kT2 + *l.tstate_native_thread_id, std::uint64_t{102});
  } else {  // 3.9/3.10: pthread_t → glibc struct pthread → tid
    constexpr std::uint64_t kP1 = 0x7f0000300000, kP2 = 0x7f0000310000;
    m.add(kP1, std::vector<std::uint8_t>(0x400));
    m.add(kP2, std::vector<std::uint8_t>(0x400));
    m.put(kT1 + l.tstate_thread_id, kP1);
    m.put(kT2 + l.tstate_thread_id, kP2);
    m.put(kP1 + l.pthread_tid, std::int32_t{101});
    m.put(kP2 + l.pthread_tid, std::int32_t{102});
  }
  m.put(gil + 0, std::uint64_t{5000});  // interval
  m.put(gil + 8, holder);
  m.put(gil + 16, locked);
  m.put(gil + 24, std::uint64_t{7});
  m.put(gil + 68, std::uint32_t{2 << 3});  // two waiters on the condition
  return m;
}

const std::set<int> kTids{100, 101, 102};

TEST(GilReader, EveryTableVersionReadsHolderSwitchesAndWaiters) {
  for (int minor : {8, 9, 10, 11, 12, 13}) {
    auto layout = table_layout(3, minor);
    ASSERT_TRUE(layout) << minor;
    auto m = image(*layout);
    auto reader = GilReader::open(m, kRuntime, *layout, kTids);
    ASSERT_TRUE(reader) << minor << ": " << reader.error().message;
    GilSample s;
    ASSERT_EQ(reader->sample(m, kTids, s), SampleOutcome::ok) << minor;
    EXPECT_TRUE(s.locked);
    ASSERT_TRUE(s.holder_tid) << minor;
    EXPECT_EQ(*s.holder_tid, 102) << minor;
    EXPECT_EQ(s.switch_number, 7u);
    EXPECT_EQ(s.waiters, 2);
    // Released: no holder, even though last_holder still points at a thread.
    m.put(reader->gil_address() + 16, std::uint32_t{0});
    ASSERT_EQ(reader->sample(m, kTids, s), SampleOutcome::ok);
    EXPECT_FALSE(s.locked);
    EXPECT_FALSE(s.holder_tid);
  }
  EXPECT_FALSE(table_layout(3, 7));
  EXPECT_FALSE(table_layout(3, 14));
}

TEST(GilReader, ValidationRejectsAWrongLayout) {
  auto layout = *table_layout(3, 12);
  {  // a thread state that does not point back at the interpreter
    auto m = image(layout);
    m.put(kT1 + layout.tstate_interp, std::uint64_t{0x1234});
    auto r = GilReader::open(m, kRuntime, layout, kTids);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("tstate->interp"), std::string::npos) << r.error().message;
  }
  {  // `locked` is not a boolean
    auto m = image(layout, kT2, 5);
    EXPECT_FALSE(GilReader::open(m, kRuntime, layout, kTids));
  }
  {  // the GIL pointer is not the main interpreter's
    auto m = image(layout);
    m.put(kInterp + layout.gil_pointer, kRuntime + 8);
    EXPECT_FALSE(GilReader::open(m, kRuntime, layout, kTids));
  }
  {  // no thread state maps to a live tid (another version's offsets)
    auto m = image(layout);
    EXPECT_FALSE(GilReader::open(m, kRuntime, layout, {1, 2, 3}));
  }
  {  // a cycle in the thread list ends, as an error
    auto m = image(layout);
    m.put(kT2 + layout.tstate_next, kT1);
    EXPECT_FALSE(GilReader::open(m, kRuntime, layout, kTids));
  }
  {  // the 3.11 table on a 3.12 image
    auto m = image(layout);
    EXPECT_FALSE(GilReader::open(m, kRuntime, *table_layout(3, 11), kTids));
  }
}

TEST(GilReader, ANewHolderIsMappedByWalkingTheListAgain) {
  auto layout = *table_layout(3, 11);
  auto m = image(layout, kT1);
  auto reader = GilReader::open(m, kRuntime, layout, kTids);
  ASSERT_TRUE(reader);
  constexpr std::uint64_t kT3 = 0x7f0000202000;
  m.add(kT3, std::vector<std::uint8_t>(0x400));
  m.put(kT3 + layout.tstate_interp, kInterp);
  m.put(kT3 + *layout.tstate_native_thread_id, std::uint64_t{100});
  m.put(kT2 + layout.tstate_next, kT3);
  m.put(reader->gil_address() + 8, kT3);
  GilSample s;
  ASSERT_EQ(reader->sample(m, kTids, s), SampleOutcome::ok);
  ASSERT_TRUE(s.holder_tid);
  EXPECT_EQ(*s.holder_tid, 100);
}

TEST(GilReader, ATargetExitingMidReadIsACleanSkip) {
  auto layout = *table_layout(3, 12);
  for (int reads = 0; reads < 8; ++reads) {  // vanish at every step of open()
    auto m = image(layout);
    m.vanish_after(reads);
    auto r = GilReader::open(m, kRuntime, layout, kTids);
    if (r) {
      GilSample s;
      EXPECT_EQ(r->sample(m, kTids, s), SampleOutcome::gone);
    } else {
      EXPECT_NE(r.error().message.find("No such process"), std::string::npos) << r.error().message;
    }
  }
  auto m = image(layout, kT1);
  auto r = GilReader::open(m, kRuntime, layout, kTids);
  ASSERT_TRUE(r);
  // The holder is unknown, so the sample walks the list, and the target exits during
  // the walk.
  m.put(r->gil_address() + 8, std::uint64_t{0x7f0000209000});
  m.vanish_after(2);
  GilSample s;
  EXPECT_EQ(r->sample(m, kTids, s), SampleOutcome::gone);
}

// The first 400 bytes of _PyRuntime of a live pyenv CPython 3.13.0 (x86_64):
// "xdebugpy" then 49 words of _Py_DebugOffsets.
const std::vector<std::uint64_t> kRecorded313 = {
    51183856, 0,    283320, 608,  632,  194968, 7272, 7264, 7344, 7400, 7656, 7640, 7648,
    16,       7752, 0,      7768, 7760, 304,    0,    8,    16,   72,   152,  160,  232,
    32,       80,   8,      0,    56,   72,     70,   208,  112,  120,  128,  136,  68,
    52,       96,   104,    200,  16,   8,      416,  24,   88,   168};

FakeMemory recorded_313() {
  FakeMemory m;
  m.add(kRuntime, std::vector<std::uint8_t>(8 + kRecorded313.size() * 8));
  m.write(kRuntime, {'x', 'd', 'e', 'b', 'u', 'g', 'p', 'y'});
  for (std::size_t i = 0; i < kRecorded313.size(); ++i)
    m.put(kRuntime + 8 + 8 * i, kRecorded313[i]);
  return m;
}

TEST(DebugOffsets, RecordedHeaderOf3130AgreesWithTheTable) {
  auto m = recorded_313();
  auto h = read_debug_offsets(m, kRuntime);
  ASSERT_TRUE(h) << h.error().message;
  ASSERT_TRUE(h->has_value());
  const auto& header = **h;
  EXPECT_EQ(header.version, 0x030D00F0u);  // 3.13.0 final
  EXPECT_FALSE(header.free_threaded);
  auto table = *table_layout(3, 13);
  EXPECT_EQ(header.layout.interpreters_head, table.interpreters_head);
  EXPECT_EQ(header.layout.threads_head, table.threads_head);
  EXPECT_EQ(header.layout.gil_pointer, table.gil_pointer);
  EXPECT_EQ(header.layout.tstate_thread_id, table.tstate_thread_id);
  EXPECT_EQ(header.layout.tstate_native_thread_id, table.tstate_native_thread_id);
  EXPECT_EQ(header.layout.interp_gil, 7752u);
}

TEST(DebugOffsets, OlderVersionsAndOtherLayouts) {
  FakeMemory m;
  m.add(kRuntime, std::vector<std::uint8_t>(512));  // no cookie: 3.12 or older
  auto none = read_debug_offsets(m, kRuntime);
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
  auto v314 = recorded_313();
  v314.put(kRuntime + 8, std::uint64_t{0x030E00F0});
  EXPECT_FALSE(read_debug_offsets(v314, kRuntime));  // 3.14's descriptor is not parsed
  auto ft = recorded_313();
  ft.put(kRuntime + 16, std::uint64_t{1});
  auto h = read_debug_offsets(ft, kRuntime);
  ASSERT_TRUE(h && h->has_value());
  EXPECT_TRUE((*h)->free_threaded);
  auto moved = recorded_313();
  moved.put(kRuntime + 8 + 16 * 8, std::uint64_t{9999});  // locked not at GIL+16
  EXPECT_FALSE(read_debug_offsets(moved, kRuntime));
  FakeMemory gone;
  gone.vanish();
  EXPECT_FALSE(read_debug_offsets(gone, kRuntime));
}

}  // namespace
}  // namespace boundwise::python
