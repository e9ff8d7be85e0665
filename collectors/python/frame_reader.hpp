// Reading a CPython thread's Python call stack from another process's memory: from a
// thread state, the chain of frames (3.9/3.10: `PyFrameObject`s; 3.11-3.13:
// `_PyInterpreterFrame`s), each frame's code object (name, file name, line table) and
// the line it is at. Offsets come from a per-version table (docs/PYTHON_INTERNALS.md,
// "Frames") or, on 3.13, from the interpreter's own `_Py_DebugOffsets`. Bounded: at
// most kMaxPythonFrames frames, strings cut at kMaxPythonString bytes, line tables of at
// most kMaxLineTable bytes; every read is checked, so garbage or a target that exits
// gives a partial stack or an error, never a crash. Pure apart from the RemoteMemory it
// is given: unit tests run it on fake images, fuzz.python_frames on arbitrary bytes.
//
// Thread-safety: a FrameReader is used by one thread at a time (its code cache).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "classifier/result.hpp"
#include "collectors/python/remote_memory.hpp"

namespace boundwise::python {

inline constexpr std::size_t kMaxPythonFrames = 128;
inline constexpr std::size_t kMaxPythonString = 256;
inline constexpr std::size_t kMaxLineTable = std::size_t{64} << 10;
// The fields used of a frame lie in its first FrameLayout::frame_head bytes, at most
// this many: 72 for _PyInterpreterFrame (owner at 69/70), 112 for 3.9's PyFrameObject
// (f_lasti at 104).
inline constexpr std::size_t kMaxFrameHead = 112;

// How a code object maps bytecode offsets to lines.
enum class LineTableFormat {
  locations,     // 3.11+ co_linetable (Objects/locations.md): line_at()
  lnotab,        // 3.9 co_lnotab: line_at_lnotab()
  linetable_310  // 3.10 co_linetable: line_at_linetable_310()
};

// Where things are in a thread state, a frame, a code object and the objects it points
// to (x86_64, CPython 3.9-3.13).
struct FrameLayout {
  int minor = -1;
  // 3.9/3.10: the frames are PyFrameObjects (`f_back`, `f_code`, `f_lasti`), each run by
  // a call of its own of the eval loop (every frame is an eval entry), with no owner.
  bool frame_objects = false;
  // Thread state → current frame: 3.11/3.12 through `tstate->cframe->current_frame`
  // (via_cframe), 3.13 `tstate->current_frame`, 3.9/3.10 `tstate->frame`.
  bool via_cframe = false;
  std::uint64_t tstate_frame = 0;  // tstate->cframe, ->current_frame or ->frame
  std::uint64_t cframe_current_frame = 0;
  // _PyInterpreterFrame (3.11+), PyFrameObject (3.9/3.10)
  std::uint64_t frame_head = 72;                // bytes read of a frame: every field below
  std::uint64_t frame_code = 0;                 // f_code, f_executable (3.13)
  std::uint64_t frame_previous = 0;             // previous, f_back (3.9/3.10)
  std::uint64_t frame_instr = 0;                // prev_instr, instr_ptr (3.13), f_lasti (int)
  std::uint64_t frame_owner = 0;                // owner (char; 3.11+)
  std::optional<std::uint64_t> frame_is_entry;  // 3.11's is_entry (bool)
  // Bytes per unit of f_lasti (3.9: a byte offset; 3.10: an index of 2-byte code units).
  std::uint64_t lasti_unit = 1;
  // PyCodeObject. Before 3.11 there is no co_qualname: code_qualname is co_name's offset.
  std::uint64_t code_filename = 0, code_name = 0, code_qualname = 0, code_linetable = 0;
  std::uint64_t code_firstlineno = 0;
  std::uint64_t code_adaptive = 0;  // co_code_adaptive: the first instruction (3.11+)
  std::uint64_t code_head = 0;      // bytes read of a code object: every field above
  LineTableFormat line_table = LineTableFormat::locations;
  // PyObject, PyTypeObject, PyBytesObject, PyUnicodeObject (compact forms)
  std::uint64_t object_type = 8;           // ob_type
  std::uint64_t type_name = 24;            // tp_name (const char*)
  std::uint64_t bytes_size = 16;           // ob_size
  std::uint64_t bytes_data = 32;           // ob_sval
  std::uint64_t unicode_length = 16;       // length (code points)
  std::uint64_t unicode_state = 32;        // the state bit field (kind, compact, ascii)
  std::uint64_t unicode_ascii_data = 0;    // sizeof(PyASCIIObject)
  std::uint64_t unicode_compact_data = 0;  // sizeof(PyCompactUnicodeObject)
};

// The table for 3.9-3.13 (x86_64, measured from pyenv builds' DWARF); nullopt for
// other versions.
std::optional<FrameLayout> table_frame_layout(int major, int minor);

// 3.13: the frame layout the interpreter describes in `_Py_DebugOffsets` at `runtime`.
// Ok(nullopt) without the `xdebugpy` cookie; an Error for a descriptor of another
// minor version or an implausible offset.
Result<std::optional<FrameLayout>> debug_frame_layout(RemoteMemory& memory, std::uint64_t runtime);

struct PyFrame {
  std::string name;  // co_qualname ("Worker.run", "<module>")
  std::string file;  // co_filename
  int line = 0;      // the line executing, or the function's first line (line_exact false)
  bool line_exact = false;
  // The oldest Python frame run by one call of the interpreter's eval loop
  // (_PyEval_EvalFrameDefault): the frames from the previous entry (or the leaf) down
  // to this one are that native frame's. 3.11 `is_entry`; 3.12+ the frame above a
  // FRAME_OWNED_BY_CSTACK shim.
  bool eval_entry = false;

  bool operator==(const PyFrame&) const = default;
};

// Pure: the line of the instruction `byte_offset` bytes into a code object's bytecode
// from its 3.11+ location table (CPython Objects/locations.md) starting at
// `first_line`; nullopt when the table ends before the offset or is malformed.
std::optional<int> line_at(std::span<const std::uint8_t> table, int first_line,
                           std::uint64_t byte_offset);

// Pure: the line of the instruction `byte_offset` bytes into a code object's bytecode
// from a 3.9 `co_lnotab` (pairs of an unsigned byte-offset increment and a signed line
// increment; CPython 3.9 Objects/lnotab_notes.txt, PyCode_Addr2Line). Every offset has a
// line: past the table's end, the last one.
int line_at_lnotab(std::span<const std::uint8_t> table, int first_line, std::uint64_t byte_offset);

// Pure: the same from a 3.10 `co_linetable` (pairs of an unsigned byte-range length and
// a signed line delta, -128 = no line; CPython 3.10 Objects/lnotab_notes.txt); nullopt
// when the offset is past the table or its range has no line.
std::optional<int> line_at_linetable_310(std::span<const std::uint8_t> table, int first_line,
                                         std::uint64_t byte_offset);

// Pure: a compact unicode object's characters (`kind` 1, 2 or 4 bytes each) as UTF-8.
std::string utf8_of(std::span<const std::uint8_t> data, int kind);

class FrameReader {
 public:
  explicit FrameReader(const FrameLayout& layout) : layout_(layout) {}

  enum class Outcome { ok, gone, failed };
  // The Python frames of thread state `tstate`, leaf first (empty: the thread runs no
  // Python code). `gone` = the target exited; `failed` = a read failed or the memory
  // does not look like frames (`why` says which). On either, `out` keeps the frames
  // read before the failure (a partial stack, leaf side).
  Outcome read(RemoteMemory& memory, std::uint64_t tstate, std::vector<PyFrame>& out,
               std::string* why = nullptr);

 private:
  struct Code {
    std::uint64_t filename = 0, qualname = 0, linetable = 0;
    int first_line = 0;
    std::string name, file;
    std::vector<std::uint8_t> table;  // empty: over kMaxLineTable or unreadable
  };
  // The code object at `address`, from the cache when its fields are unchanged.
  const Code* code(RemoteMemory& memory, std::uint64_t address, ReadError& error);
  // The executing instruction's byte offset into the code's bytecode, from the frame's
  // first bytes; nullopt before the first instruction.
  std::optional<std::uint64_t> instruction_offset(
      const std::array<std::uint8_t, kMaxFrameHead>& head, std::uint64_t code_address) const;
  // The line at `byte_offset` from the code's table, in the layout's format.
  std::optional<int> line_of(const Code& code, std::uint64_t byte_offset) const;
  // Whether `type` (an object's ob_type) is PyCode_Type: its tp_name is "code".
  bool is_code(RemoteMemory& memory, std::uint64_t type, ReadError& error);
  std::optional<std::string> string(RemoteMemory& memory, std::uint64_t object, ReadError& error);

  FrameLayout layout_;
  std::uint64_t code_type_ = 0;  // PyCode_Type's address, once seen
  std::unordered_map<std::uint64_t, Code> codes_;
};

}  // namespace boundwise::python
