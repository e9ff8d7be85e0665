// The /recommend document against its contract in docs/API.md: every required field
// with its type, null verdicts before the first window, finite numbers whatever the
// input, the timestamp format, extras, and the single-workload form.
#include "daemon/recommend_json.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

#include "classifier/classify.hpp"
#include "classifier/top_stacks.hpp"
#include "daemon/http_handler.hpp"

namespace boundwise {
namespace {

using nlohmann::json;

WorkloadReport io_bound(const std::string& name) {
  WorkloadReport r;
  r.name = name;
  r.pids = {4242, 4250};
  r.threads = 9;
  WorkloadWindow w;
  w.workload = name;
  w.duration_seconds = 10;
  w.sample_rounds = 50;
  w.threads = 9;
  w.processes = 2;
  w.node.cores = 2;
  w.thread_seconds[index_of(Reason::net)] = 76.5;
  w.thread_seconds[index_of(Reason::on_cpu)] = 4.5;
  w.thread_seconds[index_of(Reason::idle)] = 9;
  w.cpu_seconds = 4.5;
  w.established_connections = 8;
  w.memory.rss_bytes = 100u << 20;
  w.memory.pss_bytes = 70u << 20;
  w.memory.uss_bytes = 0;  // smaps_rollup unreadable
  w.runtime.kind = "python";
  w.runtime.version = "3.12.1";
  DependencyWindow db;
  db.name = "orders-db";
  db.endpoint = "10.0.0.5:5432";
  db.wait_seconds = 72;
  db.blocked_intervals_seconds = {0.2, 0.21, 0.22, 0.2};
  DependencyWindow other;
  other.name = "other";
  other.wait_seconds = 4.5;  // no complete wait seen: latency unknown
  w.dependencies = {db, other};
  finalize_window(w);
  r.verdict = classify(w);
  r.recommendation = recommend(*r.verdict, w);
  r.window = w;
  return r;
}

Snapshot snapshot_with(std::vector<WorkloadReport> workloads) {
  Snapshot s;
  s.host = "web-3";
  using namespace std::chrono;
  s.generated_at = sys_days{year{2026} / 11 / 24} + hours{22} + minutes{10} + seconds{2};
  s.window_seconds = 10;
  s.windows_completed = 42;
  s.node.cores = 2;
  s.node.cpu_busy_ratio = 0.3;
  s.node.load1 = 0.8;
  s.collectors = {CollectorStatus{"procfs", true, 0.002, ""},
                  CollectorStatus{"ebpf", false, 0, "bpf(): Operation not permitted"}};
  s.workloads = std::move(workloads);
  return s;
}

void expect_number(const json& j, const std::string& where) {
  EXPECT_TRUE(j.is_number()) << where << " = " << j.dump();
  if (j.is_number()) {
    EXPECT_TRUE(std::isfinite(j.get<double>())) << where;
  }
}

TEST(RecommendJson, ACollectorThatFellBehindSaysSoWithBothRates) {
  Snapshot s = snapshot_with({io_bound("api")});
  s.collectors[0].rounds_per_second = 20;
  s.collectors[0].achieved_rounds_per_second = 2.1449;
  s.collectors[0].behind = true;
  auto doc = recommend_document(s);
  const json& procfs = doc["collectors"][0];
  EXPECT_EQ(procfs["rounds_per_second"], 20);
  EXPECT_EQ(procfs["achieved_rounds_per_second"], 2.14);
  EXPECT_EQ(procfs["behind"], true);
  EXPECT_FALSE(doc["collectors"][1].contains("rounds_per_second"));
}

TEST(RecommendJson, TopLevelContract) {
  auto doc = recommend_document(snapshot_with({io_bound("api")}));
  EXPECT_EQ(doc["host"], "web-3");
  EXPECT_EQ(doc["generated_at"], "2026-11-24T22:10:02Z");
  EXPECT_EQ(doc["window_seconds"], 10);
  EXPECT_EQ(doc["windows_completed"], 42);
  ASSERT_TRUE(doc["workloads"].is_array());
  ASSERT_EQ(doc["workloads"].size(), 1u);
  ASSERT_TRUE(doc["collectors"].is_array());
  ASSERT_EQ(doc["collectors"].size(), 2u);
  EXPECT_EQ(doc["collectors"][1]["name"], "ebpf");
  EXPECT_EQ(doc["collectors"][1]["up"], false);
  EXPECT_EQ(doc["collectors"][1]["error"], "bpf(): Operation not permitted");
  EXPECT_FALSE(doc["collectors"][0].contains("behind"));  // no period set: no rates
  EXPECT_EQ(doc["node"]["cores"], 2);
  expect_number(doc["node"]["load1"], "node.load1");
}

TEST(RecommendJson, SchemaVersionIsTheCommittedSchemas) {
  // docs/recommend.schema.json describes this version; the integration tier validates
  // live answers against it (tests/integration/cli.py).
  std::ifstream in(BOUNDWISE_DOCS_DIR "/recommend.schema.json");
  ASSERT_TRUE(in) << "docs/recommend.schema.json";
  const auto schema = nlohmann::json::parse(in);
  auto doc = recommend_document(snapshot_with({io_bound("api")}));
  EXPECT_EQ(doc["schema_version"], kRecommendSchemaVersion);
  EXPECT_EQ(schema["properties"]["schema_version"]["const"], kRecommendSchemaVersion);
  // Every top-level field is in the schema and every required one is in the document.
  for (const auto& [key, value] : doc.items()) {
    EXPECT_TRUE(schema["properties"].contains(key)) << key << " is not in the schema";
  }
  for (const auto& key : schema["required"]) EXPECT_TRUE(doc.contains(key)) << key;
  for (const auto& [key, value] : doc["workloads"][0].items()) {
    EXPECT_TRUE(schema["$defs"]["workload"]["properties"].contains(key))
        << "workloads[]." << key << " is not in the schema";
  }
}

TEST(RecommendJson, WorkloadContract) {
  auto doc = recommend_document(snapshot_with({io_bound("api")}));
  const json& w = doc["workloads"][0];
  EXPECT_EQ(w["workload"], "api");
  EXPECT_EQ(w["pids"], json({4242, 4250}));
  EXPECT_TRUE(w["threads"].is_number_integer());
  EXPECT_EQ(w["threads"], 9);

  const json& v = w["verdict"];
  ASSERT_TRUE(v.is_object());
  EXPECT_TRUE(v["class"].is_string());
  EXPECT_TRUE(bottleneck_from_string(v["class"].get<std::string>()).has_value());
  expect_number(v["confidence"], "confidence");
  EXPECT_GE(v["confidence"].get<double>(), 0.0);
  EXPECT_LE(v["confidence"].get<double>(), 1.0);
  expect_number(v["cpu_cores_used"], "cpu_cores_used");
  ASSERT_TRUE(v["shares"].is_object());
  EXPECT_EQ(v["shares"].size(), kReasonCount);
  double sum = 0;
  for (Reason r : kAllReasons) {
    const json& share = v["shares"][std::string(to_string(r))];
    expect_number(share, std::string(to_string(r)));
    sum += share.get<double>();
  }
  EXPECT_NEAR(sum, 1.0, 1e-3);
  EXPECT_NEAR(v["shares"]["net"].get<double>(), 76.5 / 90, 1e-4);
  EXPECT_TRUE(v["busy_shares"].is_object());
  EXPECT_TRUE(v["rationale"].is_array());

  ASSERT_TRUE(v["dependencies"].is_array());
  ASSERT_EQ(v["dependencies"].size(), 2u);
  const json& db = v["dependencies"][0];  // by wait_share, descending
  EXPECT_EQ(db["name"], "orders-db");
  EXPECT_EQ(db["endpoint"], "10.0.0.5:5432");
  EXPECT_NEAR(db["wait_share"].get<double>(), 72.0 / 90, 1e-4);
  for (const char* q : {"p50", "p95", "p99"}) expect_number(db["latency_seconds"][q], q);
  EXPECT_LE(db["latency_seconds"]["p50"].get<double>(), db["latency_seconds"]["p99"].get<double>());
  EXPECT_GE(db["latency_seconds"]["p50"].get<double>(), 0.2);
  EXPECT_TRUE(v["dependencies"][1]["latency_seconds"].is_null());

  EXPECT_EQ(w["node"]["cores"], 2);
  EXPECT_NEAR(w["node"]["cpu_busy_ratio"].get<double>(), 0.3, 1e-9);

  const json& rec = w["recommendation"];
  ASSERT_TRUE(rec.is_object());
  EXPECT_TRUE(model_from_string(rec["model"].get<std::string>()).has_value());
  EXPECT_TRUE(rec["workers"].is_number_integer());
  EXPECT_TRUE(rec["summary"].is_string());
  EXPECT_FALSE(rec["summary"].get<std::string>().empty());
  EXPECT_TRUE(rec["evidence"].is_array());
  EXPECT_TRUE(rec["risks"].is_array());
  // The document agrees with what the classifier said.
  EXPECT_EQ(v["class"], std::string(to_string(io_bound("api").verdict->bottleneck)));
  EXPECT_EQ(rec["model"], std::string(to_string(io_bound("api").recommendation->model)));
}

// Where the time goes in the code: null without stacks, else type, reason, frames,
// share and the sentence (classifier/top_stacks.hpp).
TEST(RecommendJson, TopStacksWhenTheStacksCollectorRuns) {
  auto without = recommend_document(snapshot_with({io_bound("api")}));
  EXPECT_TRUE(without["workloads"][0]["top_stacks"].is_null());
  WorkloadReport r = io_bound("api");
  TopStack t;
  t.reason = Reason::net;
  t.detail = "orders-db";
  t.frames = {"recv", "fetch", "handle"};
  t.share = 0.91666666;
  r.top_stacks = std::vector<TopStack>{t};
  auto doc = recommend_document(snapshot_with({r}));
  const json& top = doc["workloads"][0]["top_stacks"];
  ASSERT_TRUE(top.is_array());
  ASSERT_EQ(top.size(), 1u);
  EXPECT_EQ(top[0]["type"], "offcpu");
  EXPECT_EQ(top[0]["reason"], "net");
  EXPECT_EQ(top[0]["dependency"], "orders-db");
  EXPECT_EQ(top[0]["frames"], json({"recv", "fetch", "handle"}));
  EXPECT_DOUBLE_EQ(top[0]["share"].get<double>(), 0.9167);
  EXPECT_EQ(top[0]["text"], "net waits on orders-db 92 % under recv \u2190 fetch \u2190 handle");
  r.top_stacks->front().reason = Reason::on_cpu;
  r.top_stacks->front().detail.clear();
  auto cpu = recommend_document(snapshot_with({r}))["workloads"][0]["top_stacks"][0];
  EXPECT_EQ(cpu["type"], "cpu");
  EXPECT_TRUE(cpu["dependency"].is_null());
}

TEST(RecommendJson, Extras) {
  auto doc = recommend_document(snapshot_with({io_bound("api")}));
  const json& w = doc["workloads"][0];
  EXPECT_EQ(w["processes"], 2);
  EXPECT_EQ(w["established_connections"], 8);
  EXPECT_EQ(w["event_loop"], false);
  EXPECT_EQ(w["memory_bytes"]["rss"], 100u << 20);
  EXPECT_EQ(w["memory_bytes"]["pss"], 70u << 20);
  EXPECT_TRUE(w["memory_bytes"]["uss"].is_null());  // unknown, not 0
  EXPECT_EQ(w["runtime"]["kind"], "python");
  EXPECT_EQ(w["runtime"]["version"], "3.12.1");
  EXPECT_EQ(w["window"]["sample_rounds"], 50);
  expect_number(w["window"]["cpu_seconds"], "window.cpu_seconds");
}

TEST(RecommendJson, NullVerdictBeforeTheFirstWindow) {
  WorkloadReport fresh;
  fresh.name = "new";
  fresh.pids = {7};
  fresh.threads = 1;
  auto doc = recommend_document(snapshot_with({fresh}));
  const json& w = doc["workloads"][0];
  EXPECT_EQ(w["workload"], "new");
  EXPECT_EQ(w["pids"], json({7}));
  ASSERT_TRUE(w.contains("verdict"));
  ASSERT_TRUE(w.contains("recommendation"));
  EXPECT_TRUE(w["verdict"].is_null());
  EXPECT_TRUE(w["recommendation"].is_null());
  EXPECT_FALSE(w.contains("window"));
  EXPECT_TRUE(w["node"].is_object());
}

TEST(RecommendJson, NoNaNOrInfinityEverReachesTheDocument) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  auto w = io_bound("api");
  w.verdict->confidence = nan;
  w.verdict->cpu_cores_used = inf;
  for (double& share : w.verdict->shares) share = nan;
  w.verdict->busy_shares[0] = -inf;
  ASSERT_TRUE(w.verdict->dependencies[0].latency.has_value());
  w.verdict->dependencies[0].wait_share = nan;
  w.verdict->dependencies[0].latency->p99 = inf;
  w.window->cpu_seconds = nan;
  w.window->duration_seconds = 1e308;  // overflows when scaled for rounding
  Snapshot s = snapshot_with({w});
  s.window_seconds = nan;
  s.node.cpu_busy_ratio = inf;
  s.node.load1 = nan;
  std::string text = render_recommend(s);
  auto doc = json::parse(text);
  const json& v = doc["workloads"][0]["verdict"];
  expect_number(doc["window_seconds"], "window_seconds");
  expect_number(doc["node"]["cpu_busy_ratio"], "node.cpu_busy_ratio");
  expect_number(doc["node"]["load1"], "node.load1");
  expect_number(v["confidence"], "confidence");
  expect_number(v["cpu_cores_used"], "cpu_cores_used");
  for (auto& [reason, share] : v["shares"].items()) expect_number(share, reason);
  for (auto& [reason, share] : v["busy_shares"].items()) expect_number(share, reason);
  expect_number(v["dependencies"][0]["wait_share"], "wait_share");
  expect_number(v["dependencies"][0]["latency_seconds"]["p99"], "p99");
  expect_number(doc["workloads"][0]["window"]["cpu_seconds"], "window.cpu_seconds");
  expect_number(doc["workloads"][0]["window"]["duration_seconds"], "window.duration_seconds");
  EXPECT_EQ(doc["workloads"][0]["window"]["duration_seconds"].get<double>(), 1e308);
}

TEST(RecommendJson, NumbersAreRoundedForPeople) {
  auto w = io_bound("api");
  w.verdict->shares[index_of(Reason::net)] = 0.123456789;
  auto doc = recommend_document(snapshot_with({w}));
  EXPECT_EQ(doc["workloads"][0]["verdict"]["shares"]["net"].get<double>(), 0.1235);
}

TEST(RecommendJson, SyscallAndDiskSectionsWhenTheEbpfToolsMeasured) {
  auto r = io_bound("api");
  EXPECT_FALSE(recommend_document(snapshot_with({r}))["workloads"][0].contains("syscalls"));
  LatencyHistogram sleep;
  for (int i = 0; i < 10; ++i) sleep.add(0.05);
  r.window->syscall_latency["sleep"] = sleep;
  r.window->disk_latency = LatencyHistogram{};  // attached, nothing submitted
  auto snap = snapshot_with({r});
  snap.node.ebpf_duty = {{"syscalls", 0.25}, {"disk", 1.0}};
  auto w = recommend_document(snap)["workloads"][0];
  EXPECT_EQ(w["syscalls"]["source"], "ebpf");
  EXPECT_EQ(w["syscalls"]["attached_share"], 0.25);
  EXPECT_EQ(w["syscalls"]["classes"]["sleep"]["calls"], 10);
  double p95 = w["syscalls"]["classes"]["sleep"]["latency_seconds"]["p95"].get<double>();
  EXPECT_NEAR(p95, 0.05, 0.05 * 0.07);
  EXPECT_FALSE(w["syscalls"]["classes"].contains("read"));
  EXPECT_EQ(w["disk"]["requests"], 0);
  EXPECT_TRUE(w["disk"]["latency_seconds"].is_null());
  EXPECT_EQ(w["disk"]["attached_share"], 1.0);
}

TEST(RecommendJson, OnlyOneWorkload) {
  auto s = snapshot_with({io_bound("api"), io_bound("batch"), io_bound("cron")});
  auto doc = recommend_document(s, std::string("batch"));
  ASSERT_EQ(doc["workloads"].size(), 1u);
  EXPECT_EQ(doc["workloads"][0]["workload"], "batch");
  EXPECT_EQ(doc["host"], "web-3");  // the rest of the document is unchanged
  EXPECT_EQ(recommend_document(s)["workloads"].size(), 3u);
}

TEST(RecommendJson, InvalidUtf8NamesStillRenderValidJson) {
  auto w = io_bound(std::string("py\xFF\xFEthon", 8));
  std::string text;
  ASSERT_NO_THROW(text = render_recommend(snapshot_with({w})));
  json doc;
  ASSERT_NO_THROW(doc = json::parse(text));
  EXPECT_TRUE(doc["workloads"][0]["workload"].is_string());
}

TEST(RecommendJson, KubernetesIdsOfAPodWorkloadAndNullElsewhere) {
  auto pod = io_bound("python3@pod-3f1c8a2e/8d2c5e1f4a7b");
  pod.pod = PodContainer{"3f1c8a2e-5b7d-4c1e-9a0f-2d6e8b4c7a91",
                         "8d2c5e1f4a7b9c3e6d0f2a5b8c1e4d7f0a3b6c9e2d5f8a1b4c7e0d3f6a9b2c5e",
                         "containerd", "Burstable"};
  auto pod_only = io_bound("web");
  pod_only.pod = PodContainer{"3f1c8a2e-5b7d-4c1e-9a0f-2d6e8b4c7a91", "", "", ""};
  auto doc = recommend_document(snapshot_with({io_bound("api"), pod, pod_only}));
  const json& k = doc["workloads"][1]["kubernetes"];
  ASSERT_TRUE(k.is_object()) << doc.dump(2);
  EXPECT_EQ(k["pod_uid"], "3f1c8a2e-5b7d-4c1e-9a0f-2d6e8b4c7a91");
  EXPECT_EQ(k["container_id"], "8d2c5e1f4a7b9c3e6d0f2a5b8c1e4d7f0a3b6c9e2d5f8a1b4c7e0d3f6a9b2c5e");
  EXPECT_EQ(k["container_runtime"], "containerd");
  EXPECT_EQ(k["qos_class"], "Burstable");
  const json& k2 = doc["workloads"][2]["kubernetes"];
  EXPECT_EQ(k2["pod_uid"], "3f1c8a2e-5b7d-4c1e-9a0f-2d6e8b4c7a91");
  EXPECT_TRUE(k2["container_id"].is_null());
  EXPECT_TRUE(k2["container_runtime"].is_null());
  EXPECT_TRUE(k2["qos_class"].is_null());
  ASSERT_TRUE(doc["workloads"][0].contains("kubernetes"));
  EXPECT_TRUE(doc["workloads"][0]["kubernetes"].is_null());
}

}  // namespace
}  // namespace boundwise

namespace boundwise {
namespace {

// The ebpf net tool's numbers: inbound p50/p95/p99 in ms and requests/s, and which
// source a dependency's latency came from.
TEST(RecommendJson, InboundAndMeasuredDependencyLatency) {
  auto r = io_bound("api");
  EXPECT_TRUE(
      recommend_document(snapshot_with({r}), std::nullopt)["workloads"][0]["inbound"].is_null());
  WorkloadWindow w = *r.window;
  w.inbound_latency = LatencyHistogram{};
  for (int i = 0; i < 100; ++i) w.inbound_latency->add(0.2);
  w.inbound_requests = 400;  // over the 10 s window
  w.dependencies[0].request_latency = LatencyHistogram{};
  for (int i = 0; i < 50; ++i) w.dependencies[0].request_latency->add(0.05);
  w.dependencies[0].requests = 50;
  w.dependencies[0].latency.reset();
  finalize_window(w);
  r.verdict = classify(w);
  r.window = w;
  json doc = recommend_document(snapshot_with({r}), std::nullopt);
  const json& in = doc["workloads"][0]["inbound"];
  ASSERT_TRUE(in.is_object()) << doc.dump(2);
  EXPECT_NEAR(in["latency_seconds"]["p95"].get<double>(), 0.2, 0.02);
  EXPECT_NEAR(in["latency_seconds"]["p50"].get<double>(), 0.2, 0.02);
  EXPECT_FALSE(in.contains("p95_ms"));  // one unit across the API: seconds
  EXPECT_DOUBLE_EQ(in["requests_per_second"].get<double>(), 40);
  EXPECT_TRUE(in["latency_from_arrival_seconds"].is_null());  // nobody waited for accept()
  EXPECT_DOUBLE_EQ(in["arrivals_per_second"].get<double>(), 0);
  // Connections queued for accept(): their latency from arrival, and the arrival rate.
  w.inbound_total_latency = LatencyHistogram{};
  for (int i = 0; i < 100; ++i) w.inbound_total_latency->add(1.5);
  w.inbound_arrivals = 900;
  r.window = w;
  const json queued =
      recommend_document(snapshot_with({r}), std::nullopt)["workloads"][0]["inbound"];
  EXPECT_NEAR(queued["latency_from_arrival_seconds"]["p95"].get<double>(), 1.5, 0.15);
  EXPECT_DOUBLE_EQ(queued["arrivals_per_second"].get<double>(), 90);
  const json& db = doc["workloads"][0]["verdict"]["dependencies"][0];
  EXPECT_EQ(db["latency_source"], "ebpf");
  EXPECT_NEAR(db["latency_seconds"]["p95"].get<double>(), 0.05, 0.005);
  EXPECT_DOUBLE_EQ(db["requests_per_second"].get<double>(), 5);
  EXPECT_EQ(doc["workloads"][0]["verdict"]["dependencies"][1]["latency_source"], "procfs");
}

}  // namespace
}  // namespace boundwise

namespace boundwise {
namespace {

// Options: each model once, keep first, the chosen one among them; money only with
// prices; the four steps.
TEST(RecommendJson, OptionsChosenAndSteps) {
  auto doc = recommend_document(snapshot_with({io_bound("api")}));
  const json& r = doc["workloads"][0]["recommendation"];
  ASSERT_TRUE(r["options"].is_array());
  ASSERT_EQ(r["options"].size(), 6u);  // Python: free_threaded included
  EXPECT_EQ(r["options"][0]["model"], "keep");
  EXPECT_EQ(r["chosen"], r["model"]);
  bool chosen_listed = false;
  for (const json& o : r["options"]) {
    chosen_listed |= o["model"] == r["chosen"];
    for (const char* key : {"speedup", "cores"}) expect_number(o[key], key);
    EXPECT_TRUE(o["workers"].is_number_integer());
    EXPECT_TRUE(o["basis"].is_string() && !o["basis"].get<std::string>().empty());
    EXPECT_TRUE(o["memory_bytes"].is_number_unsigned()) << o.dump();
    EXPECT_TRUE(o["cost_per_month"].is_null());
    EXPECT_TRUE(o["risks"].is_array());
  }
  EXPECT_TRUE(chosen_listed);
  EXPECT_TRUE(r["currency"].is_null());
  ASSERT_EQ(r["steps"].size(), 4u);
  EXPECT_EQ(r["steps"][3].get<std::string>().rfind("align: threads", 0), 0u) << r["steps"][3];

  auto priced = io_bound("api");
  priced.recommendation =
      recommend(*priced.verdict, *priced.window, {.prices = Prices{.cpu_core_hour = 0.04}});
  doc = recommend_document(snapshot_with({priced}));
  const json& p = doc["workloads"][0]["recommendation"];
  EXPECT_EQ(p["currency"], "USD");
  expect_number(p["options"][0]["cost_per_month"], "cost_per_month");
  EXPECT_NEAR(p["options"][0]["cost_per_month"].get<double>(), 0.45 * 0.04 * 730, 0.01);
}

// The objective: what was asked, what the window measured (and of what), met or not;
// null without one, and each option says whether it is projected to meet it.
TEST(RecommendJson, ObjectiveStatus) {
  auto r = io_bound("api");
  auto doc = recommend_document(snapshot_with({r}));
  EXPECT_TRUE(doc["workloads"][0]["recommendation"]["slo"].is_null());
  EXPECT_TRUE(doc["workloads"][0]["recommendation"]["options"][0]["meets_objective"].is_null());
  r.recommendation = recommend(*r.verdict, *r.window, {.objective = {.latency_p95_seconds = 0.1}});
  doc = recommend_document(snapshot_with({r}));
  const json& slo = doc["workloads"][0]["recommendation"]["slo"];
  EXPECT_EQ(slo["objective"]["latency_p95_seconds"], 0.1);
  EXPECT_TRUE(slo["objective"]["latency_p99_seconds"].is_null());
  EXPECT_EQ(slo["source"], "dependency orders-db");
  expect_number(slo["current"]["latency_p95_seconds"], "current p95");
  EXPECT_EQ(slo["met"], false);
  EXPECT_GT(slo["latency_ratio"].get<double>(), 2.0);
  EXPECT_EQ(slo["budget_used"], 20.0);  // every wait over 0.1 s against the 5 % allowed
  for (const json& o : doc["workloads"][0]["recommendation"]["options"]) {
    EXPECT_TRUE(o["meets_objective"].is_boolean()) << o.dump();
  }
}

// Stability: its summary always, the windows only with history=1; null before the
// first verdict.
TEST(RecommendJson, StabilityAndHistory) {
  auto report = io_bound("api");
  StabilityReport st;
  st.stable_for_seconds = 30;
  st.previous_class = Bottleneck::cpu_bound;
  st.pending_class = Bottleneck::mixed;
  st.pending_windows = 1;
  st.changes = 2;
  WindowResult h;
  h.end_seconds = 1.7e9;
  h.bottleneck = Bottleneck::mixed;
  h.confidence = 0.5;
  h.top_reason = Reason::net;
  h.top_share = 0.45;
  h.published = false;
  st.history = {h};
  report.stability = st;
  auto doc = recommend_document(snapshot_with({report}));
  const json& s = doc["workloads"][0]["stability"];
  EXPECT_EQ(s["stable_for_seconds"], 30);
  EXPECT_EQ(s["previous_class"], "cpu_bound");
  EXPECT_EQ(s["pending_class"], "mixed");
  EXPECT_EQ(s["pending_windows"], 1);
  EXPECT_EQ(s["changes"], 2);
  EXPECT_FALSE(s.contains("history"));
  doc = recommend_document(snapshot_with({report}), std::nullopt, true);
  const json& windows = doc["workloads"][0]["stability"]["history"];
  ASSERT_EQ(windows.size(), 1u);
  EXPECT_EQ(windows[0]["end"], "2023-11-14T22:13:20Z");
  EXPECT_EQ(windows[0]["class"], "mixed");
  EXPECT_EQ(windows[0]["top_reason"], "net");
  EXPECT_EQ(windows[0]["published"], false);
  WorkloadReport fresh;
  fresh.name = "new";
  doc = recommend_document(snapshot_with({fresh}));
  EXPECT_TRUE(doc["workloads"][0]["stability"].is_null());
}

}  // namespace
}  // namespace boundwise
