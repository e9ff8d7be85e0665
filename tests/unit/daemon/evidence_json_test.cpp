// Record and replay's line format: evidence → JSON → evidence is identical field for
// field (optional parts absent or present, histograms, IPv4, IPv6 and IPv4-mapped
// endpoints, NaN and infinities), assemble on the round-tripped evidence gives the
// same windows, and malformed, truncated or garbage lines give an error naming what
// is wrong, never a crash.
#include "daemon/evidence_json.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>

#include "classifier/classify.hpp"
#include "tests/unit/daemon/evidence_samples.hpp"

namespace boundwise {
namespace {

using nlohmann::json;

RecordedWindow round_trip(const RecordedWindow& w) {
  std::string line = to_record_line(w);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  auto back = parse_record_line(line);
  EXPECT_TRUE(back.ok()) << (back.ok() ? "" : back.error().message) << "\n" << line;
  return back.ok() ? *back : RecordedWindow{};
}

TEST(EvidenceJson, EveryFieldRoundTrips) {
  RecordedWindow w = test::full_window();
  RecordedWindow back = round_trip(w);
  EXPECT_TRUE(back == w);
  // Field by field too, for a readable failure.
  EXPECT_EQ(back.time, w.time);
  EXPECT_EQ(back.window, 42u);
  EXPECT_TRUE(back.rules == w.rules);
  EXPECT_TRUE(back.evidence.node == w.evidence.node);
  const auto& api = back.evidence.workloads.at("api");
  const auto& want = w.evidence.workloads.at("api");
  EXPECT_TRUE(api.sampled == want.sampled);
  EXPECT_TRUE(api.offcpu == want.offcpu);
  EXPECT_TRUE(api.net == want.net);
  EXPECT_TRUE(api.io == want.io);
  EXPECT_TRUE(api.runtime == want.runtime);
  EXPECT_EQ(api.duration_seconds, want.duration_seconds);  // exact, not near
  EXPECT_EQ(api.sampled->cpu_seconds, 1.0 / 3);
  EXPECT_EQ(api.sampled->dependencies.size(), 3u);
}

TEST(EvidenceJson, AbsentPartsStayAbsentAndEmptyPartsStayPresent) {
  RecordedWindow w = test::full_window();
  WorkloadEvidence& empty = w.evidence.workloads["empty"];
  empty.workload = "empty";
  empty.sampled.emplace();
  empty.offcpu.emplace();
  empty.net.emplace();
  empty.io.emplace();
  empty.runtime.emplace();
  RecordedWindow back = round_trip(w);
  const auto& bare = back.evidence.workloads.at("bare");
  EXPECT_FALSE(bare.sampled || bare.offcpu || bare.net || bare.io || bare.runtime);
  const auto& present = back.evidence.workloads.at("empty");
  EXPECT_TRUE(present.sampled && present.offcpu && present.net && present.io && present.runtime);
  EXPECT_FALSE(present.offcpu->runqueue_latency);
  EXPECT_TRUE(back == w);

  json j = json::parse(to_record_line(w));
  EXPECT_FALSE(j["workloads"]["bare"].contains("sampled"));  // absent, not null
  EXPECT_TRUE(j["workloads"]["empty"]["offcpu"].is_object());
  // null reads as absent too.
  j["workloads"]["bare"]["net"] = nullptr;
  auto read = parse_record_line(j.dump());
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_FALSE(read->evidence.workloads.at("bare").net);
}

TEST(EvidenceJson, HistogramsAreSlotArraysAndSum) {
  RecordedWindow w = test::full_window();
  json j = json::parse(to_record_line(w));
  const json& rq = j["workloads"]["api"]["offcpu"]["runqueue_latency"];
  std::size_t last = latency_slot(3'000'000);  // 3 ms, the largest sample
  ASSERT_EQ(rq["slots"].size(), last + 1);     // trailing empty slots left out
  EXPECT_EQ(rq["slots"][last], 1);
  EXPECT_EQ(rq["slots"][latency_slot(1000)], 1);
  EXPECT_DOUBLE_EQ(rq["sum_seconds"].get<double>(), 1e-6 + 2e-6 + 3e-3);
  const json& empty = j["workloads"]["api"]["net"]["dependencies"]["[::1]:6379"];
  EXPECT_EQ(empty["request_latency"]["slots"], json::array());
  EXPECT_EQ(
      j["workloads"]["api"]["net"]["dependencies"]["[fe80::1]:8080"]["request_latency"]["slots"]
          .size(),
      kLatencySlots);
  auto back = round_trip(w);
  EXPECT_EQ(back.evidence.workloads.at("api")
                .net->dependencies.at(test::endpoint("[::1]:6379"))
                .request_latency.slots.size(),
            kLatencySlots);
}

TEST(EvidenceJson, EndpointsKeepTheirFamily) {
  RecordedWindow w = test::full_window();
  json j = json::parse(to_record_line(w));
  const json& deps = j["workloads"]["api"]["sampled"]["dependencies"];
  EXPECT_TRUE(deps.contains("10.0.0.5:5432"));
  EXPECT_TRUE(deps.contains("[2001:db8::7]:443"));
  EXPECT_TRUE(deps.contains("[::ffff:10.0.0.5]:5432"));
  auto back = round_trip(w);
  const auto& sampled = *back.evidence.workloads.at("api").sampled;
  auto mapped = sampled.dependencies.find(test::endpoint("[::ffff:10.0.0.5]:5432"));
  ASSERT_NE(mapped, sampled.dependencies.end());
  EXPECT_EQ(mapped->first.address.family, IpAddress::Family::v6);
  EXPECT_EQ(mapped->second.wait_seconds, 0.25);
  // Port 0 (Endpoint::parse refuses it) is kept as the collectors saw it.
  w.evidence.workloads["api"].sampled->dependencies[Endpoint{IpAddress{}, 0}] = {1, {}};
  EXPECT_TRUE(round_trip(w) == w);
}

TEST(EvidenceJson, NonFiniteNumbersRoundTrip) {
  RecordedWindow w = test::small_window(1);
  auto& s = *w.evidence.workloads["cpu"].sampled;
  s.cpu_seconds = std::numeric_limits<double>::quiet_NaN();
  s.runqueue_seconds = std::numeric_limits<double>::infinity();
  s.thread_seconds[0] = -std::numeric_limits<double>::infinity();
  w.evidence.node.load1 = -0.5;  // negative values are kept: assemble sanitises
  json j = json::parse(to_record_line(w));
  EXPECT_EQ(j["workloads"]["cpu"]["sampled"]["cpu_seconds"], "nan");
  auto back = round_trip(w);
  const auto& b = *back.evidence.workloads.at("cpu").sampled;
  EXPECT_TRUE(std::isnan(b.cpu_seconds));
  EXPECT_EQ(b.runqueue_seconds, std::numeric_limits<double>::infinity());
  EXPECT_EQ(b.thread_seconds[0], -std::numeric_limits<double>::infinity());
  EXPECT_EQ(back.evidence.node.load1, -0.5);
}

TEST(EvidenceJson, AssembleOnTheRoundTripGivesTheSameWindows) {
  for (const RecordedWindow& w : {test::full_window(), test::small_window(3)}) {
    RecordedWindow back = round_trip(w);
    auto before = assemble(w.evidence, w.rules);
    auto after = assemble(back.evidence, back.rules);
    ASSERT_EQ(before.size(), after.size());
    for (const auto& [name, win] : before) {
      EXPECT_TRUE(after.at(name) == win) << name;
      Verdict v1 = classify(win);
      Verdict v2 = classify(after.at(name));
      EXPECT_EQ(v1.bottleneck, v2.bottleneck);
      EXPECT_EQ(v1.confidence, v2.confidence);
      EXPECT_EQ(recommend(v1, win).summary, recommend(v2, after.at(name)).summary);
    }
  }
  // The rules in the line are the ones applied: "orders-db" names the v4 endpoint, and
  // the cap of 2 folds the third dependency into "other".
  auto windows = assemble(test::full_window().evidence, round_trip(test::full_window()).rules);
  const auto& deps = windows.at("api").dependencies;
  ASSERT_EQ(deps.size(), 3u);
  EXPECT_EQ(deps.back().name, "other");
  EXPECT_TRUE(
      std::any_of(deps.begin(), deps.end(), [](const auto& d) { return d.name == "orders-db"; }));
}

TEST(EvidenceJson, TimeFormat) {
  auto t = std::chrono::system_clock::time_point(std::chrono::milliseconds(1777777777123));
  EXPECT_EQ(format_record_time(t), "2026-05-03T03:09:37.123Z");
  EXPECT_EQ(parse_record_time("2026-05-03T03:09:37.123Z"), t);
  EXPECT_TRUE(parse_record_time("1970-01-01T00:00:00.000Z"));
  EXPECT_TRUE(parse_record_time("2261-12-31T23:59:59.999Z"));
  for (const char* bad :
       {"", "2026-05-03T03:09:37Z", "2026-05-03 03:09:37.123Z", "2026-13-03T03:09:37.123Z",
        "2026-05-03T03:09:37.123+", "x", "2026-02-30T00:00:00.000Z", "9999-12-31T23:59:59.999Z",
        "0001-01-01T00:00:00.000Z", "2026-12-31T23:59:60.999Z", "+026-05-03T03:09:37.123Z",
        "2026-05-03T03:09:37.-12Z"}) {
    EXPECT_FALSE(parse_record_time(bad)) << bad;
  }
}

// (line, phrase the error must contain)
struct BadLine {
  std::string line;
  std::string phrase;
};

TEST(EvidenceJson, MalformedLinesSayWhatIsWrong) {
  json good = json::parse(to_record_line(test::full_window()));
  auto with = [&](const std::function<void(json&)>& change) {
    json j = good;
    change(j);
    return j.dump();
  };
  std::vector<BadLine> cases = {
      {"", "not a JSON value"},
      {"{\"version\":1", "not a JSON value"},
      {"[1,2]", "not a recorded window"},
      {"{}", "no \"version\""},
      {with([](json& j) { j["version"] = 2; }), "version 2"},
      {with([](json& j) { j["version"] = "1"; }), "version: expected a 32-bit integer"},
      {with([](json& j) { j["colour"] = 1; }), "unknown field \"colour\""},
      {with([](json& j) { j["time"] = "yesterday"; }), "time: expected \"YYYY"},
      {with([](json& j) { j["window"] = -1; }), "window: expected a non-negative integer"},
      {with([](json& j) { j["workloads"]["api"]["sampled"]["colour"] = 1; }),
       "workloads[\"api\"].sampled: unknown field \"colour\""},
      {with([](json& j) { j["workloads"]["api"]["sampled"]["threads"] = "3"; }),
       "workloads[\"api\"].sampled.threads: expected a 32-bit integer, got string \"3\""},
      {with([](json& j) { j["workloads"]["api"]["sampled"]["threads"] = 1e12; }),
       "expected a 32-bit integer"},
      {with([](json& j) { j["workloads"]["api"]["sampled"]["major_faults"] = -1; }),
       "major_faults: expected a non-negative integer"},
      {with([](json& j) { j["workloads"]["api"]["sampled"]["cpu_seconds"] = "lots"; }),
       "cpu_seconds: expected a number"},
      {with([](json& j) { j["workloads"]["api"]["sampled"]["event_loop"] = 1; }),
       "event_loop: expected true or false"},
      {with([](json& j) {
         j["workloads"]["api"]["sampled"]["pids"] = {1, "2"};
       }),
       "sampled.pids[1]: expected a 32-bit integer"},
      {with([](json& j) { j["workloads"]["api"]["sampled"]["thread_seconds"]["napping"] = 1; }),
       "unknown reason \"napping\""},
      {with([](json& j) { j["workloads"]["api"]["sampled"]["dependencies"]["db:5432"] = {}; }),
       "bad endpoint \"db:5432\""},
      {with([](json& j) { j["workloads"]["api"]["sampled"]["dependencies"]["::1:80"] = {}; }),
       "bad endpoint"},
      {with([](json& j) { j["workloads"]["api"]["sampled"]["dependencies"]["[::1]:99999"] = {}; }),
       "bad endpoint"},
      {with([](json& j) {
         j["workloads"]["api"]["net"]["dependencies"]["[0::1]:6379"] = json::object();
       }),
       "given twice"},
      {with([](json& j) {
         j["workloads"]["api"]["offcpu"]["runqueue_latency"]["slots"] =
             std::vector<int>(kLatencySlots + 1, 1);
       }),
       "offcpu.runqueue_latency.slots: 209 slots, at most 208"},
      {with([](json& j) {
         j["workloads"]["api"]["io"]["disk_latency"] = {1, 2};
       }),
       "io.disk_latency: expected a histogram"},
      {with([](json& j) { j["workloads"]["api"]["runtime"] = 7; }),
       "workloads[\"api\"].runtime: expected an object"},
      {with([](json& j) { j["workloads"] = json::array(); }), "workloads: expected an object"},
      {with([](json& j) { j["node"]["ebpf_duty"]["sched"] = true; }),
       "node.ebpf_duty[\"sched\"]: expected a number"},
      {with([](json& j) { j["rules"]["dependencies"][0]["endpoint"] = "10.0.0.0/33:5432"; }),
       "rules.dependencies[0]: endpoint \"10.0.0.0/33:5432\": bad prefix length"},
      {with([](json& j) {
         j["rules"]["dependencies"][0] = {{"name", "x"}};
       }),
       "rules.dependencies[0]: expected {\"name\""},
  };
  for (const auto& c : cases) {
    auto r = parse_record_line(c.line);
    ASSERT_FALSE(r.ok()) << c.line;
    EXPECT_NE(r.error().message.find(c.phrase), std::string::npos)
        << "error: " << r.error().message << "\nwant: " << c.phrase;
  }
}

TEST(EvidenceJson, TruncatedAndGarbageLinesNeverCrash) {
  const std::string line = to_record_line(test::full_window());
  // Every prefix (a line cut off while being written) is an error, not a crash.
  for (std::size_t n = 0; n < line.size(); ++n) {
    EXPECT_FALSE(parse_record_line(std::string_view(line).substr(0, n)).ok()) << n;
  }
  // Random byte changes, insertions and deletions: an error, or a window that writes
  // back and assembles.
  std::mt19937 rng(12345);
  using namespace std::string_literals;
  const std::string alphabet = "{}[]\":,0123456789-.eE+ntrufalsx\\\x00\xff"s;
  int parsed = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string mutated = line;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      std::size_t at = rng() % mutated.size();
      char c = alphabet[rng() % alphabet.size()];
      switch (rng() % 3) {
        case 0:
          mutated[at] = c;
          break;
        case 1:
          mutated.insert(mutated.begin() + static_cast<long>(at), c);
          break;
        default:
          mutated.erase(at, 1 + rng() % 8);
      }
    }
    auto r = parse_record_line(mutated);
    if (r.ok()) {
      ++parsed;
      (void)to_record_line(*r);
      (void)assemble(r->evidence, r->rules);
    } else {
      EXPECT_FALSE(r.error().message.empty());
    }
  }
  EXPECT_GT(parsed, 0);  // some mutations only change a number: still a window
  for (const char* garbage :
       {"null", "true", "1", "\"x\"", "{\"version\":1,\"workloads\":{\"a\":null}}",
        "{\"version\":1,\"time\":\"2026-05-03T03:09:37.123Z\",\"workloads\":{\"a\":{}}}",
        "\xef\xbb\xbf{}", "{\"version\":1e999}", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}) {
    auto r = parse_record_line(garbage);
    if (r.ok()) (void)assemble(r->evidence, r->rules);
  }
  std::string deep(100000, '[');
  EXPECT_FALSE(parse_record_line(deep).ok());
  // Deep nesting that is valid JSON, where a field wants something else: the error
  // describes it without walking it.
  const std::string nested = std::string(200000, '[') + std::string(200000, ']');
  for (const std::string& text : {"{\"version\":1,\"time\":" + nested + "}",
                                  "{\"version\":1,\"workloads\":{\"a\":" + nested + "}}",
                                  "{\"version\":1,\"node\":{\"cores\":" + nested + "}}"}) {
    auto r = parse_record_line(text);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("got an array of 1"), std::string::npos) << r.error().message;
  }
}

}  // namespace
}  // namespace boundwise
