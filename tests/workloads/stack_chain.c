/* A CPU-bound program with a known call chain, for the stacks collector's tests:
 * main -> chain_one -> chain_two -> chain_three -> chain_four, where chain_four spins.
 * Built -O2 -fomit-frame-pointer (tests/integration/CMakeLists.txt), so only DWARF
 * call-frame information unwinds it. noinline keeps the four frames, and the work after
 * each call keeps the compiler from turning the calls into jumps (tail calls).
 *
 * usage: stack_chain [SECONDS]   (runs until killed when SECONDS is absent or 0) */
#include <stdlib.h>
#include <time.h>

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

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 0;
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (unsigned long n = 0;; ++n) {
    sink = chain_one(n);
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (seconds > 0 && (double)(now.tv_sec - start.tv_sec) +
                               (double)(now.tv_nsec - start.tv_nsec) / 1e9 >= seconds) {
      return 0;
    }
  }
}
