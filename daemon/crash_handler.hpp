// What the agent says when it crashes: handlers for the fatal signals (SIGSEGV, SIGBUS,
// SIGILL, SIGFPE, SIGABRT) that write the signal and a backtrace of the thread that
// crashed to stderr (journald, the kubelet's logs), then let the signal kill the process
// as it would have (same signal: core dump, exit status and restart policy unchanged).
//
// Async-signal-safe only: libunwind's local unwinder from the signal's context
// (unw_init_local2, unw_step, unw_get_proc_name into static buffers: names are
// mangled, since demangling allocates), numbers formatted by hand, write(2). The main
// thread's handler runs on an alternate stack, so a stack overflow is reported too.
#pragma once

namespace boundwise {

// Installs the handlers (once; later calls do nothing). Call early in main().
void install_crash_handler();

// Pure and async-signal-safe: writes `value` as "0x" and its hex digits, zero-padded to
// `min_digits` (1-16), into `out` (at least 19 bytes, NUL-terminated), returns the
// characters written. For the handler; tested.
int format_hex(unsigned long value, char* out, int min_digits = 16);

}  // namespace boundwise
