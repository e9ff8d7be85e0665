/* Benchmark load for the eBPF overhead benchmark (ebpf_overhead.py): a context-switch
 * storm. Two processes pinned to one CPU pass a byte back and forth over two pipes;
 * every hop is a write, a read and a switch. Prints round trips per second.
 *
 * usage: bw_pingpong COMM CPU WARMUP_S SECONDS [SLICE_S]
 * COMM becomes the process name (prctl), so the agent can target it by comm or not;
 * the first WARMUP_S seconds are not measured (time for the agent's discovery).
 * Output: round trips per second (wall clock), then CPU ns per round trip of both
 * processes together (user + system, including what BPF programs cost them: that
 * figure is far less disturbed by other load on the machine). With SLICE_S, first one
 * line per slice of that length: "slice START END ROUND_TRIPS CPU_NS" (CLOCK_MONOTONIC
 * seconds; CPU of both processes), so that slices can be matched with what the agent
 * had attached at the time. */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "load_common.h"

int main(int argc, char** argv) {
  double warmup, seconds;
  struct slicer slices = {0};
  start_load(argc, argv, &warmup, &seconds, &slices.length);
  int ping[2], pong[2];
  if (pipe(ping) || pipe(pong)) return 1;
  char c = 0;
  pid_t child = fork();
  if (child == 0) {
    for (;;) {
      if (read(ping[0], &c, 1) != 1) _exit(0);
      if (write(pong[1], &c, 1) != 1) _exit(0);
    }
  }
  clockid_t child_clock;
  if (clock_getcpuclockid(child, &child_clock) != 0) return 1;
  double start = now(), t0 = 0, cpu0 = 0;
  long n = 0;
  int measuring = 0;
  for (long i = 0;; ++i) {
    if (write(ping[1], &c, 1) != 1 || read(pong[0], &c, 1) != 1) return 1;
    if ((i & 1023) == 0) {
      double t = now();
      if (!measuring && t - start >= warmup) {
        measuring = 1;
        t0 = t;
        cpu0 = clock_s(CLOCK_PROCESS_CPUTIME_ID) + clock_s(child_clock);
        n = 0;
        slice_start(&slices, t0, cpu0, n);
      } else if (measuring && slices.length > 0) {
        slice_tick(&slices, t, clock_s(CLOCK_PROCESS_CPUTIME_ID) + clock_s(child_clock), n);
      }
      if (measuring && t - t0 >= seconds) {
        double cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) + clock_s(child_clock) - cpu0;
        printf("%.1f %.1f\n", (double)n / (t - t0), cpu / (double)n * 1e9);
        break;
      }
    }
    ++n;
  }
  kill(child, SIGKILL);
  waitpid(child, NULL, 0);
  return 0;
}
