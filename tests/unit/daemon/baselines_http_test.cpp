// /baselines and /compare through handle_request (no socket), on a real store in a
// temporary directory: the round trip a person makes around a change, the errors each
// wrong request gets, and credentials for every write.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "daemon/auth.hpp"
#include "daemon/baselines.hpp"
#include "daemon/http_handler.hpp"

namespace boundwise {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A workload whose history holds `windows` windows of `throughput` CPU-seconds/s in
// `model` with `memory` bytes.
WorkloadReport workload(const std::string& name, int windows, double throughput,
                        const std::string& model, std::uint64_t memory) {
  WorkloadReport r;
  r.name = name;
  r.verdict = Verdict{};
  r.recommendation = Recommendation{};
  StabilityReport st;
  for (int i = 0; i < windows; ++i) {
    WindowResult w;
    w.end_seconds = 1'796'400'000 + 10.0 * i;
    w.bottleneck = model == "threads" ? Bottleneck::gil_contended : Bottleneck::cpu_parallel;
    w.figures.throughput_per_second = throughput;
    w.figures.cpu_cores_used = throughput;
    w.figures.memory_bytes = memory;
    w.figures.processes = model == "threads" ? 1 : 5;
    w.figures.threads = 5;
    w.figures.model_in_use = model;
    st.history.push_back(w);
  }
  r.stability = st;
  return r;
}

class BaselinesHttpTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/boundwise-baselines-http-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    root = pattern;
    store = std::make_unique<BaselineStore>(root, 3);
    now.workloads.push_back(workload("job", 6, 1.0, "threads", 20 << 20));
    WorkloadReport starting;
    starting.name = "new";
    now.workloads.push_back(starting);
  }
  void TearDown() override { fs::remove_all(root); }

  HttpResponse call(const std::string& method, const std::string& target,
                    Authenticator* auth = nullptr, const std::string& authorization = "") {
    return handle_request(HttpRequest{method, target, authorization},
                          EndpointContext{now, true, nullptr, nullptr, auth, store.get()});
  }
  static json body(const HttpResponse& r) { return json::parse(r.text()); }

  std::string root;
  std::unique_ptr<BaselineStore> store;
  Snapshot now;
};

TEST_F(BaselinesHttpTest, BeforeAndAfterAChange) {
  auto stored = call("POST", "/baselines?workload=job&name=threads");
  ASSERT_EQ(stored.status, 201) << stored.text();
  EXPECT_EQ(body(stored)["windows"], 6);
  EXPECT_EQ(body(stored)["figures"]["model_in_use"], "threads");
  EXPECT_FALSE(body(stored)["replaced"]);

  // The change: the same work in processes, twice the throughput.
  now.workloads[0] = workload("job", 3, 2.0, "processes", 80 << 20);
  auto compared = call("GET", "/compare?workload=job&baseline=threads");
  ASSERT_EQ(compared.status, 200) << compared.text();
  json c = body(compared);
  EXPECT_NEAR(c["comparison"]["throughput_change"].get<double>(), 1.0, 1e-9);
  EXPECT_EQ(c["comparison"]["memory_change_bytes"], 60 << 20);
  EXPECT_EQ(c["comparison"]["verdict"], "improved");
  EXPECT_EQ(c["baseline"]["name"], "threads");
  EXPECT_EQ(c["current"]["figures"]["model_in_use"], "processes");
  EXPECT_EQ(c["current"]["windows"], 3);  // fewer windows than asked: all there are
  EXPECT_NE(c["summary"].get<std::string>().find("processes (was threads)"), std::string::npos);

  // Listed, then deleted.
  auto listed = body(call("GET", "/baselines"));
  ASSERT_EQ(listed["baselines"].size(), 1u);
  EXPECT_EQ(listed["baselines"][0]["name"], "threads");
  EXPECT_EQ(listed["directory"], root + "/baselines");
  EXPECT_EQ(call("DELETE", "/baselines?workload=job&name=threads").status, 200);
  EXPECT_EQ(call("DELETE", "/baselines?workload=job&name=threads").status, 404);
  EXPECT_EQ(call("GET", "/compare?workload=job&baseline=threads").status, 404);
  EXPECT_TRUE(body(call("GET", "/baselines"))["baselines"].empty());
}

TEST_F(BaselinesHttpTest, StoringAgainReplaces) {
  ASSERT_EQ(call("POST", "/baselines?workload=job&name=b&windows=2").status, 201);
  auto again = call("POST", "/baselines?workload=job&name=b&windows=4");
  EXPECT_EQ(again.status, 200);
  EXPECT_TRUE(body(again)["replaced"]);
  EXPECT_EQ(store->get("job", "b")->windows, 4);
}

TEST_F(BaselinesHttpTest, WrongRequestsGetClearErrors) {
  struct Case {
    const char* method;
    const char* target;
    int status;
    const char* says;
  };
  for (const Case& c : std::initializer_list<Case>{
           {"POST", "/baselines?workload=job", 400, "required"},
           {"POST", "/baselines?name=b", 400, "required"},
           {"POST", "/baselines?workload=job&name=a/b", 400, "A-Z a-z 0-9"},
           {"POST", "/baselines?workload=job&name=b&windows=0", 400, "windows= takes 1 to 60"},
           {"POST", "/baselines?workload=job&name=b&windows=61", 400, "windows="},
           {"POST", "/baselines?workload=job&name=b&windows=2x", 400, "windows="},
           {"POST", "/baselines?workload=job&name=b&color=red", 400, "unknown parameter"},
           {"POST", "/baselines?workload=job&name=%zz", 400, "percent-encoding"},
           {"POST", "/baselines?workload=ghost&name=b", 404, "unknown workload"},
           {"POST", "/baselines?workload=new&name=b", 409, "no classified window"},
           {"GET", "/compare?workload=job", 400, "required"},
           {"GET", "/compare?workload=job&baseline=nope", 404, "no baseline"},
           {"PUT", "/baselines?workload=job&name=b", 405, "not allowed"},
           {"POST", "/compare?workload=job&baseline=b", 405, "not allowed"},
           {"POST", "/recommend", 405, "not allowed"},
       }) {
    auto r = call(c.method, c.target);
    EXPECT_EQ(r.status, c.status) << c.method << " " << c.target << ": " << r.text();
    EXPECT_NE(body(r)["error"].get<std::string>().find(c.says), std::string::npos)
        << c.method << " " << c.target << ": " << r.text();
  }
  EXPECT_EQ(call("PUT", "/baselines").allow, "GET, HEAD, POST, DELETE");
  EXPECT_EQ(call("POST", "/recommend").allow, "GET, HEAD");
  EXPECT_TRUE(store->list().empty());
}

TEST_F(BaselinesHttpTest, TheStoreIsBounded) {
  for (const char* name : {"a", "b", "c"}) {
    ASSERT_EQ(call("POST", std::string("/baselines?workload=job&name=") + name).status, 201);
  }
  auto full = call("POST", "/baselines?workload=job&name=d");
  EXPECT_EQ(full.status, 409);
  EXPECT_NE(body(full)["error"].get<std::string>().find("max_baselines (3)"), std::string::npos);
  EXPECT_EQ(call("POST", "/baselines?workload=job&name=a").status, 200);  // replacing is fine
}

TEST_F(BaselinesHttpTest, WithoutAStoreTheEndpointsSaySo) {
  auto r = handle_request(HttpRequest{"GET", "/baselines", ""},
                          EndpointContext{now, true, nullptr, nullptr});
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(body(r)["error"].get<std::string>().find("off"), std::string::npos);
}

// With credentials configured, every write needs them, even where reading is open.
TEST_F(BaselinesHttpTest, WritesNeedCredentials) {
  WebConfig web;
  web.bearer_token = "tok";
  web.protected_endpoints = {"/metrics"};  // /baselines itself left open for reading
  Authenticator auth(web);
  EXPECT_EQ(call("GET", "/baselines", &auth).status, 200);
  EXPECT_EQ(call("POST", "/baselines?workload=job&name=b", &auth).status, 401);
  EXPECT_EQ(call("POST", "/baselines?workload=job&name=b", &auth, "Bearer nope").status, 401);
  EXPECT_EQ(call("DELETE", "/baselines?workload=job&name=b", &auth).status, 401);
  EXPECT_TRUE(store->list().empty());
  EXPECT_EQ(call("POST", "/baselines?workload=job&name=b", &auth, "Bearer tok").status, 201);

  // By default both endpoints are protected for reading too.
  WebConfig default_web;
  default_web.bearer_token = "tok";
  Authenticator defaults(default_web);
  EXPECT_EQ(call("GET", "/baselines", &defaults).status, 401);
  EXPECT_EQ(call("GET", "/compare?workload=job&baseline=b", &defaults).status, 401);
  EXPECT_EQ(call("GET", "/compare?workload=job&baseline=b", &defaults, "Bearer tok").status, 200);
}

}  // namespace
}  // namespace boundwise
