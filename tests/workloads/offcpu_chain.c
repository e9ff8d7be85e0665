/* A program with a thread blocked in a pipe read under a known call chain, for the
 * stacks collector's off-CPU tests: thread_main -> worker_loop -> wait_input ->
 * read_input -> read(2) on a pipe. The main thread writes one byte to the pipe every
 * 300 ms, waiting in between on a condition variable with a timeout (a lone futex
 * waiter: idle, whose stacks are not taken), so the reader is blocked in read nearly
 * all the time but not parked (a thread that never wakes counts as idle). Built -O2
 * -fomit-frame-pointer (tests/integration/CMakeLists.txt), so only DWARF call-frame
 * information unwinds it; noinline and the work after each call keep the frames (no
 * inlining, no tail calls).
 *
 * usage: offcpu_chain */
#include <pthread.h>
#include <time.h>
#include <unistd.h>

static volatile long sink;
static int pipe_fds[2];

__attribute__((noinline)) long read_input(int fd) {
  char c = 0;
  long n = read(fd, &c, 1);
  sink = n;
  return n + c;
}

__attribute__((noinline)) long wait_input(int fd) {
  long r = read_input(fd);
  sink = r;
  return r ^ fd;
}

__attribute__((noinline)) long worker_loop(int fd) {
  long total = 0;
  for (;;) {
    long r = wait_input(fd);
    if (r < 0) break;
    total += r;
    sink = total;
  }
  return total;
}

static void* thread_main(void* arg) {
  (void)arg;
  sink = worker_loop(pipe_fds[0]);
  return NULL;
}

int main(void) {
  if (pipe(pipe_fds) != 0) return 1;
  pthread_t t;
  if (pthread_create(&t, NULL, thread_main, NULL) != 0) return 1;
  pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
  pthread_cond_t never = PTHREAD_COND_INITIALIZER;
  pthread_mutex_lock(&mutex);
  for (;;) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += 300000000L;
    if (until.tv_nsec >= 1000000000L) {
      until.tv_sec += 1;
      until.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&never, &mutex, &until);
    if (write(pipe_fds[1], "x", 1) != 1) return 1;
  }
}
