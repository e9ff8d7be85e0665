// The endpoints as pure functions of a snapshot: routing, errors, the /recommend JSON
// contract (docs/API.md) and the Prometheus exposition (which promtool accepts:
// tests/integration/native/daemon/promtool_test.cpp).
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "classifier/classify.hpp"
#include "daemon/http_handler.hpp"
#include "daemon/metrics.hpp"
#include "daemon/recommend_json.hpp"
#include "tests/unit/daemon/report_samples.hpp"

namespace boundwise {
namespace {

using nlohmann::json;

using test::report;
using test::snapshot_with;

HttpResponse get(const Snapshot& s, const std::string& target, bool ready = true,
                 const std::string& method = "GET") {
  MetricsPublisher metrics;
  metrics.publish(s);
  return handle_request(
      HttpRequest{method, target, {}},
      EndpointContext{s, ready, std::make_shared<const std::string>(metrics.render()), {}});
}

TEST(Endpoints, RecommendContract) {
  auto s = snapshot_with({report("api", 0.85)});
  auto res = get(s, "/recommend");
  ASSERT_EQ(res.status, 200);
  EXPECT_EQ(res.content_type, "application/json");
  auto doc = json::parse(res.body);
  EXPECT_EQ(doc["host"], "web-3");
  EXPECT_TRUE(doc["generated_at"].is_string());
  EXPECT_EQ(doc["window_seconds"], 10);
  ASSERT_EQ(doc["workloads"].size(), 1u);
  auto w = doc["workloads"][0];
  EXPECT_EQ(w["workload"], "api");
  EXPECT_EQ(w["pids"], json({4242, 4250}));
  EXPECT_EQ(w["threads"], 9);
  auto v = w["verdict"];
  EXPECT_EQ(v["class"], "io_network");
  EXPECT_TRUE(v["confidence"].is_number());
  EXPECT_TRUE(v["cpu_cores_used"].is_number());
  for (Reason r : kAllReasons) EXPECT_TRUE(v["shares"][std::string(to_string(r))].is_number());
  EXPECT_NEAR(v["shares"]["net"].get<double>(), 0.85, 1e-3);
  auto d = v["dependencies"][0];
  EXPECT_EQ(d["name"], "orders-db");
  EXPECT_EQ(d["endpoint"], "10.0.0.5:5432");
  EXPECT_NEAR(d["wait_share"].get<double>(), 0.85, 1e-3);
  EXPECT_NEAR(d["latency_seconds"]["p95"].get<double>(), 0.22, 1e-9);
  EXPECT_EQ(w["node"]["cores"], 2);
  EXPECT_NEAR(w["node"]["cpu_busy_ratio"].get<double>(), 0.3, 1e-9);
  auto rec = w["recommendation"];
  EXPECT_EQ(rec["model"], "threads");
  EXPECT_TRUE(rec["workers"].is_number_integer());
  EXPECT_NE(rec["summary"].get<std::string>().find("orders-db"), std::string::npos);
  EXPECT_TRUE(rec["evidence"].is_array());
  EXPECT_TRUE(rec["risks"].is_array());
}

TEST(Endpoints, NullVerdictBeforeFirstWindowAndNoNaN) {
  WorkloadReport fresh;
  fresh.name = "new";
  fresh.pids = {7};
  auto bad = report("weird", 0.5);
  bad.verdict->confidence = std::nan("");
  bad.verdict->shares[0] = std::numeric_limits<double>::infinity();
  auto s = snapshot_with({fresh, bad});
  auto doc = json::parse(get(s, "/recommend").body);
  EXPECT_TRUE(doc["workloads"][0]["verdict"].is_null());
  EXPECT_TRUE(doc["workloads"][0]["recommendation"].is_null());
  EXPECT_EQ(doc["workloads"][1]["verdict"]["confidence"], 0.0);
  EXPECT_TRUE(doc["workloads"][1]["verdict"]["shares"]["on_cpu"].is_number());
}

TEST(Endpoints, OneWorkloadAndUnknownWorkload) {
  auto s = snapshot_with({report("api", 0.85), report("my worker", 0.2)});
  auto one = json::parse(get(s, "/recommend?workload=my%20worker").body);
  ASSERT_EQ(one["workloads"].size(), 1u);
  EXPECT_EQ(one["workloads"][0]["workload"], "my worker");
  auto missing = get(s, "/recommend?workload=nope");
  EXPECT_EQ(missing.status, 404);
  auto err = json::parse(missing.body);
  EXPECT_NE(err["error"].get<std::string>().find("nope"), std::string::npos);
  EXPECT_EQ(err["workloads"], json({"api", "my worker"}));
  EXPECT_EQ(get(s, "/recommend?workload=%zz").status, 400);
  EXPECT_EQ(get(s, "/recommend?workload=%4").status, 400);
  EXPECT_EQ(get(s, "/recommend?workload").status, 400);
  EXPECT_EQ(get(s, "/recommend?x=1&&&=").status, 200);  // unknown parameters are ignored
}

TEST(Endpoints, RoutingProbesAndMethods) {
  auto s = snapshot_with({report("api", 0.85)});
  EXPECT_EQ(get(s, "/healthz").status, 200);
  EXPECT_EQ(get(s, "/readyz", true).status, 200);
  EXPECT_EQ(get(s, "/readyz", false).status, 503);
  EXPECT_EQ(get(s, "/").status, 200);
  EXPECT_EQ(get(s, "/nope").status, 404);
  EXPECT_EQ(get(s, "/metrics/../etc").status, 404);
  auto post = get(s, "/metrics", true, "POST");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.allow, "GET, HEAD");
  EXPECT_EQ(get(s, "/metrics", true, "HEAD").status, 200);
}

TEST(Endpoints, PreRenderedBodiesAreServedAsTheyAre) {
  auto s = snapshot_with({report("api", 0.85)});
  MetricsPublisher metrics;
  metrics.publish(s);
  auto metrics_body = std::make_shared<const std::string>("# pre-rendered metrics\n");
  auto recommend_body = std::make_shared<const std::string>(render_recommend(s));
  EndpointContext context{s, true, metrics_body, recommend_body};
  auto m = handle_request({"GET", "/metrics", {}}, context);
  EXPECT_EQ(m.text(), *metrics_body);
  EXPECT_EQ(m.shared_body, metrics_body);  // shared, not copied
  auto all = handle_request({"GET", "/recommend", {}}, context);
  EXPECT_EQ(all.text(), *recommend_body);
  EXPECT_EQ(all.shared_body, recommend_body);
  EXPECT_EQ(all.text(), get(s, "/recommend").body);  // the same document as rendered per request
  // A single workload is rendered on demand.
  auto one = json::parse(handle_request({"GET", "/recommend?workload=api", {}}, context).body);
  EXPECT_EQ(one["workloads"].size(), 1u);
}

std::string metrics_text(const std::vector<Snapshot>& snapshots) {
  MetricsPublisher m;
  for (const auto& s : snapshots) m.publish(s);
  return m.render();
}

TEST(Metrics, SeriesCountersAndRemoval) {
  auto s = snapshot_with({report("api", 0.85), report("batch", 0.1)});
  auto text = metrics_text({s, s});
  // Counters accumulate: two windows of 90 × 0.85 s.
  EXPECT_NE(text.find("boundwise_thread_seconds_total{reason=\"net\",workload=\"api\"} 153"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("boundwise_bottleneck{class=\"io_network\",workload=\"api\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("boundwise_bottleneck{class=\"cpu_bound\",workload=\"api\"} 0"),
            std::string::npos);
  EXPECT_NE(text.find("boundwise_recommendation{model=\"threads\",workload=\"api\"} 1"),
            std::string::npos);
  // A histogram: the observed 0.2-0.22 s waits all lie in the bucket up to 0.262144 s
  // (2^18 µs) and above 0.196608 s (1.5 × 2^17 µs).
  EXPECT_NE(text.find("boundwise_dependency_latency_seconds_bucket{dependency=\"orders-db\","
                      "workload=\"api\",le=\"0.196608\"} 0"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("boundwise_dependency_latency_seconds_bucket{dependency=\"orders-db\","
                      "workload=\"api\",le=\"0.262144\"} 6"),
            std::string::npos);
  EXPECT_NE(text.find("boundwise_dependency_latency_seconds_count{dependency=\"orders-db\","
                      "workload=\"api\"} 6"),
            std::string::npos);
  EXPECT_NE(text.find("boundwise_node_pressure_seconds_total{kind=\"some\",resource=\"cpu\"} 12.5"),
            std::string::npos);
  EXPECT_NE(text.find("boundwise_collector_up{collector=\"procfs\"} 1"), std::string::npos);
  EXPECT_NE(text.find("boundwise_build_info{build_type="), std::string::npos);
  EXPECT_NE(text.find("version=\"" BOUNDWISE_VERSION "\"} 1"), std::string::npos);
  EXPECT_EQ(text.find("pid="), std::string::npos);

  // "batch" disappears: all its series leave.
  auto later = snapshot_with({report("api", 0.85)});
  auto after = metrics_text({s, later});
  EXPECT_EQ(after.find("workload=\"batch\""), std::string::npos);
  EXPECT_NE(after.find("workload=\"api\""), std::string::npos);
}

}  // namespace
}  // namespace boundwise
