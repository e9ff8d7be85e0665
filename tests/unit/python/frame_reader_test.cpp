// The Python frame reader on fake memory images laid out by the 3.9-3.13 tables and by
// a _Py_DebugOffsets recorded from CPython 3.13.0's libpython; line tables recorded
// from real code objects; bounds and a target that vanishes mid-walk. Live
// interpreters: tests/integration/native/python/frame_reader_test.cpp.
#include "collectors/python/frame_reader.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace boundwise::python {
namespace {

constexpr std::uint64_t kTstate = 0x7f0000100000;
constexpr std::uint64_t kCFrame = 0x7f0000110000;
constexpr std::uint64_t kFrames = 0x7f0000200000;  // frame i at kFrames + i * 0x100
constexpr std::uint64_t kCodes = 0x7f0000300000;   // code i at kCodes + i * 0x1000
constexpr std::uint64_t kCodeType = 0x7f0000400000;
constexpr std::uint64_t kStrings = 0x7f0000500000;  // string i at kStrings + i * 0x400

std::vector<std::uint8_t> from_hex(const std::string& hex) {
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

// f.__code__.co_linetable of tests' `def f(a): ...` (six lines) on 3.12.1, with
// co_lines(): [(0,2,1),(2,12,2),(12,16,3),(16,64,4),(64,66,5),(66,68,6),(68,72,5),
// (72,76,None),(76,82,4)].
const std::string kTable312 =
    "8000d80809884189058041d90708dc181d98619b08d60c2190318a51d00c218801d00c21d80c0dd80c0df003010c"
    "0ff00001050ff9f203000d22";
// The same function on 3.11.7: [(0,2,1),(2,12,2),(12,16,3),(16,66,4),(66,68,5),(68,70,6),
// (70,74,5)].
const std::string kTable311 =
    "8000d80809884189058041d80708f000010522d80c21d00c219d05986199089c08d00c21d10c21d40c218801d80c"
    "0dd80c0df003010c0ff00001050f";

TEST(LineTable, RecordedTablesGiveTheLinesCPythonGives) {
  auto t312 = from_hex(kTable312);
  const std::vector<std::pair<std::uint64_t, int>> expect312 = {
      {0, 1}, {2, 2}, {10, 2}, {12, 3}, {16, 4}, {63, 4}, {64, 5}, {66, 6}, {68, 5}, {76, 4}};
  for (auto [offset, line] : expect312) {
    EXPECT_EQ(line_at(t312, 1, offset), line) << "3.12 offset " << offset;
  }
  EXPECT_EQ(line_at(t312, 1, 72), std::nullopt);  // no location (code 15)
  EXPECT_EQ(line_at(t312, 1, 82), std::nullopt);  // past the end
  EXPECT_EQ(line_at(t312, 100, 66), 105);         // relative to the first line
  auto t311 = from_hex(kTable311);
  const std::vector<std::pair<std::uint64_t, int>> expect311 = {
      {0, 1}, {2, 2}, {12, 3}, {14, 3}, {16, 4}, {54, 4}, {66, 5}, {68, 6}, {70, 5}, {72, 5}};
  for (auto [offset, line] : expect311) {
    EXPECT_EQ(line_at(t311, 1, offset), line) << "3.11 offset " << offset;
  }
}

// 3.9's co_lnotab and 3.10's co_linetable of real code objects (first line 1), with
// the lines dis.findlinestarts() (3.9) and co_lines() (3.10) give. kF*: `def f(a):` then
// `x = a + 1`, `if x > 2:`, `for i in range(x):`, `x += i`, `return x`; kG*: a
// try/finally then, 200 lines further, `return a` (a line increment over 127); kH310: a
// try/except, whose cleanup has no line (-128).
const std::string kF39 = "0001080108010c010a01";
const std::string kG39 = "000102010a020c7f004a";
const std::string kF310 = "080108010c010a010401";
const std::string kG310 = "02010a010402007f044a008106b6";
const std::string kH310 = "0201080104030efe0e010401088002fe";

TEST(LineTable, RecordedTablesOf39And310GiveTheLinesCPythonGives) {
  auto f39 = from_hex(kF39);
  for (auto [offset, line] : std::vector<std::pair<std::uint64_t, int>>{
           {0, 2}, {7, 2}, {8, 3}, {16, 4}, {28, 5}, {38, 6}, {41, 6}, {400, 6}}) {
    EXPECT_EQ(line_at_lnotab(f39, 1, offset), line) << "3.9 f offset " << offset;
  }
  auto g39 = from_hex(kG39);
  for (auto [offset, line] : std::vector<std::pair<std::uint64_t, int>>{
           {0, 2}, {2, 3}, {10, 3}, {12, 5}, {23, 5}, {24, 206}, {27, 206}}) {
    EXPECT_EQ(line_at_lnotab(g39, 1, offset), line) << "3.9 g offset " << offset;
  }
  EXPECT_EQ(line_at_lnotab(g39, 101, 24), 306);  // relative to the first line

  auto f310 = from_hex(kF310);
  for (auto [offset, line] : std::vector<std::pair<std::uint64_t, int>>{
           {0, 2}, {6, 2}, {8, 3}, {16, 4}, {28, 5}, {38, 6}, {41, 6}}) {
    EXPECT_EQ(line_at_linetable_310(f310, 1, offset), line) << "3.10 f offset " << offset;
  }
  EXPECT_EQ(line_at_linetable_310(f310, 1, 42), std::nullopt);  // past the end
  auto g310 = from_hex(kG310);
  for (auto [offset, line] : std::vector<std::pair<std::uint64_t, int>>{
           {0, 2}, {2, 3}, {11, 3}, {12, 5}, {16, 206}, {19, 206}, {20, 5}, {25, 5}}) {
    EXPECT_EQ(line_at_linetable_310(g310, 1, offset), line) << "3.10 g offset " << offset;
  }
  // [(0,2,2),(2,10,3),(10,14,6),(14,28,4),(28,42,5),(42,46,6),(46,54,None),(54,56,4)]
  auto h310 = from_hex(kH310);
  for (auto [offset, line] : std::vector<std::pair<std::uint64_t, int>>{
           {0, 2}, {2, 3}, {10, 6}, {14, 4}, {28, 5}, {42, 6}, {54, 4}, {55, 4}}) {
    EXPECT_EQ(line_at_linetable_310(h310, 1, offset), line) << "3.10 h offset " << offset;
  }
  EXPECT_EQ(line_at_linetable_310(h310, 1, 46), std::nullopt);  // no line (-128)
  EXPECT_EQ(line_at_linetable_310(h310, 1, 53), std::nullopt);
}

TEST(LineTable, MalformedTablesGiveNoLine) {
  // 3.9/3.10: an empty or odd-length table; a line that would go negative.
  EXPECT_EQ(line_at_lnotab({}, 7, 10), 7);
  EXPECT_EQ(line_at_lnotab(std::vector<std::uint8_t>{2}, 7, 10), 7);
  EXPECT_EQ(line_at_lnotab(std::vector<std::uint8_t>{0, 0x80}, 1, 10), 0);
  EXPECT_EQ(line_at_linetable_310({}, 7, 0), std::nullopt);
  EXPECT_EQ(line_at_linetable_310(std::vector<std::uint8_t>{2}, 7, 0), std::nullopt);
  EXPECT_EQ(line_at_linetable_310(std::vector<std::uint8_t>{2, 0x81}, 1, 0), std::nullopt);
  // 3.11+:
  EXPECT_EQ(line_at({}, 1, 0), std::nullopt);
  const std::vector<std::uint8_t> not_an_entry = {0x01, 0x02};
  EXPECT_EQ(line_at(not_an_entry, 1, 0), std::nullopt);
  const std::vector<std::uint8_t> cut_long_form = {0xf0};  // code 14 without its varints
  EXPECT_EQ(line_at(cut_long_form, 1, 0), std::nullopt);
  const std::vector<std::uint8_t> endless_varint = {0xe8, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f};
  EXPECT_EQ(line_at(endless_varint, 1, 0), std::nullopt);
}

TEST(Unicode, EveryKindBecomesUtf8) {
  EXPECT_EQ(utf8_of(std::vector<std::uint8_t>{'r', 'u', 'n'}, 1), "run");
  EXPECT_EQ(utf8_of(std::vector<std::uint8_t>{0xe9}, 1), "\xc3\xa9");            // é
  EXPECT_EQ(utf8_of(std::vector<std::uint8_t>{0xac, 0x20}, 2), "\xe2\x82\xac");  // €
  EXPECT_EQ(utf8_of(std::vector<std::uint8_t>{0x00, 0xf6, 0x01, 0x00}, 4),
            "\xf0\x9f\x98\x80");  // U+1F600
  EXPECT_EQ(utf8_of(std::vector<std::uint8_t>{'x'}, 3), "");
}

struct Fn {
  std::string name, file;
  int first_line;
  std::vector<std::uint8_t> table;
  std::uint64_t instr_offset;  // bytes into the bytecode
};

class Image {
 public:
  explicit Image(const FrameLayout& l) : l_(l) {
    m.add(kTstate, std::vector<std::uint8_t>(0x400));
    m.add(kCFrame, std::vector<std::uint8_t>(0x40));
    m.add(kCodeType, std::vector<std::uint8_t>(0x100));
    m.add(kCodeType + 0x80, {'c', 'o', 'd', 'e', 0});
    m.put(kCodeType + l.type_name, kCodeType + 0x80);
  }
  // An ASCII str object.
  std::uint64_t str(const std::string& s) {
    const std::uint64_t at = kStrings + 0x400 * strings_++;
    m.add(at, std::vector<std::uint8_t>(0x400));
    m.put(at + l_.unicode_length, static_cast<std::int64_t>(s.size()));
    m.put(at + l_.unicode_state, std::uint32_t{(1u << 2) | (1u << 5) | (1u << 6)});
    m.write(at + l_.unicode_ascii_data, std::vector<std::uint8_t>(s.begin(), s.end()));
    return at;
  }
  // Frames leaf first; `shim_after[i]`: a FRAME_OWNED_BY_CSTACK frame (3.12+) or
  // is_entry (3.11) after frame i.
  void stack(const std::vector<Fn>& fns, const std::vector<bool>& entry) {
    std::vector<std::uint64_t> chain;  // leaf first, shims included
    std::size_t slot = 0;
    for (std::size_t i = 0; i < fns.size(); ++i) {
      const std::uint64_t code = kCodes + 0x1000 * i;
      m.add(code, std::vector<std::uint8_t>(0x400));
      m.put(code + l_.object_type, kCodeType);
      m.put(code + l_.code_qualname, str(fns[i].name));
      m.put(code + l_.code_name, str(fns[i].name));
      m.put(code + l_.code_filename, str(fns[i].file));
      m.put(code + l_.code_firstlineno, static_cast<std::int32_t>(fns[i].first_line));
      const std::uint64_t table = code + 0x800;
      m.put(code + l_.code_linetable, table);
      m.put(table + l_.bytes_size, static_cast<std::int64_t>(fns[i].table.size()));
      m.write(table + l_.bytes_data, fns[i].table);
      const std::uint64_t frame = kFrames + 0x100 * slot++;
      m.add(frame, std::vector<std::uint8_t>(0x100));
      m.put(frame + l_.frame_code, code);
      if (l_.frame_objects) {
        m.put(frame + l_.frame_instr,
              static_cast<std::int32_t>(fns[i].instr_offset / l_.lasti_unit));
      } else {
        m.put(frame + l_.frame_instr, code + l_.code_adaptive + fns[i].instr_offset);
      }
      chain.push_back(frame);
      if (entry[i] && !l_.frame_objects) {
        if (l_.frame_is_entry) {
          m.put(frame + *l_.frame_is_entry, std::uint8_t{1});
        } else {
          const std::uint64_t shim = kFrames + 0x100 * slot++;
          m.add(shim, std::vector<std::uint8_t>(0x100));
          m.put(shim + l_.frame_owner, std::uint8_t{3});
          chain.push_back(shim);
        }
      }
    }
    for (std::size_t i = 0; i + 1 < chain.size(); ++i) {
      m.put(chain[i] + l_.frame_previous, chain[i + 1]);
    }
    if (l_.via_cframe) {
      m.put(kTstate + l_.tstate_frame, kCFrame);
      m.put(kCFrame + l_.cframe_current_frame, chain.empty() ? 0 : chain.front());
    } else {
      m.put(kTstate + l_.tstate_frame, chain.empty() ? 0 : chain.front());
    }
  }

  FakeMemory m;

 private:
  FrameLayout l_;
  int strings_ = 0;
};

// One line per instruction unit: code 13 (no columns) entries of one unit, line + 1 each.
std::vector<std::uint8_t> one_line_per_unit(int units) {
  std::vector<std::uint8_t> t;
  t.push_back(0x80 | (13 << 3));  // first unit: the first line
  t.push_back(0);
  for (int i = 1; i < units; ++i) {
    t.push_back(0x80 | (13 << 3));
    t.push_back(2);  // svarint +1
  }
  return t;
}

// The same in 3.9's co_lnotab (pairs of +2 bytes, +1 line) and 3.10's co_linetable
// (pairs of 2 bytes, +1 line after the first unit's +0).
std::vector<std::uint8_t> one_line_per_unit(int units, LineTableFormat format) {
  if (format == LineTableFormat::locations) return one_line_per_unit(units);
  std::vector<std::uint8_t> t;
  for (int i = 0; i < units; ++i) {
    if (format == LineTableFormat::lnotab && i == 0) continue;
    t.push_back(2);
    t.push_back(format == LineTableFormat::linetable_310 && i == 0 ? 0 : 1);
  }
  return t;
}

const std::vector<Fn> kChain = {
    {"Spinner.spin", "/srv/app/chain.py", 30, one_line_per_unit(8), 6},  // line 33
    {"middle", "/srv/app/chain.py", 20, one_line_per_unit(8), 2},        // line 21
    {"<module>", "/srv/app/chain.py", 1, {}, 0},                         // no table: its first line
};

TEST(FrameReader, EveryTableVersionReadsTheChainLeafFirst) {
  for (int minor : {11, 12, 13}) {
    auto layout = table_frame_layout(3, minor);
    ASSERT_TRUE(layout) << minor;
    Image image(*layout);
    image.stack(kChain, {false, true, true});
    FrameReader reader(*layout);
    std::vector<PyFrame> frames;
    std::string why;
    ASSERT_EQ(reader.read(image.m, kTstate, frames, &why), FrameReader::Outcome::ok) << why;
    const std::vector<PyFrame> expected = {
        {"Spinner.spin", "/srv/app/chain.py", 33, true, false},
        {"middle", "/srv/app/chain.py", 21, true, true},
        {"<module>", "/srv/app/chain.py", 1, false, true},
    };
    EXPECT_EQ(frames, expected) << "3." << minor;
    // Read again: the code objects come from the cache, the same frames.
    const int reads = image.m.reads();
    ASSERT_EQ(reader.read(image.m, kTstate, frames), FrameReader::Outcome::ok);
    EXPECT_EQ(frames, expected);
    EXPECT_LT(image.m.reads() - reads, reads / 2) << "the code cache saves the string reads";
  }
  EXPECT_FALSE(table_frame_layout(3, 8));
  EXPECT_FALSE(table_frame_layout(2, 12));
}

// 3.9/3.10: PyFrameObjects, f_lasti in bytes (3.9) or code units (3.10), co_name as the
// name, and each frame an eval loop call of its own.
TEST(FrameReader, FrameObjectsOf39And310ReadTheChainLeafFirst) {
  for (int minor : {9, 10}) {
    auto layout = table_frame_layout(3, minor);
    ASSERT_TRUE(layout) << minor;
    ASSERT_TRUE(layout->frame_objects);
    std::vector<Fn> chain = kChain;
    for (auto& fn : chain) {
      if (!fn.table.empty()) fn.table = one_line_per_unit(8, layout->line_table);
    }
    Image image(*layout);
    image.stack(chain, {false, false, false});
    std::vector<PyFrame> frames;
    std::string why;
    FrameReader reader(*layout);
    ASSERT_EQ(reader.read(image.m, kTstate, frames, &why), FrameReader::Outcome::ok) << why;
    const std::vector<PyFrame> expected = {
        {"Spinner.spin", "/srv/app/chain.py", 33, true, true},
        {"middle", "/srv/app/chain.py", 21, true, true},
        {"<module>", "/srv/app/chain.py", 1, false, true},
    };
    EXPECT_EQ(frames, expected) << "3." << minor;
    // f_lasti -1: the frame has not started: its first line.
    image.m.put(kFrames + layout->frame_instr, std::int32_t{-1});
    ASSERT_EQ(reader.read(image.m, kTstate, frames), FrameReader::Outcome::ok);
    ASSERT_FALSE(frames.empty());
    EXPECT_EQ(frames[0].line, 30);
    EXPECT_FALSE(frames[0].line_exact);
  }
}

// _Py_DebugOffsets as libpython3.13.so (pyenv 3.13.0) initialises it: `x/73gx &_PyRuntime`.
const std::vector<std::uint64_t> kDebugOffsets3130 = {0x7970677562656478,
                                                      0x030d00f0,
                                                      0,
                                                      0x452b8,
                                                      0x260,
                                                      0x278,
                                                      0x2f998,
                                                      0x1c68,
                                                      0x1c60,
                                                      0x1cb0,
                                                      0x1ce8,
                                                      0x1de8,
                                                      0x1dd8,
                                                      0x1de0,
                                                      0x10,
                                                      0x1e48,
                                                      0,
                                                      0x1e58,
                                                      0x1e50,
                                                      0x130,
                                                      0,
                                                      8,
                                                      0x10,
                                                      0x48,
                                                      0x98,
                                                      0xa0,
                                                      0xe8,
                                                      0x20,
                                                      0x50,
                                                      8,
                                                      0,
                                                      0x38,
                                                      0x48,
                                                      0x46,
                                                      0xd0,
                                                      0x70,
                                                      0x78,
                                                      0x80,
                                                      0x88,
                                                      0x44,
                                                      0x34,
                                                      0x60,
                                                      0x68,
                                                      0xc8,
                                                      0x10,
                                                      8,
                                                      0x1a0,
                                                      0x18,
                                                      0x58,
                                                      0xa8,
                                                      0x20,
                                                      0x18,
                                                      0x10,
                                                      0x28,
                                                      0x18,
                                                      0x10,
                                                      0x30,
                                                      0x20,
                                                      0x28,
                                                      0x18,
                                                      0x10,
                                                      0x20,
                                                      0x10,
                                                      0x18,
                                                      0x28,
                                                      0x10,
                                                      0x20,
                                                      0x40,
                                                      0x20,
                                                      0x10,
                                                      0x28,
                                                      0xf0,
                                                      0xc8};

TEST(FrameReader, DebugOffsetsOf3130AgreeWithTheTable) {
  constexpr std::uint64_t kRuntime = 0x7f0000010000;
  FakeMemory m;
  std::vector<std::uint8_t> bytes(kDebugOffsets3130.size() * 8);
  std::memcpy(bytes.data(), kDebugOffsets3130.data(), bytes.size());
  m.add(kRuntime, bytes);
  auto described = debug_frame_layout(m, kRuntime);
  ASSERT_TRUE(described) << described.error().message;
  ASSERT_TRUE(described->has_value());
  const FrameLayout& d = **described;
  const FrameLayout t = *table_frame_layout(3, 13);
  EXPECT_EQ(d.via_cframe, t.via_cframe);
  EXPECT_EQ(d.tstate_frame, t.tstate_frame);
  EXPECT_EQ(d.frame_code, t.frame_code);
  EXPECT_EQ(d.frame_previous, t.frame_previous);
  EXPECT_EQ(d.frame_instr, t.frame_instr);
  EXPECT_EQ(d.frame_owner, t.frame_owner);
  EXPECT_EQ(d.code_filename, t.code_filename);
  EXPECT_EQ(d.code_qualname, t.code_qualname);
  EXPECT_EQ(d.code_linetable, t.code_linetable);
  EXPECT_EQ(d.code_firstlineno, t.code_firstlineno);
  EXPECT_EQ(d.code_adaptive, t.code_adaptive);
  EXPECT_EQ(d.object_type, t.object_type);
  EXPECT_EQ(d.type_name, t.type_name);
  EXPECT_EQ(d.bytes_size, t.bytes_size);
  EXPECT_EQ(d.bytes_data, t.bytes_data);
  EXPECT_EQ(d.unicode_state, t.unicode_state);
  EXPECT_EQ(d.unicode_length, t.unicode_length);
  EXPECT_EQ(d.unicode_ascii_data, t.unicode_ascii_data);
  EXPECT_EQ(d.unicode_compact_data, t.unicode_compact_data);

  // No cookie: an older version; another minor's descriptor is refused.
  FakeMemory old;
  old.add(kRuntime, std::vector<std::uint8_t>(600));
  auto none = debug_frame_layout(old, kRuntime);
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
  auto v314 = kDebugOffsets3130;
  v314[1] = 0x030e00f0;
  std::memcpy(bytes.data(), v314.data(), bytes.size());
  FakeMemory m314;
  m314.add(kRuntime, bytes);
  EXPECT_FALSE(debug_frame_layout(m314, kRuntime));
  // An offset pointing outside the frame's head is refused, not followed.
  auto wild = kDebugOffsets3130;
  wild[29] = 0x10000;  // interpreter_frame.previous
  std::memcpy(bytes.data(), wild.data(), bytes.size());
  FakeMemory mwild;
  mwild.add(kRuntime, bytes);
  EXPECT_FALSE(debug_frame_layout(mwild, kRuntime));
}

TEST(FrameReader, BoundedOnCyclesAndGarbage) {
  auto layout = *table_frame_layout(3, 12);
  Image image(layout);
  image.stack(kChain, {false, false, false});
  // The oldest frame points back at the leaf: a cycle.
  image.m.put(kFrames + 0x200 + layout.frame_previous, kFrames);
  FrameReader reader(layout);
  std::vector<PyFrame> frames;
  EXPECT_EQ(reader.read(image.m, kTstate, frames), FrameReader::Outcome::ok);
  EXPECT_EQ(frames.size(), kMaxPythonFrames);
  // A code pointer to something that is not a code object: the frame is skipped.
  Image other(layout);
  other.stack(kChain, {false, false, false});
  other.m.put(kFrames + layout.frame_code, kStrings);
  ASSERT_EQ(FrameReader(layout).read(other.m, kTstate, frames), FrameReader::Outcome::ok);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].name, "middle");
  // A previous pointer into unmapped memory: a failure, the frames before it kept.
  Image broken(layout);
  broken.stack(kChain, {false, false, false});
  broken.m.put(kFrames + 0x100 + layout.frame_previous, std::uint64_t{0x1234});
  std::string why;
  EXPECT_EQ(FrameReader(layout).read(broken.m, kTstate, frames, &why),
            FrameReader::Outcome::failed);
  EXPECT_EQ(frames.size(), 2u);
  EXPECT_FALSE(why.empty());
  // A huge string length is cut at kMaxPythonString.
  Image longname(layout);
  longname.stack(kChain, {false, false, false});
  longname.m.put(kStrings + layout.unicode_length, std::int64_t{1} << 40);
  longname.m.write(kStrings + layout.unicode_ascii_data,
                   std::vector<std::uint8_t>(kMaxPythonString, 'a'));
  ASSERT_EQ(FrameReader(layout).read(longname.m, kTstate, frames), FrameReader::Outcome::ok);
  ASSERT_FALSE(frames.empty());
  EXPECT_EQ(frames[0].name, std::string(kMaxPythonString, 'a'));
}

TEST(FrameReader, ATargetThatExitsMidWalkIsGone) {
  auto layout = *table_frame_layout(3, 11);
  Image image(layout);
  image.stack(kChain, {false, false, true});
  for (int after = 0; after < 12; ++after) {
    image.m.vanish_after(after);
    std::vector<PyFrame> frames;
    auto outcome = FrameReader(layout).read(image.m, kTstate, frames);
    EXPECT_EQ(outcome, FrameReader::Outcome::gone) << "after " << after << " reads";
    EXPECT_LE(frames.size(), kChain.size());
  }
}

TEST(FrameReader, AThreadWithoutPythonFramesHasNone) {
  auto layout = *table_frame_layout(3, 12);
  Image image(layout);
  image.stack({}, {});
  std::vector<PyFrame> frames{{"stale", "x", 1, false, false}};
  EXPECT_EQ(FrameReader(layout).read(image.m, kTstate, frames), FrameReader::Outcome::ok);
  EXPECT_TRUE(frames.empty());
}

}  // namespace
}  // namespace boundwise::python
