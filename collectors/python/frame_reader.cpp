// Python frames from memory. The offsets were read from pyenv builds' DWARF with
// `gdb -batch -ex 'ptype/o struct _PyInterpreterFrame' libpython3.X.so` (and
// struct _frame, PyCodeObject, struct _ts, _PyCFrame, PyASCIIObject,
// PyCompactUnicodeObject, struct _Py_DebugOffsets): docs/PYTHON_INTERNALS.md, "Frames".
// The location table format is CPython's Objects/locations.md (3.11+); 3.9's co_lnotab
// and 3.10's co_linetable are described in those versions' Objects/lnotab_notes.txt.
#include "collectors/python/frame_reader.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace boundwise::python {

namespace {

// PyCodeObject up to co_code_adaptive is at most this long (208 on 3.13).
constexpr std::size_t kCodeHeadMax = 256;
// FRAME_OWNED_BY_CSTACK (3.12+): the shim frame an eval loop call pushes at its entry.
constexpr std::uint8_t kOwnedByCStack = 3;
// Distinct code objects kept; the cache is emptied when it grows past this.
constexpr std::size_t kMaxCodes = 4096;
// _Py_DebugOffsets of 3.13 is 584 bytes (gdb ptype/o on libpython3.13.so).
constexpr std::size_t kDebugOffsetsSize = 584;

template <class T, std::size_t N>
T at(const std::array<std::uint8_t, N>& bytes, std::uint64_t offset) {
  T value{};
  if (offset + sizeof value <= N) std::memcpy(&value, bytes.data() + offset, sizeof value);
  return value;
}

class TableCursor {
 public:
  explicit TableCursor(std::span<const std::uint8_t> table) : table_(table) {}
  bool done() const { return at_ >= table_.size(); }
  std::optional<std::uint8_t> byte() {
    if (done()) return std::nullopt;
    return table_[at_++];
  }
  // 6 bits per byte, least significant first, bit 6 = more follows.
  std::optional<std::uint32_t> varint() {
    auto b = byte();
    if (!b) return std::nullopt;
    std::uint32_t value = *b & 63u;
    for (unsigned shift = 6; (*b & 64u) != 0; shift += 6) {
      b = byte();
      if (!b || shift > 24) return std::nullopt;
      value |= static_cast<std::uint32_t>(*b & 63u) << shift;
    }
    return value;
  }
  std::optional<int> svarint() {
    auto u = varint();
    if (!u) return std::nullopt;
    const int magnitude = static_cast<int>(*u >> 1);
    return (*u & 1u) != 0 ? -magnitude : magnitude;
  }

 private:
  std::span<const std::uint8_t> table_;
  std::size_t at_ = 0;
};

void append_utf8(std::string& out, std::uint32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xc0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3f));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xe0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (c & 0x3f));
  } else if (c < 0x110000) {
    out += static_cast<char>(0xf0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (c & 0x3f));
  } else {
    out += '?';
  }
}

}  // namespace

std::optional<FrameLayout> table_frame_layout(int major, int minor) {
  if (major != 3) return std::nullopt;
  FrameLayout l;
  l.minor = minor;
  switch (minor) {
    case 9:
    case 10:
      l.frame_objects = true;
      l.tstate_frame = 24;  // _ts.frame
      l.frame_head = minor == 9 ? 112 : 104;
      l.frame_previous = 24;  // f_back
      l.frame_code = 32;
      l.frame_instr = minor == 9 ? 104 : 96;  // f_lasti
      l.lasti_unit = minor == 9 ? 1 : 2;
      l.code_firstlineno = 40;
      l.code_filename = 104;
      l.code_name = 112;
      l.code_qualname = 112;   // no co_qualname before 3.11: co_name
      l.code_linetable = 120;  // co_lnotab (3.9), co_linetable (3.10)
      l.code_head = 176;       // sizeof(PyCodeObject)
      l.line_table = minor == 9 ? LineTableFormat::lnotab : LineTableFormat::linetable_310;
      l.unicode_ascii_data = 48;  // wstr, as 3.11
      l.unicode_compact_data = 72;
      return l;
    case 11:
      l.via_cframe = true;
      l.tstate_frame = 56;  // _ts.cframe
      l.cframe_current_frame = 8;
      l.frame_code = 32;
      l.frame_previous = 48;
      l.frame_instr = 56;
      l.frame_is_entry = 68;
      l.frame_owner = 69;
      l.code_firstlineno = 72;
      l.code_filename = 112;
      l.code_name = 120;
      l.code_qualname = 128;
      l.code_linetable = 136;
      l.code_adaptive = 184;
      l.code_head = 184;
      l.unicode_ascii_data = 48;  // 3.11 still has wstr
      l.unicode_compact_data = 72;
      return l;
    case 12:
    case 13:
      l.via_cframe = minor == 12;
      l.tstate_frame = minor == 12 ? 56 : 72;  // _ts.cframe / _ts.current_frame
      l.cframe_current_frame = 0;
      l.frame_code = 0;
      l.frame_previous = 8;
      l.frame_instr = 56;
      l.frame_owner = 70;
      l.code_firstlineno = 68;
      l.code_filename = 112;
      l.code_name = 120;
      l.code_qualname = 128;
      l.code_linetable = 136;
      l.code_adaptive = minor == 12 ? 192 : 200;
      l.code_head = l.code_adaptive;
      l.unicode_ascii_data = 40;
      l.unicode_compact_data = 56;
      return l;
    default:
      return std::nullopt;
  }
}

Result<std::optional<FrameLayout>> debug_frame_layout(RemoteMemory& memory, std::uint64_t runtime) {
  std::array<std::uint8_t, kDebugOffsetsSize> d{};
  ReadError error;
  if (!memory.read(runtime, d.data(), 8, error)) return Error{error.message};
  if (std::memcmp(d.data(), "xdebugpy", 8) != 0) return std::optional<FrameLayout>{};
  if (!memory.read(runtime, d.data(), d.size(), error)) return Error{error.message};
  const auto version = at<std::uint64_t>(d, 8);
  const int major = static_cast<int>((version >> 24) & 0xff);
  const int minor = static_cast<int>((version >> 16) & 0xff);
  if (major != 3 || minor != 13) {
    return Error{"_Py_DebugOffsets of " + std::to_string(major) + "." + std::to_string(minor) +
                 ": descriptor layout not known"};
  }
  FrameLayout l;
  l.minor = minor;
  l.tstate_frame = at<std::uint64_t>(d, 184);  // thread_state.current_frame
  l.frame_previous = at<std::uint64_t>(d, 232);
  l.frame_code = at<std::uint64_t>(d, 240);  // interpreter_frame.executable
  l.frame_instr = at<std::uint64_t>(d, 248);
  l.frame_owner = at<std::uint64_t>(d, 264);
  l.code_filename = at<std::uint64_t>(d, 280);
  l.code_name = at<std::uint64_t>(d, 288);
  l.code_qualname = at<std::uint64_t>(d, 296);
  l.code_linetable = at<std::uint64_t>(d, 304);
  l.code_firstlineno = at<std::uint64_t>(d, 312);
  l.code_adaptive = at<std::uint64_t>(d, 344);
  l.code_head = l.code_adaptive;
  l.object_type = at<std::uint64_t>(d, 360);
  l.type_name = at<std::uint64_t>(d, 376);
  l.bytes_size = at<std::uint64_t>(d, 520);
  l.bytes_data = at<std::uint64_t>(d, 528);
  l.unicode_state = at<std::uint64_t>(d, 544);
  l.unicode_length = at<std::uint64_t>(d, 552);
  l.unicode_ascii_data = at<std::uint64_t>(d, 560);
  l.unicode_compact_data = l.unicode_ascii_data + 16;  // + utf8_length, utf8
  // The frame fields are read from the frame's first frame_head bytes, the code
  // object's from its first kCodeHeadMax: anything beyond is not this struct.
  if (l.frame_previous + 8 > l.frame_head || l.frame_code + 8 > l.frame_head ||
      l.frame_instr + 8 > l.frame_head || l.frame_owner >= l.frame_head ||
      l.code_adaptive > kCodeHeadMax || l.code_filename + 8 > l.code_adaptive ||
      l.code_qualname + 8 > l.code_adaptive || l.code_linetable + 8 > l.code_adaptive ||
      l.code_firstlineno + 4 > l.code_adaptive || l.tstate_frame > 4096 || l.type_name > 4096 ||
      l.unicode_ascii_data > 256 || l.unicode_state > 256 || l.bytes_data > 256) {
    return Error{"_Py_DebugOffsets: implausible frame or code offset"};
  }
  return std::optional<FrameLayout>{l};
}

std::optional<int> line_at(std::span<const std::uint8_t> table, int first_line,
                           std::uint64_t byte_offset) {
  TableCursor c(table);
  long line = first_line;
  std::uint64_t address = 0;
  while (!c.done()) {
    auto first = c.byte();
    if ((*first & 0x80u) == 0) return std::nullopt;  // not the start of an entry
    const unsigned code = (*first >> 3) & 15u;
    const std::uint64_t end =
        address + 2 * (std::uint64_t{*first & 7u} + 1);  // code units of 2 bytes
    bool has_line = true;
    if (code == 15) {  // no location
      has_line = false;
    } else if (code == 14 || code == 13) {  // long form / no columns: line delta first
      auto delta = c.svarint();
      if (!delta) return std::nullopt;
      line += *delta;
      if (code == 14) {  // end line delta, start and end columns
        for (int i = 0; i < 3; ++i) {
          if (!c.varint()) return std::nullopt;
        }
      }
    } else if (code >= 10) {  // one-line form: delta = code - 10, two column bytes
      line += static_cast<long>(code) - 10;
      if (!c.byte() || !c.byte()) return std::nullopt;
    } else if (!c.byte()) {  // short form: same line, one column byte
      return std::nullopt;
    }
    if (byte_offset < end) {
      if (!has_line || line < 0 || line > (1L << 30)) return std::nullopt;
      return static_cast<int>(line);
    }
    address = end;
  }
  return std::nullopt;
}

int line_at_lnotab(std::span<const std::uint8_t> table, int first_line, std::uint64_t byte_offset) {
  long line = first_line;
  std::uint64_t address = 0;
  for (std::size_t i = 0; i + 1 < table.size(); i += 2) {
    address += table[i];
    if (address > byte_offset) break;
    line += static_cast<std::int8_t>(table[i + 1]);
  }
  return static_cast<int>(std::clamp(line, 0L, 1L << 30));
}

std::optional<int> line_at_linetable_310(std::span<const std::uint8_t> table, int first_line,
                                         std::uint64_t byte_offset) {
  constexpr std::int8_t kNoLine = -128;
  long line = first_line;
  std::uint64_t start = 0;
  for (std::size_t i = 0; i + 1 < table.size(); i += 2) {
    const std::uint64_t end = start + table[i];
    const auto delta = static_cast<std::int8_t>(table[i + 1]);
    if (delta != kNoLine) line += delta;
    if (byte_offset >= start && byte_offset < end) {
      if (delta == kNoLine || line < 0 || line > (1L << 30)) return std::nullopt;
      return static_cast<int>(line);
    }
    start = end;
  }
  return std::nullopt;
}

std::string utf8_of(std::span<const std::uint8_t> data, int kind) {
  std::string out;
  if (kind != 1 && kind != 2 && kind != 4) return out;
  const auto width = static_cast<std::size_t>(kind);
  for (std::size_t i = 0; i + width <= data.size(); i += width) {
    std::uint32_t c = 0;
    std::memcpy(&c, data.data() + i, width);  // little-endian x86_64
    append_utf8(out, c);
  }
  return out;
}

std::optional<std::string> FrameReader::string(RemoteMemory& memory, std::uint64_t object,
                                               ReadError& error) {
  std::array<std::uint8_t, 8> length_bytes{};
  std::uint32_t state = 0;
  if (object == 0 || !memory.read(object + layout_.unicode_length, length_bytes.data(), 8, error) ||
      !memory.read_value(object + layout_.unicode_state, state, error)) {
    return std::nullopt;
  }
  const auto length = at<std::int64_t>(length_bytes, 0);
  // PyASCIIObject.state: interned:2, kind:3, compact:1, ascii:1 (3.9-3.13).
  const int kind = static_cast<int>((state >> 2) & 7u);
  const bool compact = ((state >> 5) & 1u) != 0;
  const bool ascii = ((state >> 6) & 1u) != 0;
  if (length < 0 || (kind != 1 && kind != 2 && kind != 4)) {
    error = {ReadFailure::bad_address, "not a str object"};
    return std::nullopt;
  }
  const std::size_t chars =
      std::min<std::size_t>(static_cast<std::size_t>(length), kMaxPythonString);
  std::uint64_t data = object + (ascii ? layout_.unicode_ascii_data : layout_.unicode_compact_data);
  if (!compact && !memory.read_value(object + layout_.unicode_compact_data, data, error)) {
    return std::nullopt;  // a legacy string: its data pointer follows the compact header
  }
  std::vector<std::uint8_t> bytes(chars * static_cast<std::size_t>(kind));
  if (!bytes.empty() && !memory.read(data, bytes.data(), bytes.size(), error)) return std::nullopt;
  return utf8_of(bytes, kind);
}

bool FrameReader::is_code(RemoteMemory& memory, std::uint64_t type, ReadError& error) {
  if (type == 0) return false;
  if (code_type_ != 0) return type == code_type_;
  std::uint64_t name_address = 0;
  std::array<char, 5> name{};
  if (!memory.read_value(type + layout_.type_name, name_address, error) ||
      !memory.read(name_address, name.data(), name.size(), error)) {
    return false;
  }
  if (std::memcmp(name.data(), "code", 5) != 0) return false;
  code_type_ = type;
  return true;
}

const FrameReader::Code* FrameReader::code(RemoteMemory& memory, std::uint64_t address,
                                           ReadError& error) {
  std::array<std::uint8_t, kCodeHeadMax> head{};
  if (address == 0 || !memory.read(address, head.data(), layout_.code_head, error)) {
    return nullptr;
  }
  if (!is_code(memory, at<std::uint64_t>(head, layout_.object_type), error)) return nullptr;
  Code fresh;
  fresh.filename = at<std::uint64_t>(head, layout_.code_filename);
  fresh.qualname = at<std::uint64_t>(head, layout_.code_qualname);
  fresh.linetable = at<std::uint64_t>(head, layout_.code_linetable);
  fresh.first_line = at<std::int32_t>(head, layout_.code_firstlineno);
  // A code object's fields never change; the same pointers at the same address are the
  // same code (a freed and reused address shows other pointers).
  if (auto it = codes_.find(address); it != codes_.end()) {
    const Code& c = it->second;
    if (c.filename == fresh.filename && c.qualname == fresh.qualname &&
        c.linetable == fresh.linetable && c.first_line == fresh.first_line) {
      return &c;
    }
  }
  auto name = string(memory, fresh.qualname, error);
  if (!name) name = string(memory, at<std::uint64_t>(head, layout_.code_name), error);
  auto file = string(memory, fresh.filename, error);
  if (!name || !file) return nullptr;
  fresh.name = std::move(*name);
  fresh.file = std::move(*file);
  std::int64_t table_size = -1;
  ReadError ignored;  // without its table a frame still has its first line
  if (fresh.linetable != 0 &&
      memory.read_value(fresh.linetable + layout_.bytes_size, table_size, ignored) &&
      table_size > 0 && static_cast<std::uint64_t>(table_size) <= kMaxLineTable) {
    fresh.table.resize(static_cast<std::size_t>(table_size));
    if (!memory.read(fresh.linetable + layout_.bytes_data, fresh.table.data(), fresh.table.size(),
                     ignored)) {
      fresh.table.clear();
    }
  }
  if (codes_.size() >= kMaxCodes) codes_.clear();
  return &(codes_[address] = std::move(fresh));
}

std::optional<std::uint64_t> FrameReader::instruction_offset(
    const std::array<std::uint8_t, kMaxFrameHead>& head, std::uint64_t code_address) const {
  if (layout_.frame_objects) {
    // f_lasti: -1 before the first instruction (the function's first line then).
    const auto lasti = at<std::int32_t>(head, layout_.frame_instr);
    if (lasti < 0) return std::nullopt;
    return static_cast<std::uint64_t>(lasti) * layout_.lasti_unit;
  }
  const auto instr = at<std::uint64_t>(head, layout_.frame_instr);
  const std::uint64_t start = code_address + layout_.code_adaptive;
  if (instr < start) return std::nullopt;
  return instr - start;
}

std::optional<int> FrameReader::line_of(const Code& code, std::uint64_t byte_offset) const {
  switch (layout_.line_table) {
    case LineTableFormat::lnotab:
      return line_at_lnotab(code.table, code.first_line, byte_offset);
    case LineTableFormat::linetable_310:
      return line_at_linetable_310(code.table, code.first_line, byte_offset);
    case LineTableFormat::locations:
      break;
  }
  return line_at(code.table, code.first_line, byte_offset);
}

FrameReader::Outcome FrameReader::read(RemoteMemory& memory, std::uint64_t tstate,
                                       std::vector<PyFrame>& out, std::string* why) {
  out.clear();
  ReadError error;
  auto fail = [&](std::string message) {
    if (why != nullptr) *why = message.empty() ? error.message : std::move(message);
    return error.failure == ReadFailure::gone ? Outcome::gone : Outcome::failed;
  };
  std::uint64_t frame = 0;
  if (!memory.read_value(tstate + layout_.tstate_frame, frame, error)) return fail({});
  if (layout_.via_cframe && frame != 0 &&
      !memory.read_value(frame + layout_.cframe_current_frame, frame, error)) {
    return fail({});
  }
  // Shim frames count too: a cycle in `previous` ends here.
  for (std::size_t visited = 0; frame != 0; ++visited) {
    if (out.size() >= kMaxPythonFrames || visited >= 2 * kMaxPythonFrames) break;
    std::array<std::uint8_t, kMaxFrameHead> head{};
    if (!memory.read(frame, head.data(), layout_.frame_head, error)) return fail({});
    const auto owner = at<std::uint8_t>(head, layout_.frame_owner);
    const auto code_address = at<std::uint64_t>(head, layout_.frame_code);
    frame = at<std::uint64_t>(head, layout_.frame_previous);
    if (!layout_.frame_objects && !layout_.frame_is_entry && owner == kOwnedByCStack) {
      if (!out.empty()) out.back().eval_entry = true;
      continue;
    }
    const Code* c = code(memory, code_address, error);
    if (c == nullptr) {
      if (error.failure == ReadFailure::gone) return fail({});
      // 3.13's f_executable may be something other than a code object: not a frame to
      // show. A wrong layout shows up as no frame at all (the caller's check).
      error = {};
      continue;
    }
    PyFrame f;
    f.name = c->name;
    f.file = c->file;
    f.line = c->first_line;
    if (auto offset = instruction_offset(head, code_address); offset && !c->table.empty()) {
      if (auto line = line_of(*c, *offset)) {
        f.line = *line;
        f.line_exact = true;
      }
    }
    if (layout_.frame_objects) {
      f.eval_entry = true;
    } else if (layout_.frame_is_entry) {
      f.eval_entry = at<std::uint8_t>(head, *layout_.frame_is_entry) != 0;
    }
    out.push_back(std::move(f));
  }
  return Outcome::ok;
}

}  // namespace boundwise::python
