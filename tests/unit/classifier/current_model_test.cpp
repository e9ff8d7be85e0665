// current_model() and native_cpu_seconds(): the model in use, from the window.
#include <gtest/gtest.h>

#include "classifier/window.hpp"

namespace boundwise {
namespace {

WorkloadWindow window(int processes, int threads) {
  WorkloadWindow w;
  w.processes = processes;
  w.threads = threads;
  return w;
}

TEST(CurrentModel, FromWorkersThreadsAndTheEventLoop) {
  EXPECT_EQ(current_model(window(1, 1)), "single");
  EXPECT_EQ(current_model(window(1, 5)), "threads");
  auto loop = window(1, 1);
  loop.event_loop = true;
  EXPECT_EQ(current_model(loop), "asyncio");
  auto py = window(4, 7);  // a pool parent with its handler threads, 3 workers
  py.runtime.kind = "python";
  py.runtime.worker_processes = 3;
  py.runtime.max_worker_threads = 1;
  EXPECT_EQ(current_model(py), "processes");
  py.event_loop = true;  // a forkserver polls: still processes
  EXPECT_EQ(current_model(py), "processes");
  py.runtime.max_worker_threads = 4;  // gunicorn gthread workers
  EXPECT_EQ(current_model(py), "mixed");
  py.runtime.max_worker_threads = 1;
  py.runtime.server = "uvicorn";
  EXPECT_EQ(current_model(py), "mixed");
  // A Python parent with only helpers (resource tracker) has no workers.
  auto helpers = window(2, 2);
  helpers.runtime.kind = "python";
  EXPECT_EQ(current_model(helpers), "threads");
  EXPECT_EQ(current_model(window(3, 3)), "processes");  // native: children are workers
}

TEST(NativeCpu, CpuWithoutTheGilOnlyWhenMeasured) {
  WorkloadWindow w;
  w.cpu_seconds = 3.0;
  w.gil.held_seconds = 1.0;
  EXPECT_EQ(native_cpu_seconds(w), 0.0);
  w.gil.measured = true;
  EXPECT_DOUBLE_EQ(native_cpu_seconds(w), 2.0);
  w.gil.held_seconds = 5.0;  // held while off CPU: never negative
  EXPECT_EQ(native_cpu_seconds(w), 0.0);
}

}  // namespace
}  // namespace boundwise
