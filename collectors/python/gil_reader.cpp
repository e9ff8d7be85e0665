// GIL state from memory. Offsets and the glibc waiter-count fact:
// docs/PYTHON_INTERNALS.md; the _Py_DebugOffsets layout is CPython 3.13's
// Include/internal/pycore_runtime.h (checked against a live 3.13.0 process).
#include "collectors/python/gil_reader.hpp"

#include <array>
#include <cstring>

namespace boundwise::python {

namespace {

constexpr std::size_t kGilHead = 72;         // interval..cond's first words: one read
constexpr std::uint64_t kGilLastHolder = 8;  // _Py_atomic_address last_holder
constexpr std::uint64_t kGilLocked = 16;     // _Py_atomic_int locked
constexpr std::uint64_t kGilSwitches = 24;   // unsigned long switch_number
constexpr std::uint64_t kGilCondWrefs = 68;  // cond@32 + glibc __wrefs@36: waiters << 3
constexpr int kMaxThreadStates = 4096;       // a cycle or garbage list stops here

template <class T>
T at(const std::array<std::uint8_t, kGilHead>& bytes, std::uint64_t offset) {
  T value{};
  std::memcpy(&value, bytes.data() + offset, sizeof value);
  return value;
}

std::string version_name(int minor) { return "3." + std::to_string(minor) + " layout"; }

}  // namespace

std::optional<PythonLayout> table_layout(int major, int minor) {
  if (major != 3) return std::nullopt;
  PythonLayout l;
  l.minor = minor;
  switch (minor) {
    case 8:  // measured on pyenv 3.8.18: as 3.9 but the GIL sits later in _PyRuntime
    case 9:
    case 10:
      l.interpreters_head = 32;
      l.gil_embedded = true;
      l.main_gil = minor == 8 ? 1152 : 352;
      l.threads_head = 8;
      l.tstate_thread_id = 176;
      return l;
    case 11:
      l.interpreters_head = 40;
      l.gil_embedded = true;
      l.main_gil = 360;
      l.threads_head = 16;
      l.tstate_thread_id = 152;
      l.tstate_native_thread_id = 160;
      return l;
    case 12:
      l.interpreters_head = 40;
      l.main_gil = 77432;
      l.gil_pointer = 384;
      l.threads_head = 72;
      l.tstate_thread_id = 136;
      l.tstate_native_thread_id = 144;
      return l;
    case 13:
      l.interpreters_head = 632;
      l.main_gil = 96104;
      l.gil_pointer = 16;
      l.threads_head = 7344;
      l.tstate_thread_id = 152;
      l.tstate_native_thread_id = 160;
      return l;
    default:
      return std::nullopt;
  }
}

Result<std::optional<DebugHeader>> read_debug_offsets(RemoteMemory& memory, std::uint64_t runtime) {
  // 3.13: cookie, version, free_threaded, runtime_state{size, finalizing,
  // interpreters_head}, interpreter_state{size, id, next, threads_head, gc,
  // imports_modules, sysdict, builtins, ceval_gil, gil_runtime_state,
  // gil_runtime_state_enabled, gil_runtime_state_locked, gil_runtime_state_holder},
  // thread_state{size, prev, next, interp, current_frame, thread_id,
  // native_thread_id, ...}: 26 words after the cookie.
  std::array<std::uint64_t, 26> w{};
  char cookie[8];
  ReadError error;
  if (!memory.read(runtime, cookie, sizeof cookie, error)) return Error{error.message};
  if (std::memcmp(cookie, "xdebugpy", 8) != 0) return std::optional<DebugHeader>{};
  if (!memory.read(runtime + 8, w.data(), sizeof w, error)) return Error{error.message};
  DebugHeader h;
  h.version = static_cast<std::uint32_t>(w[0]);
  int major = static_cast<int>(h.version >> 24);
  int minor = static_cast<int>((h.version >> 16) & 0xff);
  if (major != 3 || minor != 13) {
    // 3.14 changed the descriptor's own layout (threads_main): not parsed yet.
    return Error{"_Py_DebugOffsets of " + std::to_string(major) + "." + std::to_string(minor) +
                 ": descriptor layout not known"};
  }
  h.free_threaded = w[1] != 0;
  PythonLayout& l = h.layout;
  l.minor = minor;
  l.interpreters_head = w[4];
  l.threads_head = w[8];
  l.gil_pointer = w[13];
  l.interp_gil = w[14];
  l.tstate_next = w[20];
  l.tstate_interp = w[21];
  l.tstate_thread_id = w[23];
  l.tstate_native_thread_id = w[24];
  // The locked and holder fields must sit where the 208-byte GIL struct has them.
  if (w[16] != w[14] + kGilLocked || w[17] != w[14] + kGilLastHolder) {
    return Error{"_Py_DebugOffsets: GIL field offsets differ from the known struct"};
  }
  for (std::uint64_t v : {w[4], w[8], w[13], w[14], w[20], w[21], w[23], w[24]}) {
    if (v > (1u << 20)) return Error{"_Py_DebugOffsets: implausible offset"};
  }
  return std::optional<DebugHeader>{h};
}

Result<GilReader> GilReader::open(RemoteMemory& memory, std::uint64_t runtime,
                                  const PythonLayout& layout, const std::set<int>& tids) {
  GilReader r(layout);
  const std::string name = version_name(layout.minor);
  ReadError error;
  if (!memory.read_value(runtime + layout.interpreters_head, r.interp_, error)) {
    return Error{name + ": " + error.message};
  }
  if (r.interp_ == 0) return Error{name + ": no main interpreter at interpreters.head"};
  if (layout.gil_embedded) {
    r.gil_ = runtime + layout.main_gil.value_or(0);
  } else if (!memory.read_value(r.interp_ + layout.gil_pointer, r.gil_, error)) {
    return Error{name + ": " + error.message};
  }
  bool gil_where_expected = (layout.main_gil && r.gil_ == runtime + *layout.main_gil) ||
                            (layout.interp_gil && r.gil_ == r.interp_ + *layout.interp_gil);
  if (!gil_where_expected) return Error{name + ": the GIL pointer is not the main interpreter's"};
  std::array<std::uint8_t, kGilHead> head{};
  if (!memory.read(r.gil_, head.data(), head.size(), error)) {
    return Error{name + ": " + error.message};
  }
  if (at<std::uint32_t>(head, kGilLocked) > 1) return Error{name + ": GIL `locked` is not 0 or 1"};
  if (!r.map_threads(memory, tids, error)) {
    return Error{name + ": " +
                 (error.message.empty() ? "thread list fails validation" : error.message)};
  }
  return r;
}

std::optional<int> GilReader::tid_of(RemoteMemory& memory, std::uint64_t tstate,
                                     const std::set<int>& tids, ReadError& error) {
  if (layout_.tstate_native_thread_id) {
    std::uint64_t tid = 0;
    if (!memory.read_value(tstate + *layout_.tstate_native_thread_id, tid, error)) {
      return std::nullopt;
    }
    if (tid > 0 && tid < (1u << 30) && tids.count(static_cast<int>(tid)) != 0) {
      return static_cast<int>(tid);
    }
    return std::nullopt;
  }
  // 3.9/3.10 keep only the pthread_t, the address of glibc's struct pthread.
  std::uint64_t pthread = 0;
  if (!memory.read_value(tstate + layout_.tstate_thread_id, pthread, error)) return std::nullopt;
  std::int32_t tid = 0;
  if (pthread == 0 || !memory.read_value(pthread + layout_.pthread_tid, tid, error)) {
    return std::nullopt;
  }
  if (tid > 0 && tids.count(tid) != 0) return tid;
  return std::nullopt;
}

bool GilReader::map_threads(RemoteMemory& memory, const std::set<int>& tids, ReadError& error) {
  std::uint64_t tstate = 0;
  if (!memory.read_value(interp_ + layout_.threads_head, tstate, error)) return false;
  std::map<std::uint64_t, int> mapped;
  int walked = 0;
  while (tstate != 0) {
    if (++walked > kMaxThreadStates) {
      error = {ReadFailure::bad_address,
               "thread list longer than " + std::to_string(kMaxThreadStates) + " (a cycle?)"};
      return false;
    }
    std::uint64_t interp = 0;
    if (!memory.read_value(tstate + layout_.tstate_interp, interp, error)) return false;
    if (interp != interp_) {
      error = {ReadFailure::bad_address, "tstate->interp != interp"};
      return false;
    }
    if (auto tid = tid_of(memory, tstate, tids, error)) {
      mapped[tstate] = *tid;
    } else if (error.failure == ReadFailure::gone && !error.message.empty()) {
      return false;
    }
    if (!memory.read_value(tstate + layout_.tstate_next, tstate, error)) return false;
  }
  // A live interpreter has at least its main thread's state. Threads may exit between
  // listing /proc/PID/task and the walk, but a layout that maps no thread state at all
  // to a live tid is wrong.
  if (walked == 0) {
    error = {ReadFailure::bad_address, "the main interpreter has no thread state"};
    return false;
  }
  if (mapped.empty()) {
    error = {ReadFailure::bad_address, "no thread state maps to a thread of the process"};
    return false;
  }
  tids_by_tstate_ = std::move(mapped);
  error = {};
  return true;
}

std::optional<std::uint64_t> GilReader::thread_state(RemoteMemory& memory, int tid,
                                                     const std::set<int>& tids, ReadError& error) {
  error = {};
  auto find = [&]() -> std::optional<std::uint64_t> {
    for (const auto& [tstate, mapped] : tids_by_tstate_) {
      if (mapped == tid) return tstate;
    }
    return std::nullopt;
  };
  if (auto found = find()) return found;
  if (!map_threads(memory, tids, error)) return std::nullopt;
  return find();
}

SampleOutcome GilReader::sample(RemoteMemory& memory, const std::set<int>& tids, GilSample& out,
                                std::string* why) {
  ReadError error;
  auto fail = [&](const ReadError& e) {
    if (why != nullptr) *why = e.message;
    return e.failure == ReadFailure::gone ? SampleOutcome::gone : SampleOutcome::failed;
  };
  std::array<std::uint8_t, kGilHead> head{};
  if (!memory.read(gil_, head.data(), head.size(), error)) return fail(error);
  auto locked = at<std::uint32_t>(head, kGilLocked);
  if (locked > 1) return fail({ReadFailure::bad_address, "GIL `locked` is not 0 or 1"});
  out = GilSample{};
  out.locked = locked == 1;
  out.switch_number = at<std::uint64_t>(head, kGilSwitches);
  // glibc 2.36 pthread_cond_t: __wrefs counts waiters in steps of 8; a value beyond
  // the thread count means another glibc layout, so it is dropped rather than trusted.
  auto waiters = at<std::uint32_t>(head, kGilCondWrefs) >> 3;
  out.waiters = waiters <= tids.size() ? static_cast<int>(waiters) : 0;
  if (!out.locked) return SampleOutcome::ok;
  auto holder = at<std::uint64_t>(head, kGilLastHolder);
  auto it = tids_by_tstate_.find(holder);
  if (it == tids_by_tstate_.end() || tids.count(it->second) == 0) {
    // A new thread, or a tstate address reused by one: walk the list again.
    if (!map_threads(memory, tids, error)) return fail(error);
    it = tids_by_tstate_.find(holder);
  }
  if (it != tids_by_tstate_.end()) out.holder_tid = it->second;
  return SampleOutcome::ok;
}

}  // namespace boundwise::python
