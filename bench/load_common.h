/* What the eBPF overhead benchmark's loads (bw_pingpong, bw_syscall_loop) share: the
 * command line COMM CPU WARMUP_S SECONDS [SLICE_S], naming and pinning the process, clocks. */
#ifndef BOUNDWISE_BENCH_LOAD_COMMON_H
#define BOUNDWISE_BENCH_LOAD_COMMON_H

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>

static double clock_s(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
static double now(void) { return clock_s(CLOCK_MONOTONIC); }

/* Parses COMM CPU WARMUP_S SECONDS [SLICE_S], names the process COMM (so the agent
 * can target it by comm, or not) and pins it to CPU. *slice is 0 without SLICE_S.
 * Exits 2 with the usage on a wrong count. */
static void start_load(int argc, char** argv, double* warmup, double* seconds, double* slice) {
  cpu_set_t set;
  if (argc != 5 && argc != 6) {
    fprintf(stderr, "usage: %s COMM CPU WARMUP_S SECONDS [SLICE_S]\n", argv[0]);
    exit(2);
  }
  *slice = argc == 6 ? atof(argv[5]) : 0;
  prctl(PR_SET_NAME, argv[1]);
  CPU_ZERO(&set);
  CPU_SET(atoi(argv[2]), &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) perror("sched_setaffinity");
  *warmup = atof(argv[3]);
  *seconds = atof(argv[4]);
}

/* Per-slice output for matching a load's speed with what the agent had attached at
 * the time (ebpf_overhead.py --slices): one line "slice START END OPS CPU_NS" each
 * time `length` seconds have passed since the last. */
struct slicer {
  double length; /* seconds; 0: no slices */
  double t, cpu; /* start of the current slice: CLOCK_MONOTONIC s, CPU s */
  long n;        /* operations counted at its start */
};

static void slice_start(struct slicer* s, double t, double cpu, long n) {
  s->t = t;
  s->cpu = cpu;
  s->n = n;
}

static void slice_tick(struct slicer* s, double t, double cpu, long n) {
  if (s->length <= 0 || t - s->t < s->length) return;
  printf("slice %.6f %.6f %ld %.0f\n", s->t, t, n - s->n, (cpu - s->cpu) * 1e9);
  slice_start(s, t, cpu, n);
}

#endif
