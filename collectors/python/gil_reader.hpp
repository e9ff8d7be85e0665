// Reading CPython's GIL state from another process's memory: whether it is locked,
// which native thread holds it, the switch count and the number of waiters. The
// layout comes from `_Py_DebugOffsets` at the start of `_PyRuntime` on 3.13, else
// from a per-version table (docs/PYTHON_INTERNALS.md); either is validated against
// the live process before use (interpreter back-pointers, native thread ids that
// exist in /proc/PID/task, `locked` ∈ {0,1}). Pure apart from the RemoteMemory it is
// given, so tests run it on fake images.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "classifier/result.hpp"
#include "collectors/python/remote_memory.hpp"

namespace boundwise::python {

// Where things are, relative to _PyRuntime, the interpreter state and a thread state.
struct PythonLayout {
  int minor = -1;
  std::uint64_t interpreters_head = 0;  // _PyRuntime → main interpreter pointer
  // The GIL is embedded in _PyRuntime (3.9–3.11) or pointed to by the interpreter
  // (3.12+: `interp->ceval.gil`), whose value for the main interpreter is
  // _PyRuntime + main_gil.
  // Validation of the GIL address: it must equal _PyRuntime + main_gil (the table)
  // or interp + interp_gil (_Py_DebugOffsets: the main interpreter's own GIL).
  bool gil_embedded = false;
  std::optional<std::uint64_t> main_gil;    // GIL address − _PyRuntime
  std::optional<std::uint64_t> interp_gil;  // GIL address − interpreter (3.13)
  std::uint64_t gil_pointer = 0;            // offset of the GIL pointer in the interpreter (3.12+)
  std::uint64_t threads_head = 0;
  std::uint64_t tstate_next = 8;
  std::uint64_t tstate_interp = 16;
  std::uint64_t tstate_thread_id = 0;  // pthread_t
  // 3.11+; on 3.8–3.10 the tid is read from glibc's struct pthread (pthread_tid).
  std::optional<std::uint64_t> tstate_native_thread_id;
  std::uint64_t pthread_tid = 0x2d0;  // glibc 2.36 x86_64 offsetof(struct pthread, tid)
};

// The table for 3.8–3.13 (x86_64); nullopt for other versions.
std::optional<PythonLayout> table_layout(int major, int minor);

// 3.13+: parses the `_Py_DebugOffsets` header at `runtime`. Ok(nullopt) when there is
// no `xdebugpy` cookie (an older version); version and free_threaded are set from it.
struct DebugHeader {
  std::uint32_t version = 0;  // PY_VERSION_HEX
  bool free_threaded = false;
  PythonLayout layout;
};
Result<std::optional<DebugHeader>> read_debug_offsets(RemoteMemory& memory, std::uint64_t runtime);

struct GilSample {
  bool locked = false;
  std::optional<int> holder_tid;  // set when locked and the holder was mapped
  std::uint64_t switch_number = 0;
  int waiters = 0;  // threads waiting on the GIL's condition (glibc-internal, capped)
};

enum class SampleOutcome { ok, gone, failed };

class GilReader {
 public:
  // Validates `layout` on the live process whose thread ids are `tids`. An Error says
  // which check failed ("3.12 layout: tstate->interp != interp").
  static Result<GilReader> open(RemoteMemory& memory, std::uint64_t runtime,
                                const PythonLayout& layout, const std::set<int>& tids);

  // One sample: one read of the GIL's first 72 bytes, plus a thread-list walk when
  // the holder's thread state is not yet mapped to a tid. `gone` = the target exited
  // (a clean skip); `failed` = the memory no longer matches the layout.
  SampleOutcome sample(RemoteMemory& memory, const std::set<int>& tids, GilSample& out,
                       std::string* why = nullptr);

  std::uint64_t gil_address() const { return gil_; }

  // The thread state of native thread `tid` (one of `tids`), walking the thread list
  // again when it is not mapped yet; nullopt when the thread has none (it never ran
  // Python code) or a read failed (`error` says which; `gone`: the target exited).
  std::optional<std::uint64_t> thread_state(RemoteMemory& memory, int tid,
                                            const std::set<int>& tids, ReadError& error);

 private:
  explicit GilReader(const PythonLayout& layout) : layout_(layout) {}
  // Walks the thread list, refreshing tstate → tid. False on a read failure.
  bool map_threads(RemoteMemory& memory, const std::set<int>& tids, ReadError& error);
  std::optional<int> tid_of(RemoteMemory& memory, std::uint64_t tstate, const std::set<int>& tids,
                            ReadError& error);

  PythonLayout layout_;
  std::uint64_t interp_ = 0;
  std::uint64_t gil_ = 0;
  std::map<std::uint64_t, int> tids_by_tstate_;
};

}  // namespace boundwise::python
