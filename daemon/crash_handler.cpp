// The fatal-signal handler (contract in crash_handler.hpp). Everything called from
// on_fatal_signal is async-signal-safe (signal-safety(7)); libunwind documents its
// local unw_init_local2/unw_step/unw_get_proc_name as safe in a signal handler
// (unw_get_proc_name(3), "Thread and Signal Safety").
#define UNW_LOCAL_ONLY
#include "daemon/crash_handler.hpp"

#include <libunwind.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstring>

namespace boundwise {

namespace {

constexpr int kMaxFrames = 64;
constexpr std::size_t kNameBytes = 256;
constexpr int kFatalSignals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};

// An alternate stack for the thread that installs the handlers: a stack overflow
// leaves none to run a handler on. 64 KiB: libunwind's cursor and its DWARF parsing
// need a few KiB.
alignas(16) char alternate_stack[64 * 1024];
char proc_name[kNameBytes];
std::atomic<bool> installed{false};

void write_all(const char* text, std::size_t n) {
  while (n > 0) {
    ssize_t w = ::write(STDERR_FILENO, text, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    text += w;
    n -= static_cast<std::size_t>(w);
  }
}

void write_text(const char* text) { write_all(text, std::strlen(text)); }

void write_decimal(unsigned long value) {
  char digits[24];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value > 0 && n < 24);
  char out[24];
  for (int i = 0; i < n; ++i) out[i] = digits[n - 1 - i];
  write_all(out, static_cast<std::size_t>(n));
}

void write_hex(unsigned long value, int min_digits = 16) {
  char out[24];
  write_all(out, static_cast<std::size_t>(format_hex(value, out, min_digits)));
}

const char* signal_name(int sig) {
  switch (sig) {
    case SIGSEGV:
      return "SIGSEGV";
    case SIGBUS:
      return "SIGBUS";
    case SIGILL:
      return "SIGILL";
    case SIGFPE:
      return "SIGFPE";
    case SIGABRT:
      return "SIGABRT";
    default:
      return "signal";
  }
}

void on_fatal_signal(int sig, siginfo_t* info, void* context) {
  const int saved_errno = errno;
  write_text("boundwise: fatal signal ");
  write_decimal(static_cast<unsigned long>(sig));
  write_text(" (");
  write_text(signal_name(sig));
  write_text(")");
  if (info != nullptr && sig != SIGABRT) {
    write_text(", fault address ");
    write_hex(reinterpret_cast<unsigned long>(info->si_addr));
  }
  write_text("; backtrace of the crashing thread (C++ names mangled: c++filt):\n");
  unw_cursor_t cursor;
  // From the signal's context, frame 0 is the instruction that faulted (or abort()'s
  // raise); without it, from here (the handler's own frames first).
  unw_context_t here;
  int started = context != nullptr ? unw_init_local2(&cursor, static_cast<unw_context_t*>(context),
                                                     UNW_INIT_SIGNAL_FRAME)
                                   : -1;
  if (started != 0 && unw_getcontext(&here) == 0) started = unw_init_local(&cursor, &here);
  for (int frame = 0; started == 0 && frame < kMaxFrames; ++frame) {
    unw_word_t ip = 0;
    if (unw_get_reg(&cursor, UNW_REG_IP, &ip) != 0) break;
    write_text("  #");
    write_decimal(static_cast<unsigned long>(frame));
    write_text(" ");
    write_hex(ip);
    unw_word_t offset = 0;
    if (unw_get_proc_name(&cursor, proc_name, sizeof proc_name, &offset) == 0) {
      proc_name[sizeof proc_name - 1] = '\0';
      write_text(" ");
      write_text(proc_name);
      write_text("+");
      write_hex(offset, 1);
    } else {
      write_text(" ?");
    }
    write_text("\n");
    if (unw_step(&cursor) <= 0) break;
  }
  write_text("boundwise: end of backtrace; dying of the same signal\n");
  errno = saved_errno;
  // SA_RESETHAND restored the default action; the signal is blocked while this runs,
  // so it is delivered (and kills) as soon as the handler returns. A fault returns to
  // the faulting instruction, which faults again, under the default action.
  ::raise(sig);
}

}  // namespace

int format_hex(unsigned long value, char* out, int min_digits) {
  constexpr char kDigits[] = "0123456789abcdef";
  int digits = 16;
  while (digits > 1 && digits > min_digits && ((value >> (4 * (digits - 1))) & 0xf) == 0) {
    --digits;
  }
  out[0] = '0';
  out[1] = 'x';
  for (int i = 0; i < digits; ++i) {
    out[2 + i] = kDigits[(value >> (4 * (digits - 1 - i))) & 0xf];
  }
  out[2 + digits] = '\0';
  return 2 + digits;
}

void install_crash_handler() {
  if (installed.exchange(true)) return;
  stack_t alt{};
  alt.ss_sp = alternate_stack;
  alt.ss_size = sizeof alternate_stack;
  ::sigaltstack(&alt, nullptr);  // without it, handlers run on the crashing stack
  struct sigaction action {};
  action.sa_sigaction = on_fatal_signal;
  action.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND;
  sigemptyset(&action.sa_mask);
  for (int sig : kFatalSignals) ::sigaction(sig, &action, nullptr);
}

}  // namespace boundwise
