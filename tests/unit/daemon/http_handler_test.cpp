// Endpoint routing as a pure function (no socket): every endpoint with its status and
// content type, 404 and 405, readiness, URL-decoding of ?workload= and garbage query
// strings, which must never crash nor produce anything but a valid JSON answer.
#include "daemon/http_handler.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "classifier/classify.hpp"
#include "daemon/metrics.hpp"

namespace boundwise {
namespace {

using nlohmann::json;

WorkloadReport classified(const std::string& name) {
  WorkloadReport r;
  r.name = name;
  r.pids = {100, 101};
  r.threads = 4;
  WorkloadWindow w;
  w.workload = name;
  w.duration_seconds = 10;
  w.threads = 4;
  w.processes = 2;
  w.node.cores = 2;
  w.thread_seconds[index_of(Reason::on_cpu)] = 38;
  w.thread_seconds[index_of(Reason::idle)] = 2;
  w.cpu_seconds = 38;
  finalize_window(w);
  r.verdict = classify(w);
  r.recommendation = recommend(*r.verdict, w);
  r.window = w;
  return r;
}

Snapshot snapshot_of(const std::vector<std::string>& names) {
  Snapshot s;
  s.host = "h";
  s.window_seconds = 10;
  for (const auto& n : names) s.workloads.push_back(classified(n));
  return s;
}

struct Fixture {
  explicit Fixture(Snapshot snap, bool is_ready = true) : s(std::move(snap)), ready(is_ready) {
    metrics.publish(s);
  }
  HttpResponse operator()(const std::string& target, const std::string& method = "GET") const {
    return handle_request(
        HttpRequest{method, target, {}},
        EndpointContext{s, ready, std::make_shared<const std::string>(metrics.render()), {}});
  }
  Snapshot s;
  MetricsPublisher metrics;
  bool ready;
};

TEST(HttpHandler, MetricsIsTheExpositionWithItsContentType) {
  Fixture get(snapshot_of({"api"}));
  auto r = get("/metrics");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(r.text(), get.metrics.render());
  EXPECT_NE(r.text().find("boundwise_workload_threads{workload=\"api\"} 4"), std::string::npos);
  // Query strings do not change the path.
  EXPECT_EQ(get("/metrics?name[]=x").text(), r.text());
  // Nothing rendered yet (the HTTP thread never renders itself): 503, not an empty 200.
  Snapshot s = snapshot_of({"api"});
  auto none = handle_request({"GET", "/metrics", {}}, EndpointContext{s, true, nullptr, nullptr});
  EXPECT_EQ(none.status, 503);
}

TEST(HttpHandler, HeadAnswersLikeGet) {
  Fixture get(snapshot_of({"api"}));
  for (const char* path : {"/metrics", "/recommend", "/healthz", "/readyz", "/"}) {
    auto g = get(path);
    auto h = get(path, "HEAD");
    EXPECT_EQ(h.status, g.status) << path;
    EXPECT_EQ(h.content_type, g.content_type) << path;
    EXPECT_EQ(h.body.size(), g.body.size()) << path;  // the server strips it, keeping the length
  }
}

TEST(HttpHandler, RecommendIsJsonOfEveryWorkload) {
  Fixture get(snapshot_of({"api", "batch"}));
  auto r = get("/recommend");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  auto doc = json::parse(r.body);
  ASSERT_EQ(doc["workloads"].size(), 2u);
  EXPECT_EQ(doc["workloads"][0]["workload"], "api");
  EXPECT_EQ(doc["workloads"][1]["workload"], "batch");
  EXPECT_EQ(r.body.back(), '\n');
}

TEST(HttpHandler, ProbesAndIndex) {
  Fixture ready(snapshot_of({"api"}), true);
  Fixture starting(snapshot_of({}), false);
  EXPECT_EQ(ready("/healthz").status, 200);
  EXPECT_EQ(ready("/healthz").body, "ok\n");
  EXPECT_EQ(starting("/healthz").status, 200);  // alive even before the first window
  EXPECT_EQ(ready("/readyz").status, 200);
  auto not_ready = starting("/readyz");
  EXPECT_EQ(not_ready.status, 503);
  EXPECT_NE(not_ready.body.find("first window"), std::string::npos) << not_ready.body;
  // The web page and the plain-text index both point at every endpoint.
  for (const char* target : {"/", "/?format=text"}) {
    auto index = ready(target);
    EXPECT_EQ(index.status, 200);
    for (const char* endpoint : {"/metrics", "/recommend", "/healthz", "/readyz"}) {
      EXPECT_NE(index.body.find(endpoint), std::string::npos) << target << " " << endpoint;
    }
  }
}

TEST(HttpHandler, UnknownPathsAre404Json) {
  Fixture get(snapshot_of({"api"}));
  for (const char* target : {"/nope", "/metricsx", "/recommend/", "//metrics", "", "*",
                             "http://host/metrics", "/%2e%2e/etc/passwd", "/healthz/x"}) {
    auto r = get(target);
    EXPECT_EQ(r.status, 404) << target;
    EXPECT_EQ(r.content_type, "application/json") << target;
    EXPECT_TRUE(json::parse(r.body).contains("error")) << target;
  }
}

TEST(HttpHandler, OtherMethodsAre405WithAllow) {
  Fixture get(snapshot_of({"api"}));
  for (const char* method : {"POST", "PUT", "DELETE", "OPTIONS", "PATCH", "get", "BREW"}) {
    for (const char* path : {"/metrics", "/recommend", "/healthz", "/readyz", "/"}) {
      auto r = get(path, method);
      EXPECT_EQ(r.status, 405) << method << " " << path;
      EXPECT_EQ(r.allow, "GET, HEAD") << method << " " << path;
      EXPECT_TRUE(json::parse(r.body).contains("error"));
    }
  }
  EXPECT_TRUE(get("/metrics").allow.empty());
}

TEST(HttpHandler, WorkloadParameterIsUrlDecoded) {
  Fixture get(snapshot_of({"api", "my worker", "a/b", "caf\xC3\xA9", "x&y=z"}));
  const std::pair<const char*, const char*> cases[] = {
      {"/recommend?workload=api", "api"},
      {"/recommend?workload=my%20worker", "my worker"},
      {"/recommend?workload=my+worker", "my worker"},
      {"/recommend?workload=a%2Fb", "a/b"},
      {"/recommend?workload=a%2fb", "a/b"},
      {"/recommend?workload=caf%C3%A9", "caf\xC3\xA9"},
      {"/recommend?workload=x%26y%3Dz", "x&y=z"},
      {"/recommend?other=1&workload=api&more", "api"},
  };
  for (const auto& [target, name] : cases) {
    auto r = get(target);
    ASSERT_EQ(r.status, 200) << target;
    auto doc = json::parse(r.body);
    ASSERT_EQ(doc["workloads"].size(), 1u) << target;
    EXPECT_EQ(doc["workloads"][0]["workload"], name) << target;
  }
}

// history=1 adds each workload's recent windows (the shared body has none); any other
// value is a 400.
TEST(HttpHandler, HistoryParameter) {
  auto snapshot = snapshot_of({"api"});
  StabilityReport st;
  st.history.resize(3);
  snapshot.workloads[0].stability = st;
  Fixture get(snapshot);
  auto with = json::parse(get("/recommend?workload=api&history=1").body);
  EXPECT_EQ(with["workloads"][0]["stability"]["history"].size(), 3u);
  EXPECT_EQ(
      json::parse(get("/recommend?history=1").body)["workloads"][0]["stability"]["history"].size(),
      3u);
  auto without = json::parse(get("/recommend?history=0").body);
  EXPECT_FALSE(without["workloads"][0]["stability"].contains("history"));
  for (const char* bad : {"/recommend?history=yes", "/recommend?history", "/recommend?history=2"}) {
    auto r = get(bad);
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_NE(json::parse(r.body)["error"].get<std::string>().find("history"), std::string::npos);
  }
}

TEST(HttpHandler, UnknownWorkloadIs404WithTheKnownNames) {
  Fixture get(snapshot_of({"api", "batch"}));
  auto r = get("/recommend?workload=nope%22x");
  EXPECT_EQ(r.status, 404);
  auto doc = json::parse(r.body);
  EXPECT_EQ(doc["error"], "unknown workload \"nope\"x\"");
  EXPECT_EQ(doc["workloads"], json({"api", "batch"}));
  // An empty snapshot still answers with an (empty) list.
  Fixture empty(snapshot_of({}), false);
  auto none = empty("/recommend?workload=api");
  EXPECT_EQ(none.status, 404);
  EXPECT_EQ(json::parse(none.body)["workloads"], json::array());
  EXPECT_EQ(json::parse(empty("/recommend").body)["workloads"], json::array());
}

TEST(HttpHandler, GarbageQueryStringsGetAValidJsonAnswer) {
  Fixture get(snapshot_of({"api"}));
  const std::string garbage[] = {
      "/recommend?",
      "/recommend?&&&",
      "/recommend?=",
      "/recommend?==&=workload",
      "/recommend??workload=api",
      "/recommend?workload=%",
      "/recommend?workload=%%",
      "/recommend?workload=%g0",
      "/recommend?workload=%0",
      "/recommend?workload=%00",
      "/recommend?workload=%FF%FE",
      "/recommend?workload=\xFF\xC0",
      "/recommend?workload=" + std::string(20000, 'a'),
      "/recommend?workload=" + std::string(5000, '%'),
      "/recommend?workload=api&workload=nope",
      "/recommend?workload=a\r\nSet-Cookie:%20x",
      std::string("/recommend?workload=a\0b", 23),
  };
  for (const auto& target : garbage) {
    auto r = get(target);
    EXPECT_TRUE(r.status == 200 || r.status == 400 || r.status == 404)
        << r.status << " for " << target.substr(0, 60);
    json doc;
    ASSERT_NO_THROW(doc = json::parse(r.body)) << target.substr(0, 60);
    if (r.status != 200) {
      EXPECT_TRUE(doc["error"].is_string());
    }
  }
  // Parameters that are not `workload` are ignored: the whole document.
  EXPECT_EQ(json::parse(get("/recommend?==&=workload").body)["workloads"].size(), 1u);
  // Malformed escapes are refused, not guessed at.
  EXPECT_EQ(get("/recommend?workload=%g0").status, 400);
  EXPECT_EQ(get("/recommend?workload=%").status, 400);
  // The last of repeated parameters wins.
  EXPECT_EQ(get("/recommend?workload=api&workload=nope").status, 404);
}

TEST(HttpHandler, PreRenderedBodiesAreUsedForTheWholeDocumentOnly) {
  Snapshot s = snapshot_of({"api"});
  MetricsPublisher metrics;
  metrics.publish(s);
  auto metrics_body = std::make_shared<const std::string>("pre-rendered metrics\n");
  auto recommend_body = std::make_shared<const std::string>("{\"pre\": true}\n");
  EndpointContext context{s, true, metrics_body, recommend_body};
  EXPECT_EQ(handle_request({"GET", "/metrics", {}}, context).text(), *metrics_body);
  EXPECT_EQ(handle_request({"GET", "/recommend", {}}, context).text(), *recommend_body);
  auto one = handle_request({"GET", "/recommend?workload=api", {}}, context);
  EXPECT_EQ(json::parse(one.body)["workloads"][0]["workload"], "api");
  EXPECT_EQ(
      render_recommend(s),
      handle_request({"GET", "/recommend", {}}, EndpointContext{s, true, metrics_body, {}}).body);
}

}  // namespace
}  // namespace boundwise
