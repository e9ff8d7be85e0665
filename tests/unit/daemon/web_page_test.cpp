// The web page at `/`: what it shows from a /recommend document
// (data/recommend_two_workloads.json), that every name from a process is escaped, that
// it asks nothing of any other server, and how the handler serves it (HTML with a
// content security policy, one page per workload, the plain-text index, the web auth).
#include "daemon/web_page.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <regex>
#include <string>

#include "daemon/auth.hpp"
#include "daemon/http_handler.hpp"
#include "tests/unit/daemon/report_samples.hpp"

namespace boundwise {
namespace {

using nlohmann::json;

json fixture() {
  std::ifstream in(std::string(BOUNDWISE_TEST_DATA) + "/recommend_two_workloads.json");
  return json::parse(std::string(std::istreambuf_iterator<char>(in), {}));
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Nothing on the page makes the browser ask another server, or run anything.
void expect_self_contained(const std::string& html) {
  EXPECT_FALSE(contains(html, "<script")) << html;
  // Every '<' from the document is escaped: a '<' on the page starts a real tag.
  EXPECT_FALSE(std::regex_search(html, std::regex("<[a-zA-Z][^>]*\\ssrc="))) << html;
  EXPECT_FALSE(contains(html, "url(")) << html;
  EXPECT_FALSE(contains(html, "@import")) << html;
  EXPECT_FALSE(std::regex_search(html, std::regex("(href|action)=\"(https?:)?//"))) << html;
}

TEST(WebPage, EscapesEveryMarkupCharacter) {
  EXPECT_EQ(html_escape("<script>alert('x')&\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;)&amp;&quot;&lt;/script&gt;");
  EXPECT_EQ(html_escape("python3@pod-3f1c8a2e/8d2c"), "python3@pod-3f1c8a2e/8d2c");
  EXPECT_EQ(url_encode("a b/<c>&é"), "a%20b%2F%3Cc%3E%26%C3%A9");
  EXPECT_EQ(url_encode("gunicorn-1.x_y~"), "gunicorn-1.x_y~");
}

TEST(WebPage, IndexShowsEveryWorkloadWithItsVerdictBarAndDependencies) {
  const std::string html = render_index_page(fixture());
  EXPECT_TRUE(contains(html, "<meta http-equiv=\"refresh\" content=\"5\">"));
  EXPECT_TRUE(contains(html, "<tr class=\"workload\" data-workload=\"api\">"));
  EXPECT_TRUE(contains(html, "<a href=\"/?workload=api\">api</a>"));
  EXPECT_TRUE(contains(html, "<span class=\"class\">io_network</span> <span class=\"conf\">100%"));
  EXPECT_TRUE(contains(html, "<b class=\"model\">threads</b>, 202 workers"));
  EXPECT_TRUE(contains(html, "I/O-bound: 100% of busy thread time waits on orders-api"));
  // The stacked bar: one segment per reason with a share, as wide as the share.
  EXPECT_TRUE(contains(html,
                       "data-reason=\"net\" data-share=\"0.8854\" title=\"net 88.5%\" "
                       "style=\"width:88.54%;"));
  EXPECT_TRUE(contains(html, "data-reason=\"idle\" data-share=\"0.1111\""));
  EXPECT_FALSE(contains(html, "data-reason=\"disk\""));  // 0: no segment
  EXPECT_TRUE(contains(html,
                       "<b>orders-api</b> <span class=\"muted\">127.0.0.1:33169</span>"
                       "<br>p50 200 ms · p95 200 ms · p99 250 ms"));
  // The absent target is listed, with its state, unclassified.
  EXPECT_TRUE(contains(html, "data-workload=\"ghost\""));
  EXPECT_TRUE(contains(html, "<div class=\"state down\">absent since 2026-11-25T00:50:00Z</div>"));
  expect_self_contained(html);
}

TEST(WebPage, NamesFromProcessesRenderAsText) {
  json doc = fixture();
  json& w = doc["workloads"][0];
  w["workload"] = "<script>alert(1)</script>";
  w["verdict"]["dependencies"][0]["name"] = "<img src=x onerror=alert(2)>";
  w["recommendation"]["evidence"][0] = "\"><script>alert(3)</script>";
  for (const std::string& html : {render_index_page(doc), render_workload_page(doc, w),
                                  render_unknown_workload_page(doc, "<b>nope</b>")}) {
    expect_self_contained(html);
    EXPECT_FALSE(contains(html, "<img")) << html;
    EXPECT_FALSE(contains(html, "<b>nope</b>")) << html;
  }
  const std::string index = render_index_page(doc);
  EXPECT_TRUE(contains(index, "&lt;script&gt;alert(1)&lt;/script&gt;</a>"));
  EXPECT_TRUE(contains(index, "href=\"/?workload=%3Cscript%3Ealert%281%29%3C%2Fscript%3E\""));
  EXPECT_TRUE(contains(index, "&lt;img src=x onerror=alert(2)&gt;"));
  EXPECT_TRUE(contains(render_workload_page(doc, w), "&quot;&gt;&lt;script&gt;alert(3)"));
}

TEST(WebPage, WorkloadPageExplainsTopToBottom) {
  json doc = fixture();
  const std::string html = render_workload_page(doc, doc["workloads"][0]);
  const std::string dependency_row =
      "<td>orders-api</td><td>127.0.0.1:33169</td><td>88.5%</td><td>p50 200 ms · p95 200 ms · "
      "p99 250 ms</td><td>procfs</td>";
  std::size_t at = 0;
  for (const char* part :
       {"<title>api · boundwise</title>", "<span class=\"class\">io_network</span>",
        "<h2>Summary</h2><p>I/O-bound: 100% of busy thread time", "<h2>Evidence</h2>",
        "<li>waits on orders-api 127.0.0.1:33169: 89% of all thread time (p95 200 ms)</li>",
        "<h2>Decision</h2><ul><li>net 100% of busy time (next: cpu 0%)</li>",
        "<h2>Thread time by reason</h2>", "<tr data-reason=\"net\"><td>net</td>", "88.5%",
        "<h2>Dependencies</h2>", dependency_row.c_str(), "<h2>Risks</h2>"}) {
    std::size_t found = html.find(part, at);
    ASSERT_NE(found, std::string::npos) << "missing or out of order: " << part << "\n" << html;
    at = found;
  }
  EXPECT_FALSE(contains(html, "<h2>Options</h2>"));
  EXPECT_FALSE(contains(html, "<h2>Steps</h2>"));
  expect_self_contained(html);

  json& rec = doc["workloads"][0]["recommendation"];
  rec["options"] = json::array({{{"model", "threads"},
                                 {"speedup", 4.0},
                                 {"workers", 32},
                                 {"meets_objective", true},
                                 {"risks", json::array()}},
                                {{"model", "processes"}, {"risks", {"fork & threads"}}}});
  rec["chosen"] = "threads";
  rec["steps"] = {"raise the pool to 32 threads"};
  const std::string with = render_workload_page(doc, doc["workloads"][0]);
  EXPECT_TRUE(contains(with, "<h2>Options</h2>"));
  EXPECT_TRUE(contains(with, "<tr class=\"chosen\"><td>threads (chosen)</td><td>4.0x</td>"));
  EXPECT_TRUE(contains(with, "fork &amp; threads<br>"));
  EXPECT_TRUE(contains(with, "<h2>Steps</h2><ol><li>raise the pool to 32 threads</li></ol>"));
}

TEST(WebPage, HistoryStripHasOneCellPerWindowOldestFirst) {
  json doc = fixture();
  json& w = doc["workloads"][0];
  EXPECT_FALSE(contains(render_index_page(doc), "class=\"history\""));  // no history: none
  w["stability"]["history"] =
      json::array({{{"end", "2026-11-25T00:50:00Z"},
                    {"class", "idle"},
                    {"confidence", 0.5},
                    {"model", "none"},
                    {"published", false}},
                   {{"end", "2026-11-25T00:50:05Z"},
                    {"class", "io_network"},
                    {"confidence", 1.0},
                    {"model", "threads"},
                    {"workers", 11},
                    {"published", true}},
                   {{"end", "2026-11-25T00:50:10Z"}, {"class", "<b>x</b>"}, {"model", "threads"}}});
  for (const std::string& html : {render_index_page(doc), render_workload_page(doc, w)}) {
    const auto idle = html.find("<i data-class=\"idle\" style=\"background:#cfd8dc\"");
    const auto net = html.find(
        "<i data-class=\"io_network\" class=\"held\" style=\"background:#1e88e5\" "
        "title=\"2026-11-25T00:50:05Z: io_network 100%, threads × 11\">");
    ASSERT_NE(idle, std::string::npos) << html;
    ASSERT_NE(net, std::string::npos) << html;
    EXPECT_LT(idle, net);
    // A class the page does not know is escaped and drawn in the colour of "other".
    EXPECT_TRUE(contains(html, "data-class=\"&lt;b&gt;x&lt;/b&gt;\" style=\"background:#546e7a\""))
        << html;
    expect_self_contained(html);
  }
}

TEST(WebPage, WorkloadPageLinksTheFlameGraphsWhenStacksAreSampled) {
  json doc = fixture();
  json& w = doc["workloads"][0];
  w["workload"] = "a b&c";
  w["top_stacks"] = nullptr;  // the stacks collector does not run
  EXPECT_FALSE(contains(render_workload_page(doc, w), "Where in the code"));
  w["top_stacks"] = json::array(
      {{{"type", "offcpu"}, {"text", "net waits on orders-api 92% under <fetch> ← main"}}});
  const std::string html = render_workload_page(doc, w);
  EXPECT_TRUE(contains(html,
                       "<h2>Where in the code</h2><ul><li>net waits on orders-api 92% "
                       "under &lt;fetch&gt; ← main</li></ul>"))
      << html;
  EXPECT_TRUE(
      contains(html, "<a href=\"/profile?workload=a%20b%26c&amp;format=svg&amp;type=cpu\">cpu</a>"))
      << html;
  EXPECT_TRUE(contains(html, "&amp;type=offcpu\">offcpu</a>"));
  EXPECT_TRUE(contains(html, "&amp;type=gil\">gil</a>"));
  expect_self_contained(html);
}

TEST(WebPage, BeforeTheFirstWindowSaysSo) {
  json doc = fixture();
  doc["windows_completed"] = 0;
  doc["workloads"] = json::array();
  EXPECT_TRUE(contains(render_index_page(doc), "Waiting for the first window"));
}

// The handler: `/` is HTML under a content security policy; `?workload=` one page;
// `?format=text` the plain-text index; the web auth guards all of `/`.
TEST(WebPage, ServedAtTheRootUnderItsPolicy) {
  Snapshot s = test::snapshot_with({test::report("api", 0.9)});
  auto get = [&](const std::string& target, Authenticator* auth = nullptr,
                 const std::string& authorization = "") {
    return handle_request({"GET", target, authorization}, EndpointContext{s, true, {}, {}, auth});
  };
  const std::string name = s.workloads.at(0).name;
  auto index = get("/");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.content_type, "text/html; charset=utf-8");
  EXPECT_TRUE(contains(index.content_security_policy, "default-src 'none'"));
  EXPECT_TRUE(contains(index.body, "data-workload=\"" + html_escape(name) + "\""));

  auto one = get("/?workload=" + url_encode(name));
  EXPECT_EQ(one.status, 200);
  EXPECT_TRUE(contains(one.body, "<h2>Summary</h2>")) << one.body;
  auto unknown = get("/?workload=nope");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.content_type, "text/html; charset=utf-8");
  EXPECT_TRUE(contains(unknown.body, "href=\"/?workload=" + url_encode(name) + "\""));
  EXPECT_EQ(get("/?workload").status, 400);
  EXPECT_EQ(get("/?workload=%zz").status, 400);

  auto text = get("/?format=text");
  EXPECT_EQ(text.content_type, "text/plain; charset=utf-8");
  EXPECT_TRUE(contains(text.body, "/recommend?workload=NAME"));

  WebConfig web;
  web.bearer_token = "tok";
  Authenticator auth(web);
  for (const char* target : {"/", "/?workload=nope", "/?format=text"}) {
    EXPECT_EQ(get(target, &auth).status, 401) << target;
    EXPECT_EQ(get(target, &auth, "Bearer tok").status == 401, false) << target;
  }
}

}  // namespace
}  // namespace boundwise
