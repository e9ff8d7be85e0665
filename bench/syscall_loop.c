/* Benchmark load for the eBPF overhead benchmark (ebpf_overhead.py): a syscall-heavy
 * loop of getppid() (the cheapest real syscall: the cost of entering the kernel and
 * of the sys_enter/sys_exit tracepoints dominates). Prints syscalls per second.
 *
 * usage: bw_syscall_loop COMM CPU WARMUP_S SECONDS [SLICE_S]  (as bw_pingpong)
 * Output: syscalls per second (wall clock), then CPU ns per syscall. */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "load_common.h"

int main(int argc, char** argv) {
  double warmup, seconds;
  struct slicer slices = {0};
  start_load(argc, argv, &warmup, &seconds, &slices.length);
  double start = now(), t0 = 0, cpu0 = 0;
  long n = 0;
  int measuring = 0;
  for (long i = 0;; ++i) {
    syscall(SYS_getppid);
    if ((i & 4095) == 0) {
      double t = now(); /* vDSO: no syscall */
      if (!measuring && t - start >= warmup) {
        measuring = 1;
        t0 = t;
        cpu0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
        n = 0;
        slice_start(&slices, t0, cpu0, n);
      } else if (measuring && slices.length > 0) {
        slice_tick(&slices, t, clock_s(CLOCK_PROCESS_CPUTIME_ID), n);
      }
      if (measuring && t - t0 >= seconds) {
        double cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
        printf("%.1f %.1f\n", (double)n / (t - t0), cpu / (double)n * 1e9);
        break;
      }
    }
    ++n;
  }
  return 0;
}
