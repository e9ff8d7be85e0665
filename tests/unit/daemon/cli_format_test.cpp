// What `boundwise status` and `boundwise explain` print, from a /recommend document
// shaped like a real agent's (data/recommend_two_workloads.json: a thread pool
// waiting on an HTTP dependency and an absent configured target).
#include "daemon/cli_format.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <regex>
#include <string>

namespace boundwise::cli {
namespace {

using nlohmann::json;

json fixture() {
  std::ifstream in(std::string(BOUNDWISE_TEST_DATA) + "/recommend_two_workloads.json");
  return json::parse(std::string(std::istreambuf_iterator<char>(in), {}));
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(CliFormat, ShareBarIsProportionalAndClamped) {
  EXPECT_EQ(share_bar(0.5, 4), "|##  |");
  EXPECT_EQ(share_bar(0.0, 4), "|    |");
  EXPECT_EQ(share_bar(1.0, 4), "|####|");
  EXPECT_EQ(share_bar(0.8854, 40), "|" + std::string(35, '#') + std::string(5, ' ') + "|");
  EXPECT_EQ(share_bar(1.7, 4), "|####|");
  EXPECT_EQ(share_bar(-0.2, 4), "|    |");
  EXPECT_EQ(share_bar(std::nan(""), 4), "|    |");
}

TEST(CliFormat, DurationsAtAReadablePrecision) {
  EXPECT_EQ(format_duration(0.2), "200 ms");
  EXPECT_EQ(format_duration(0.0025), "2.5 ms");
  EXPECT_EQ(format_duration(0.00035), "350 µs");
  EXPECT_EQ(format_duration(1.5), "1.5 s");
  EXPECT_EQ(format_duration(10), "10 s");
  EXPECT_EQ(format_duration(0), "0 s");
  EXPECT_EQ(format_duration(-1), "-");
}

TEST(CliFormat, TopWaitNamesTheDependencyAndItsP95) {
  json doc = fixture();
  EXPECT_EQ(top_wait(doc["workloads"][0]), "net 89% orders-api p95 200 ms");
  EXPECT_EQ(top_wait(doc["workloads"][1]), "");  // absent: no verdict
  // A CPU-bound workload's top wait is the largest share other than on_cpu.
  json cpu = doc["workloads"][0];
  cpu["verdict"]["shares"] = {{"on_cpu", 0.9}, {"runqueue", 0.08}, {"net", 0.02}};
  EXPECT_EQ(top_wait(cpu), "runqueue 8%");
}

TEST(CliFormat, StatusTableHasOneAlignedRowPerWorkload) {
  const std::string table = status_table(fixture(), Style{});
  EXPECT_EQ(table,
            "agent vm · window 5.0 s · 12 windows classified · at 2026-11-25T00:51:40Z\n"
            "WORKLOAD  STATE    CLASS       CONF  MODEL    WORKERS  CORES  SLO  STABLE  TOP WAIT\n"
            "api       running  io_network  100%  threads  202      0.01   -    -       "
            "net 89% orders-api p95 200 ms\n"
            "ghost     absent   -           -     -        -        -      -    -       "
            "since 2026-11-25T00:50:00Z\n");
  EXPECT_EQ(table.find('\x1b'), std::string::npos);  // no colour unless asked
}

// The objective column says met or missed only when the agent judged it; the stable
// column how long the class has held.
TEST(CliFormat, StatusTableShowsTheObjectiveAndStability) {
  json doc = fixture();
  json& api = doc["workloads"][0];
  api["recommendation"]["slo"] = {{"met", false}};
  api["stability"] = {{"stable_for_seconds", 150.4}};
  std::string table = status_table(doc, Style{});
  EXPECT_TRUE(contains(table, "0.01   missed  2m30s   net 89%")) << table;
  api["recommendation"]["slo"]["met"] = true;
  api["stability"]["stable_for_seconds"] = 7300;
  table = status_table(doc, Style{});
  EXPECT_TRUE(contains(table, "0.01   met  2h01m   net 89%")) << table;
  api["recommendation"]["slo"]["met"] = nullptr;  // an objective, nothing measured
  api["stability"]["stable_for_seconds"] = 12;
  EXPECT_TRUE(contains(status_table(doc, Style{}), "0.01   -    12s     net")) << table;
  api["recommendation"]["slo"]["met"] = false;
  EXPECT_TRUE(contains(status_table(doc, Style{.colour = true}), "\x1b[31mmissed\x1b[0m"));
}

TEST(CliFormat, ColourOnlyWhenAskedAndColumnsStayAligned) {
  const std::string table = status_table(fixture(), Style{.colour = true});
  EXPECT_TRUE(contains(table, "\x1b[1mWORKLOAD\x1b[0m"));
  EXPECT_TRUE(contains(table, "  \x1b[36mio_network\x1b[0m  "));
  EXPECT_TRUE(contains(table, "  \x1b[31mabsent \x1b[0m  "));  // padded, then painted
  EXPECT_TRUE(contains(table, "  -           -"));             // no class: not painted
  // Without the codes, the same table.
  std::string plain = std::regex_replace(table, std::regex("\x1b\\[[0-9;]*m"), "");
  EXPECT_EQ(plain, status_table(fixture(), Style{}));
}

TEST(CliFormat, StatusWarnsOfACollectorDownOrBehind) {
  json doc = fixture();
  EXPECT_FALSE(contains(status_table(doc, Style{}), "warning:"));
  doc["collectors"] = json::array({{{"name", "procfs"},
                                    {"up", true},
                                    {"error", ""},
                                    {"rounds_per_second", 20},
                                    {"achieved_rounds_per_second", 2.14},
                                    {"behind", true}},
                                   {{"name", "ebpf"}, {"up", false}, {"error", "no CAP_BPF"}},
                                   {{"name", "node"}, {"up", true}, {"error", ""}}});
  const std::string table = status_table(doc, Style{});
  EXPECT_TRUE(contains(table,
                       "warning: collector procfs fell behind: 2.1 of 20 sampling rounds "
                       "per second; the verdicts rest on fewer samples\n"))
      << table;
  EXPECT_TRUE(contains(table, "warning: collector ebpf is down: no CAP_BPF\n")) << table;
  EXPECT_FALSE(contains(table, "collector node")) << table;
}

TEST(CliFormat, StatusTableOfAnAgentWithoutWorkloads) {
  json doc = fixture();
  doc["workloads"] = json::array();
  EXPECT_TRUE(contains(status_table(doc, Style{}), "no workloads\n"));
}

TEST(CliFormat, ExplainReadsTopToBottom) {
  json doc = fixture();
  const std::string text = explain_text(doc, doc["workloads"][0], Style{});
  EXPECT_EQ(text.rfind("api: io_network, confidence 100% (running)\n", 0), 0u) << text;
  EXPECT_TRUE(contains(text, "pids 14071 · 9 threads · 1 process · 0.01 cores used of 2\n"));
  // Every section, in reading order.
  std::size_t at = 0;
  for (
      const char* part :
      {"\nSummary\n  I/O-bound: 100% of busy thread time waits on orders-api (p95 200 ms)",
       "\nRecommendation\n  threads, 202 workers (now: threads)\n",
       "\nEvidence\n  - waits on orders-api 127.0.0.1:33169: 89% of all thread time (p95 200 ms)\n",
       "  - 8 established TCP connections\n",
       "\nDecision\n  - net 100% of busy time (next: cpu 0%)\n", "\nThread time by reason\n",
       "  net       |###################################     | 88.5%\n",
       "  idle      |####                                    | 11.1%\n",
       "  runqueue  |                                        | 0.2%\n",
       "  (the other reasons: 0%)\n", "\nDependencies\n",
       "orders-api  127.0.0.1:33169  waits 89%       p50 200 ms  p95 200 ms  p99 250 ms (procfs)\n",
       "\nRisks\n  - more concurrency moves load to the dependency"}) {
    std::size_t found = text.find(part, at);
    ASSERT_NE(found, std::string::npos) << "missing or out of order: " << part << "\n" << text;
    at = found;
  }
  // No decision-engine sections when the agent does not send them.
  EXPECT_FALSE(contains(text, "Options"));
  EXPECT_FALSE(contains(text, "Steps"));
  EXPECT_FALSE(contains(text, "chosen"));
}

TEST(CliFormat, ExplainSaysWhereInTheCodeWhenTheAgentSendsTopStacks) {
  json doc = fixture();
  EXPECT_FALSE(contains(explain_text(doc, doc["workloads"][0], Style{}), "Where in the code"));
  doc["workloads"][0]["top_stacks"] =
      json::array({{{"type", "offcpu"},
                    {"reason", "ipc"},
                    {"frames", {"read", "wait_input"}},
                    {"share", 0.92},
                    {"text", "ipc waits 92 % under read \u2190 wait_input"}},
                   {{"type", "offcpu"}, {"text", 7}}});  // not text: skipped
  const std::string text = explain_text(doc, doc["workloads"][0], Style{});
  const auto at =
      text.find("\nWhere in the code\n  - ipc waits 92 % under read \u2190 wait_input\n");
  ASSERT_NE(at, std::string::npos) << text;
  EXPECT_LT(at, text.find("\nDecision\n")) << text;  // beside the evidence
}

TEST(CliFormat, ExplainRendersOptionsChosenAndStepsWhenPresent) {
  json doc = fixture();
  json& rec = doc["workloads"][0]["recommendation"];
  rec["options"] = json::array({{{"model", "threads"},
                                 {"speedup", 4.0},
                                 {"workers", 32},
                                 {"cores", 0.5},
                                 {"memory_bytes", 125829120},
                                 {"cost_per_month", 12.5},
                                 {"risks", json::array()},
                                 {"meets_objective", true}},
                                {{"model", "processes"},
                                 {"speedup", 3.5},
                                 {"workers", 8},
                                 {"cores", 2},
                                 {"memory_bytes", nullptr},
                                 {"cost_per_month", 40},
                                 {"risks", {"fork with threads"}},
                                 {"meets_objective", false}}});
  rec["chosen"] = "threads";
  rec["steps"] = {"measure the dependency's capacity", "raise the pool to 32 threads"};
  const std::string text = explain_text(doc, doc["workloads"][0], Style{});
  EXPECT_TRUE(contains(text, "\nOptions\n")) << text;
  EXPECT_TRUE(contains(text, "* threads    4.0x     32       0.50   120.0 MiB  12.50       yes"))
      << text;
  EXPECT_TRUE(contains(text, "  processes  3.5x     8        2.00   -          40.00       no"))
      << text;
  EXPECT_TRUE(contains(text, "  risks of processes:\n    - fork with threads\n")) << text;
  EXPECT_TRUE(contains(text, "  chosen: threads\n"));
  EXPECT_TRUE(contains(text,
                       "\nSteps\n  1. measure the dependency's capacity\n"
                       "  2. raise the pool to 32 threads\n"));
  // `chosen` as an index into the options names the same model.
  rec["chosen"] = 1;
  EXPECT_TRUE(contains(explain_text(doc, doc["workloads"][0], Style{}), "  chosen: processes\n"));
}

TEST(CliFormat, ExplainAnAbsentWorkloadSaysSo) {
  json doc = fixture();
  const std::string text = explain_text(doc, doc["workloads"][1], Style{});
  EXPECT_EQ(text.rfind("ghost: absent, not classified\n", 0), 0u) << text;
  EXPECT_TRUE(contains(text, "absent since 2026-11-25T00:50:00Z\n"));
  EXPECT_FALSE(contains(text, "Summary"));
}

TEST(CliFormat, FieldsOfAnotherShapeAreSkippedNotFatal) {
  json doc = fixture();
  json odd = doc["workloads"][0];
  odd["verdict"]["shares"] = "not an object";
  odd["verdict"]["dependencies"] = {nullptr, 3, {{"name", 5}}};
  odd["recommendation"]["evidence"] = {1, nullptr, "kept"};
  odd["recommendation"]["options"] = "soon";
  const std::string text = explain_text(doc, odd, Style{});
  EXPECT_TRUE(contains(text, "  - kept\n")) << text;
  EXPECT_FALSE(contains(text, "Thread time by reason"));
  doc["workloads"] = {odd, 42, nullptr};
  EXPECT_TRUE(contains(status_table(doc, Style{}), "api "));
  EXPECT_FALSE(find_workload(doc, "nope"));
  EXPECT_TRUE(find_workload(doc, "api"));
}

}  // namespace
}  // namespace boundwise::cli
