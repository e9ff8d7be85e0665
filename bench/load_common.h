/* What the eBPF overhead benchmark's loads (bw_pingpong, bw_syscall_loop) share: the
 * command line COMM CPU WARMUP_S SECONDS, naming and pinning the process, clocks. */
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

/* Parses COMM CPU WARMUP_S SECONDS, names the process COMM (so the agent can target
 * it by comm, or not) and pins it to CPU. Exits 2 with the usage on a wrong count. */
static void start_load(int argc, char** argv, double* warmup, double* seconds) {
  cpu_set_t set;
  if (argc != 5) {
    fprintf(stderr, "usage: %s COMM CPU WARMUP_S SECONDS\n", argv[0]);
    exit(2);
  }
  prctl(PR_SET_NAME, argv[1]);
  CPU_ZERO(&set);
  CPU_SET(atoi(argv[2]), &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) perror("sched_setaffinity");
  *warmup = atof(argv[3]);
  *seconds = atof(argv[4]);
}

#endif
