// GET /profile (docs/API.md), the flame graph's escaping and the stacks metrics
// (docs/METRICS.md), as pure functions of a snapshot.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "config/config.hpp"
#include "daemon/auth.hpp"
#include "daemon/flame_graph.hpp"
#include "daemon/http_handler.hpp"
#include "daemon/metrics.hpp"
#include "tests/unit/daemon/report_samples.hpp"

namespace boundwise {
namespace {

using nlohmann::json;

Snapshot profiled() {
  auto api = test::report("api", 0.2);
  api.cpu_profile = std::make_shared<const FoldedStacks>(
      FoldedStacks{{{"main;handle;compute", 7}, {"main;idle", 2}}, 9});
  api.cpu_profile_window_samples = 4;
  auto plain = test::report("batch", 0.1);  // no stacks collector data
  auto s = test::snapshot_with({api, plain});
  s.collectors.push_back(CollectorStatus{"stacks", true, 0.001, ""});
  s.node.unwind_seconds = 0.5;
  s.node.unwind_failures = {{"no_unwind_info", 3}};
  return s;
}

HttpResponse get(const Snapshot& s, const std::string& target) {
  return handle_request(HttpRequest{"GET", target, {}}, EndpointContext{s, true, nullptr, nullptr});
}

TEST(Profile, FoldedStacksOfOneWorkloadAsText) {
  auto s = profiled();
  auto r = get(s, "/profile?workload=api&type=cpu");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "text/plain; charset=utf-8");
  EXPECT_EQ(r.body, "main;handle;compute 7\nmain;idle 2\n");
  // type defaults to cpu, format to folded; the name is percent-decoded.
  EXPECT_EQ(get(s, "/profile?workload=%61pi").body, r.body);
}

TEST(Profile, BadParametersAre400UnknownWorkloadsAndMissingProfiles404) {
  auto s = profiled();
  for (const char* target :
       {"/profile", "/profile?workload=", "/profile?workload=api&type=heap",
        "/profile?workload=api&format=png", "/profile?workload=api&color=red",
        "/profile?workload=%zz", "/profile?workload=api&type=cpu&reason=ipc",
        "/profile?workload=api&type=offcpu&reason=bogus", "/profile?workload=api&reason=net"}) {
    auto r = get(s, target);
    EXPECT_EQ(r.status, 400) << target;
    EXPECT_TRUE(json::parse(r.body).contains("error")) << target;
  }
  auto unknown = get(s, "/profile?workload=nope");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(json::parse(unknown.body)["workloads"], json({"api", "batch"}));
  auto none = get(s, "/profile?workload=batch");
  EXPECT_EQ(none.status, 404);
  EXPECT_NE(json::parse(none.body)["error"].get<std::string>().find("stacks"), std::string::npos);
}

// Off-CPU stacks: the reason as the root frame, reason= keeps one reason; a workload
// without them (offcpu_hz: 0, or no stacks collector) is 404 saying how to get them.
TEST(Profile, OffCpuStacksByReason) {
  auto s = profiled();
  auto none = get(s, "/profile?workload=api&type=offcpu");
  EXPECT_EQ(none.status, 404);
  EXPECT_NE(none.body.find("offcpu_hz"), std::string::npos) << none.body;
  s.workloads[0].offcpu_profile = std::make_shared<const FoldedStacks>(
      FoldedStacks{{{"[ipc];main;wait_input;read", 900}, {"[sleep];main;nanosleep", 100}}, 1000});
  auto all = get(s, "/profile?workload=api&type=offcpu");
  ASSERT_EQ(all.status, 200) << all.body;
  EXPECT_EQ(all.body, "[ipc];main;wait_input;read 900\n[sleep];main;nanosleep 100\n");
  auto ipc = get(s, "/profile?workload=api&type=offcpu&reason=ipc");
  ASSERT_EQ(ipc.status, 200);
  EXPECT_EQ(ipc.body, "[ipc];main;wait_input;read 900\n");
  EXPECT_EQ(get(s, "/profile?workload=api&type=offcpu&reason=disk").body, "");
  auto svg = get(s, "/profile?workload=api&type=offcpu&reason=ipc&format=svg");
  ASSERT_EQ(svg.status, 200);
  EXPECT_NE(svg.body.find("off-CPU stacks (ipc) of api (0.900 s blocked)"), std::string::npos)
      << svg.body.substr(0, 600);
  // Tooltips in seconds blocked, not samples.
  EXPECT_NE(svg.body.find("<title>wait_input (0.900 s blocked, 100.00%)</title>"),
            std::string::npos)
      << svg.body;
  EXPECT_EQ(svg.body.find("samples"), std::string::npos);
  EXPECT_EQ(svg.body.find("nanosleep"), std::string::npos);
}

// The GIL holder's Python stacks (the stacks collector's GIL probes): type=gil.
TEST(Profile, GilHolderStacks) {
  auto s = profiled();
  EXPECT_EQ(get(s, "/profile?workload=api&type=gil").status, 404);
  s.workloads[0].gil_profile = std::make_shared<const FoldedStacks>(
      FoldedStacks{{{"<module> (/srv/app.py:30);outer (/srv/app.py:23);inner (/srv/app.py:15)", 8},
                    {"[GIL holder unknown]", 1}},
                   9});
  auto folded = get(s, "/profile?workload=api&type=gil");
  ASSERT_EQ(folded.status, 200) << folded.body;
  EXPECT_EQ(folded.body,
            "<module> (/srv/app.py:30);outer (/srv/app.py:23);inner (/srv/app.py:15) 8\n"
            "[GIL holder unknown] 1\n");
  auto svg = get(s, "/profile?workload=api&type=gil&format=svg");
  ASSERT_EQ(svg.status, 200);
  EXPECT_NE(svg.body.find("GIL holder stacks of api (9 probes with the GIL held)"),
            std::string::npos)
      << svg.body.substr(0, 600);
  EXPECT_EQ(get(s, "/profile?workload=api&type=gil&reason=gil").status, 400);
}

TEST(Profile, FlameGraphIsAnSvgWithEveryFrame) {
  auto s = profiled();
  auto r = get(s, "/profile?workload=api&type=cpu&format=svg");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "image/svg+xml");
  EXPECT_EQ(r.body.rfind("<?xml", 0), 0u);
  EXPECT_NE(r.body.find("<svg"), std::string::npos);
  EXPECT_NE(r.body.find("</svg>"), std::string::npos);
  for (const char* frame : {"main", "handle", "compute", "idle"}) {
    EXPECT_NE(r.body.find(std::string("<title>") + frame + " ("), std::string::npos) << frame;
  }
  EXPECT_NE(r.body.find("compute (7 samples, 77.78%)"), std::string::npos);
}

TEST(FlameGraph, FrameNamesAreEscaped) {
  EXPECT_EQ(xml_escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
  EXPECT_EQ(xml_escape(std::string("x\x01y\tz", 5)), "x?y\tz");
  EXPECT_EQ(xml_escape("caf\xc3\xa9"), "caf\xc3\xa9");  // UTF-8 kept
  EXPECT_EQ(xml_escape("bad\xff\xc3"), "bad??");        // not UTF-8: replaced
  FoldedStacks hostile{{{"main;</text><script>alert(1)</script>", 1}}, 1};
  std::string svg = render_flame_graph(hostile, "t<&>");
  EXPECT_EQ(svg.find("<script>"), std::string::npos);
  EXPECT_NE(svg.find("&lt;script&gt;"), std::string::npos);
  EXPECT_NE(svg.find("t&lt;&amp;&gt;"), std::string::npos);
  EXPECT_NE(render_flame_graph(FoldedStacks{}, "empty").find("no samples"), std::string::npos);
  EXPECT_NE(render_flame_graph(FoldedStacks{}, "empty", FlameUnit::milliseconds).find("no stacks"),
            std::string::npos);
}

TEST(Profile, ProtectedByDefaultOnceCredentialsExist) {
  auto s = profiled();
  WebConfig web;  // the default protected endpoints
  web.bearer_token = "s3cr3t";
  Authenticator auth(web);
  EndpointContext context{s, true, nullptr, nullptr, &auth};
  auto denied = handle_request({"GET", "/profile?workload=api", {}}, context);
  EXPECT_EQ(denied.status, 401);
  auto allowed = handle_request({"GET", "/profile?workload=api", "Bearer s3cr3t"}, context);
  EXPECT_EQ(allowed.status, 200);
}

TEST(Profile, SamplesAndUnwindCostAreCounters) {
  auto s = profiled();
  MetricsPublisher metrics;
  metrics.publish(s);
  s.node.unwind_seconds = 0.75;
  s.node.unwind_failures = {{"no_unwind_info", 5}, {"stack_truncated", 1}};
  metrics.publish(s);
  const std::string text = metrics.render();
  EXPECT_NE(text.find("boundwise_profile_samples_total{type=\"cpu\",workload=\"api\"} 8"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("boundwise_profile_samples_total{type=\"cpu\",workload=\"batch\"}"),
            std::string::npos);
  // Without off-CPU stacks or GIL probes, no series of theirs.
  EXPECT_EQ(text.find("type=\"offcpu\""), std::string::npos);
  EXPECT_EQ(text.find("type=\"gil\""), std::string::npos);
  EXPECT_EQ(text.find("boundwise_profile_offcpu_seconds_total{"), std::string::npos);
  // Cumulative totals become the counters' growth: 0.5 then 0.75 → 0.75 in all.
  EXPECT_NE(text.find("boundwise_unwind_seconds_total 0.75"), std::string::npos);
  EXPECT_NE(text.find("boundwise_unwind_failures_total{cause=\"no_unwind_info\"} 5"),
            std::string::npos);
  EXPECT_NE(text.find("boundwise_unwind_failures_total{cause=\"stack_truncated\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("boundwise_unwind_failures_total{cause=\"process_gone\"} 0"),
            std::string::npos);
}

// Off-CPU stacks are counted as stacks taken, their weight as seconds blocked; GIL
// probes as probes: each window adds its own.
TEST(Profile, OffCpuAndGilSamplesAreCountersToo) {
  auto s = profiled();
  s.workloads[0].offcpu_profile =
      std::make_shared<const FoldedStacks>(FoldedStacks{{{"[ipc];main;read", 1400}}, 1400, 7});
  s.workloads[0].offcpu_profile_window_stacks = 7;
  s.workloads[0].offcpu_profile_window_ms = 1400;
  s.workloads[0].gil_profile =
      std::make_shared<const FoldedStacks>(FoldedStacks{{{"inner (app.py:3)", 9}}, 9, 9});
  s.workloads[0].gil_profile_window_probes = 9;
  MetricsPublisher metrics;
  metrics.publish(s);
  metrics.publish(s);
  const std::string text = metrics.render();
  EXPECT_NE(text.find("boundwise_profile_samples_total{type=\"offcpu\",workload=\"api\"} 14"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("boundwise_profile_offcpu_seconds_total{workload=\"api\"} 2.8"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("boundwise_profile_samples_total{type=\"gil\",workload=\"api\"} 18"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("boundwise_profile_offcpu_seconds_total{workload=\"batch\"}"),
            std::string::npos);
}

TEST(Profile, NoStacksCollectorNoUnwindSeries) {
  MetricsPublisher metrics;
  metrics.publish(test::snapshot_with({test::report("api", 0.2)}));
  EXPECT_EQ(metrics.render().find("boundwise_unwind_"), std::string::npos);
}

}  // namespace
}  // namespace boundwise
