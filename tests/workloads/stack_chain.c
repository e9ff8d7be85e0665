/* A CPU-bound program with a known call chain, for the stacks collector's tests:
 * main -> chain_one -> chain_two -> chain_three -> chain_four, where chain_four spins.
 * Built -O2 -fomit-frame-pointer (tests/integration/CMakeLists.txt), so only DWARF
 * call-frame information unwinds it. noinline keeps the four frames, and the work after
 * each call keeps the compiler from turning the calls into jumps (tail calls).
 *
 * usage: stack_chain [SECONDS [THREADS [PROGRAM ARGS...]]]
 *   SECONDS  run this long, then exit (0 or absent: until killed)
 *   THREADS  also run the chain in this many threads, started after 1 s (new threads
 *            of a process already sampled)
 *   PROGRAM  after SECONDS, exec PROGRAM with ARGS instead of exiting */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static volatile unsigned long sink;

__attribute__((noinline)) unsigned long chain_four(unsigned long n) {
  unsigned long x = n;
  for (unsigned long i = 0; i < 20000000UL; ++i) x = x * 6364136223846793005UL + 1442695040888963407UL;
  sink = x;
  return x;
}

__attribute__((noinline)) unsigned long chain_three(unsigned long n) {
  unsigned long r = chain_four(n + 3);
  sink = r;
  return r ^ n;
}

__attribute__((noinline)) unsigned long chain_two(unsigned long n) {
  unsigned long r = chain_three(n + 2);
  sink = r;
  return r + n;
}

__attribute__((noinline)) unsigned long chain_one(unsigned long n) {
  unsigned long r = chain_two(n + 1);
  sink = r;
  return r - n;
}

static void* thread_main(void* arg) {
  (void)arg;
  for (unsigned long n = 0;; ++n) sink = chain_one(n);
  return NULL;
}

static double since(const struct timespec* start) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 0;
  int threads = argc > 2 ? atoi(argv[2]) : 0;
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (unsigned long n = 0;; ++n) {
    sink = chain_one(n);
    if (threads > 0 && since(&start) >= 1) {
      for (; threads > 0; --threads) {
        pthread_t t;
        if (pthread_create(&t, NULL, thread_main, NULL) != 0) return 1;
      }
    }
    if (seconds > 0 && since(&start) >= seconds) {
      if (argc > 3) {
        execv(argv[3], argv + 3);
        return 1;
      }
      return 0;
    }
  }
}
