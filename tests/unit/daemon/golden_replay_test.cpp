// Golden tests: every recording under tests/golden/recordings/ (real labelled workloads
// watched by the real agent, tests/golden/record.py) replayed through assemble →
// classify → recommend must give, window by window, the class and model the live
// agent published, and its confidence to the 4 decimals /recommend rounds to. Pure:
// reads committed files only. A failure after a classifier change means that change
// moves a real verdict: see docs/ARCHITECTURE.md ("Record and replay").
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "daemon/replay.hpp"

namespace boundwise {
namespace {

namespace fs = std::filesystem;

struct Case {
  std::string name;
  fs::path dir;
};

std::vector<Case> golden_cases() {
  std::vector<Case> cases;
  for (const auto& entry : fs::directory_iterator(BOUNDWISE_GOLDEN_DIR)) {
    if (entry.is_directory()) cases.push_back({entry.path().filename().string(), entry.path()});
  }
  std::sort(cases.begin(), cases.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  return cases;
}

TEST(GoldenReplay, TheRecordingsAreThere) {
  // The cases tests/golden/record.py records; a missing one would pass silently.
  std::set<std::string> names;
  for (const auto& c : golden_cases()) names.insert(c.name);
  for (const char* want :
       {"cpu_single", "gil_threads", "http_threads", "fsync_writer", "idle_service"}) {
    EXPECT_EQ(names.count(want), 1u) << want << " missing from " << BOUNDWISE_GOLDEN_DIR;
  }
}

TEST(GoldenReplay, EveryRecordedWindowGivesTheLiveVerdict) {
  for (const auto& c : golden_cases()) {
    SCOPED_TRACE(c.name);
    std::ifstream in(c.dir / "expected.json");
    ASSERT_TRUE(in) << "no expected.json in " << c.dir;
    nlohmann::json expected = nlohmann::json::parse(in);
    std::map<std::uint64_t, nlohmann::json> by_window;
    for (const auto& w : expected.at("windows")) {
      by_window[w.at("window").get<std::uint64_t>()] = w.at("verdicts");
    }
    int windows = 0;
    Status st = for_each_recorded_window(
        (c.dir / "recording.jsonl").string(), [&](std::size_t line, const RecordedWindow& w) {
          SCOPED_TRACE("recording.jsonl:" + std::to_string(line));
          ++windows;
          auto want = by_window.find(w.window);
          ASSERT_NE(want, by_window.end()) << "window " << w.window << " has no expected verdict";
          auto replayed = replay_window(w);
          for (const auto& [workload, verdict] : want->second.items()) {
            auto got = std::find_if(replayed.begin(), replayed.end(),
                                    [&](const auto& r) { return r.workload == workload; });
            ASSERT_NE(got, replayed.end()) << workload << " not in window " << w.window;
            EXPECT_EQ(to_string(got->verdict.bottleneck), verdict.at("class").get<std::string>())
                << workload << ", window " << w.window << ": " << got->recommendation.summary;
            EXPECT_EQ(to_string(got->recommendation.model), verdict.at("model").get<std::string>())
                << workload << ", window " << w.window;
            EXPECT_NEAR(got->verdict.confidence, verdict.at("confidence").get<double>(), 0.5e-4)
                << workload << ", window " << w.window;
          }
        });
    ASSERT_TRUE(st.ok()) << st.error().message;
    EXPECT_EQ(windows, static_cast<int>(by_window.size())) << "windows expected but not recorded";
    EXPECT_GT(windows, 0);
  }
}

}  // namespace
}  // namespace boundwise
