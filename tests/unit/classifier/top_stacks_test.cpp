// Top stacks as /recommend evidence (classifier/top_stacks.hpp), on folded stacks
// recorded from real runs: the frames that matter, the shares, the reason per verdict.
#include "classifier/top_stacks.hpp"

#include <gtest/gtest.h>

namespace boundwise {
namespace {

// /profile?type=offcpu of tests/workloads/offcpu_chain.c on Debian 12 (glibc 2.36),
// plus a sleeping and a lock-waiting stack.
FoldedStacks recorded_offcpu() {
  FoldedStacks f;
  add_stack(f, "[ipc];[libc.so.6];[libc.so.6];thread_main;worker_loop;wait_input;read_input;read",
            9200, 100);
  add_stack(f, "[ipc];[libc.so.6];[libc.so.6];thread_main;worker_loop;read_input;__libc_read", 500,
            100);
  add_stack(f, "[ipc];[unknown];[partial]", 300, 100);
  add_stack(f, "[sleep];__libc_start_main;main;nanosleep", 4000, 100);
  add_stack(f,
            "[lock];start_thread;worker;pthread_mutex_lock;__pthread_mutex_lock_full;"
            "__GI___lll_lock_wait;futex_wait_k_[k]",
            700, 100);
  add_stack(f, "[net postgres 127.0.0.1:5432];main;fetch;PQexec;__libc_recv", 600, 100);
  return f;
}

TEST(TopStacks, FramesThatMatterAreLeafFirstWithoutEntryKernelOrUnnamedFrames) {
  using V = std::vector<std::string>;
  EXPECT_EQ(frames_that_matter(
                "[ipc];[libc.so.6];[libc.so.6];thread_main;worker_loop;wait_input;read_input;read"),
            (V{"read", "read_input", "wait_input", "worker_loop"}));  // at most 4
  EXPECT_EQ(frames_that_matter("_start;__libc_start_main;main;compute;do_syscall_64_[k]"),
            (V{"compute", "main"}));
  EXPECT_EQ(frames_that_matter("start_thread;clone3;worker;__GI___libc_read"),
            (V{"read", "worker"}));
  EXPECT_EQ(frames_that_matter("main;__read;read"), (V{"read", "main"}));  // one read, not two
  EXPECT_EQ(frames_that_matter("[ipc];[unknown];[partial]"), V{});
  EXPECT_EQ(frames_that_matter(""), V{});
}

TEST(TopStacks, TheReasonsHeaviestStacksWithTheirShareOfTheReason) {
  auto top = top_stacks(recorded_offcpu(), Reason::ipc);
  ASSERT_EQ(top.size(), 2u);  // the unnamed stack counts in the total, not as a top stack
  EXPECT_EQ(top[0].reason, Reason::ipc);
  EXPECT_EQ(top[0].frames,
            (std::vector<std::string>{"read", "read_input", "wait_input", "worker_loop"}));
  EXPECT_DOUBLE_EQ(top[0].share, 0.92);
  EXPECT_DOUBLE_EQ(top[1].share, 0.05);
  EXPECT_EQ(describe(top[0]),
            "ipc waits 92 % under read \u2190 read_input \u2190 wait_input \u2190 worker_loop");
  auto net = top_stacks(recorded_offcpu(), Reason::net);
  ASSERT_EQ(net.size(), 1u);
  EXPECT_EQ(net[0].detail, "postgres 127.0.0.1:5432");
  EXPECT_EQ(describe(net[0]),
            "net waits on postgres 127.0.0.1:5432 100 % under recv \u2190 PQexec \u2190 fetch "
            "\u2190 main");
  EXPECT_TRUE(top_stacks(recorded_offcpu(), Reason::disk).empty());
}

TEST(TopStacks, StacksCutToTheSameFramesAreOneAndAtMostNAreKept) {
  FoldedStacks cpu;
  add_stack(cpu, "_start;__libc_start_main;main;compute;hash", 40, 100);
  add_stack(cpu, "start_thread;clone3;main;compute;hash", 40, 100);  // the same, cut
  add_stack(cpu, "main;parse", 10, 100);
  add_stack(cpu, "main;render", 6, 100);
  add_stack(cpu, "main;log", 4, 100);
  auto top = top_stacks(cpu, std::nullopt);
  ASSERT_EQ(top.size(), kTopStacks);
  EXPECT_EQ(top[0].reason, Reason::on_cpu);
  EXPECT_EQ(top[0].frames, (std::vector<std::string>{"hash", "compute", "main"}));
  EXPECT_DOUBLE_EQ(top[0].share, 0.8);
  EXPECT_EQ(top[2].frames, (std::vector<std::string>{"render", "main"}));
  EXPECT_EQ(describe(top[0]), "on-CPU 80 % in hash \u2190 compute \u2190 main");
  EXPECT_TRUE(top_stacks(FoldedStacks{}, std::nullopt).empty());
}

TEST(TopStacks, TheVerdictChoosesTheProfileAndTheReason) {
  PerReason<double> seconds{};
  seconds[index_of(Reason::idle)] = 50;  // idle is never a reason for stacks
  EXPECT_EQ(stacks_reason(Bottleneck::mixed, seconds), std::nullopt);
  seconds[index_of(Reason::ipc)] = 9;
  seconds[index_of(Reason::sleep)] = 4;
  EXPECT_EQ(stacks_reason(Bottleneck::mixed, seconds), Reason::ipc);
  EXPECT_EQ(stacks_reason(Bottleneck::cpu_bound, seconds), Reason::on_cpu);
  EXPECT_EQ(stacks_reason(Bottleneck::cpu_saturated, seconds), Reason::on_cpu);
  EXPECT_EQ(stacks_reason(Bottleneck::gil_contended, seconds), Reason::ipc);  // no gil time
  seconds[index_of(Reason::gil)] = 0.1;
  EXPECT_EQ(stacks_reason(Bottleneck::gil_contended, seconds), Reason::gil);
  seconds[index_of(Reason::gil)] = 0;
  // io_network over ipc waits alone (offcpu_chain.c's verdict): the ipc stacks.
  EXPECT_EQ(stacks_reason(Bottleneck::io_network, seconds), Reason::ipc);
  seconds[index_of(Reason::net)] = 1;
  seconds[index_of(Reason::lock)] = 0.5;
  EXPECT_EQ(stacks_reason(Bottleneck::io_network, seconds), Reason::net);
  EXPECT_EQ(stacks_reason(Bottleneck::lock_contended, seconds), Reason::lock);
  EXPECT_EQ(stacks_reason(Bottleneck::io_disk, seconds), Reason::ipc);  // no disk time

  const FoldedStacks offcpu = recorded_offcpu();
  FoldedStacks cpu;
  add_stack(cpu, "main;compute", 5, 100);
  auto waits = verdict_stacks(Bottleneck::idle, seconds, &cpu, &offcpu);
  ASSERT_FALSE(waits.empty());
  EXPECT_EQ(waits[0].reason, Reason::ipc);
  auto running = verdict_stacks(Bottleneck::cpu_bound, seconds, &cpu, &offcpu);
  ASSERT_EQ(running.size(), 1u);
  EXPECT_EQ(running[0].frames, (std::vector<std::string>{"compute", "main"}));
  EXPECT_TRUE(verdict_stacks(Bottleneck::cpu_bound, seconds, nullptr, &offcpu).empty());
  EXPECT_TRUE(verdict_stacks(Bottleneck::io_disk, seconds, &cpu, nullptr).empty());
}

}  // namespace
}  // namespace boundwise

namespace boundwise {
namespace {

// GIL probes of tests/workloads/py_chain.py with 4 threads (what the stacks collector
// folds: the holder's Python frames, root first), plus a probe whose holder was not
// mapped to a thread.
FoldedStacks gil_holders() {
  FoldedStacks f;
  const std::string file = "/srv/tests/workloads/py_chain.py";
  add_stack(f,
            "<module> (" + file + ":34);main (" + file + ":30);outer_step (" + file +
                ":23);middle_step (" + file + ":19);inner_spin (" + file + ":15)",
            60, 100);
  add_stack(f,
            "run (/usr/lib/python3.12/threading.py:1010);outer_step (" + file +
                ":23);middle_step (" + file + ":19);inner_spin (" + file + ":14)",
            30, 100);
  add_stack(f, "[GIL holder unknown]", 10, 100);
  return f;
}

TEST(TopStacks, PythonFramesAreWhatMattersInAStackThatHasThem) {
  using V = std::vector<std::string>;
  EXPECT_EQ(frames_that_matter("main;Py_RunMain;<module> (/srv/app.py:30);outer (/srv/app.py:23);"
                               "_PyEval_EvalFrameDefault;inner (/srv/app.py:15);long_add"),
            (V{"inner (app.py:15)", "outer (app.py:23)", "<module> (app.py:30)"}));
  EXPECT_TRUE(is_python_frame("inner (/srv/app.py:15)"));
  EXPECT_TRUE(is_python_frame("<module> (<string>:1)"));
  EXPECT_FALSE(is_python_frame("operator() (int)"));
  EXPECT_FALSE(is_python_frame("f (a:)"));
  EXPECT_FALSE(is_python_frame("[python]"));
}

TEST(TopStacks, GilContendedNamesThePythonFunctionHoldingTheGil) {
  PerReason<double> seconds{};
  seconds[index_of(Reason::gil)] = 30;
  seconds[index_of(Reason::on_cpu)] = 10;
  FoldedStacks offcpu;
  add_stack(offcpu, "[gil];start_thread;take_gil;futex_wait", 500, 100);
  const FoldedStacks gil = gil_holders();
  auto top = verdict_stacks(Bottleneck::gil_contended, seconds, nullptr, &offcpu, &gil);
  ASSERT_EQ(top.size(), 2u);
  EXPECT_TRUE(top[0].gil_holder);
  EXPECT_EQ(top[0].reason, Reason::gil);
  EXPECT_EQ(top[0].frames,
            (std::vector<std::string>{"inner_spin (py_chain.py:15)", "middle_step (py_chain.py:19)",
                                      "outer_step (py_chain.py:23)", "main (py_chain.py:30)"}));
  EXPECT_DOUBLE_EQ(top[0].share, 0.6);  // of the probes that found the GIL held
  EXPECT_EQ(describe(top[0]),
            "GIL held 60 % in inner_spin (py_chain.py:15) \u2190 middle_step (py_chain.py:19) "
            "\u2190 outer_step (py_chain.py:23) \u2190 main (py_chain.py:30)");
  // Without GIL probes: the waiters' off-CPU stacks, as before.
  auto waits = verdict_stacks(Bottleneck::gil_contended, seconds, nullptr, &offcpu, nullptr);
  ASSERT_EQ(waits.size(), 1u);
  EXPECT_FALSE(waits[0].gil_holder);
  const FoldedStacks none;
  EXPECT_FALSE(verdict_stacks(Bottleneck::gil_contended, seconds, nullptr, &offcpu, &none)
                   .front()
                   .gil_holder);
  // Other verdicts do not use the GIL profile.
  auto cpu = verdict_stacks(Bottleneck::cpu_bound, seconds, &gil, &offcpu, &gil);
  ASSERT_FALSE(cpu.empty());
  EXPECT_FALSE(cpu[0].gil_holder);
}

}  // namespace
}  // namespace boundwise
