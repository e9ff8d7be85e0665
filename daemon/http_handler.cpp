// Endpoint routing: a pure function of the request and the current snapshot.
#include "daemon/http_handler.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <variant>

#include "daemon/auth.hpp"
#include "daemon/baselines.hpp"
#include "daemon/flame_graph.hpp"
#include "daemon/recommend_json.hpp"
#include "daemon/web_page.hpp"

namespace boundwise {

namespace {

using nlohmann::json;

std::string dump(const json& body) {
  // Replace invalid UTF-8 (a workload name from a weird comm) instead of throwing.
  return body.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

HttpResponse json_response(int status, const json& body) {
  HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = dump(body);
  return r;
}

HttpResponse error(int status, const std::string& message) {
  return json_response(status, json{{"error", message}});
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding; nullopt for malformed escapes.
std::optional<std::string> url_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      int hi = hex_value(s[i + 1]);
      int lo = hex_value(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// A query parameter: absent (no value, no error), present (its percent-decoded value;
// the last one when repeated), or malformed (the 400 message).
struct QueryValue {
  std::optional<std::string> value;
  std::string error;
};

QueryValue query_value(std::string_view query, std::string_view wanted) {
  QueryValue out;
  while (!query.empty()) {
    std::string_view pair = query.substr(0, query.find('&'));
    query = query.find('&') == std::string_view::npos ? "" : query.substr(query.find('&') + 1);
    std::string_view key = pair.substr(0, pair.find('='));
    if (key != wanted) continue;
    if (pair.find('=') == std::string_view::npos) {
      return {std::nullopt, std::string(wanted) + "= needs a value"};
    }
    auto value = url_decode(pair.substr(pair.find('=') + 1));
    if (!value) {
      return {std::nullopt,
              "malformed percent-encoding in the " + std::string(wanted) + " parameter"};
    }
    out.value = *value;
  }
  return out;
}

bool has_workload(const Snapshot& snapshot, const std::string& name) {
  return std::any_of(snapshot.workloads.begin(), snapshot.workloads.end(),
                     [&](const WorkloadReport& w) { return w.name == name; });
}

// 404 for a workload this agent does not know, with the names it knows.
HttpResponse unknown_workload(const Snapshot& snapshot, const std::string& name) {
  json names = json::array();
  for (const auto& w : snapshot.workloads) names.push_back(w.name);
  return json_response(404,
                       json{{"error", "unknown workload \"" + name + "\""}, {"workloads", names}});
}

// GET /recommend[?workload=NAME][&history=1]: every workload's verdict (the body
// rendered once per window when there is one), or one workload's; 404 with the known
// names for another. history=1 adds each workload's recent windows.
HttpResponse serve_recommend(std::string_view query, const EndpointContext& context) {
  QueryValue only = query_value(query, "workload");
  if (!only.error.empty()) return error(400, only.error);
  QueryValue history = query_value(query, "history");
  if (!history.error.empty() || (history.value && *history.value != "1" && *history.value != "0")) {
    return error(400, "history= takes 1 or 0");
  }
  const bool with_history = history.value == "1";
  if (only.value && !has_workload(context.snapshot, *only.value)) {
    return unknown_workload(context.snapshot, *only.value);
  }
  if (!only.value && !with_history && context.recommend_body != nullptr) {
    HttpResponse r;
    r.content_type = "application/json";
    r.shared_body = context.recommend_body;
    return r;
  }
  return json_response(200, recommend_document(context.snapshot, only.value, with_history));
}

// The page may only style itself: no script, no request to anywhere (a name that got
// past the escaping could still run nothing).
constexpr const char* kPagePolicy =
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'";

// The document the page renders, invalid UTF-8 (a workload named after a weird comm)
// replaced with U+FFFD: the page says charset=utf-8.
json page_document(const Snapshot& snapshot, const std::optional<std::string>& only) {
  return json::parse(recommend_document(snapshot, only, /*history=*/true)
                         .dump(-1, ' ', false, json::error_handler_t::replace));
}

// GET /: the web page (daemon/web_page.hpp); ?workload=NAME one workload's page (404
// listing the known ones for another); ?format=text the plain-text index.
HttpResponse serve_page(std::string_view query, const EndpointContext& context) {
  QueryValue format = query_value(query, "format");
  if (format.value && *format.value == "text") {
    HttpResponse r;
    r.body =
        "boundwise: is each workload CPU-bound or I/O-bound, and which concurrency model serves "
        "it\n\n"
        "  /                          this host's workloads as a web page\n"
        "  /?workload=NAME            one workload's explanation as a web page\n"
        "  /recommend                 verdicts and recommendations for every workload (JSON)\n"
        "  /recommend?workload=NAME   the same for one workload (&history=1: its recent windows)\n"
        "  /profile?workload=NAME&type=cpu|offcpu[&reason=R][&format=svg]\n"
        "                             on-CPU stacks of the last windows: folded, or a flame graph\n"
        "  /baselines                 stored baselines (POST ?workload=NAME&name=B stores one;\n"
        "                             DELETE removes it)\n"
        "  /compare?workload=NAME&baseline=B\n"
        "                             the workload now against baseline B\n"
        "  /metrics                   Prometheus metrics\n"
        "  /healthz, /readyz          probes\n";
    return r;
  }
  QueryValue only = query_value(query, "workload");
  if (!only.error.empty()) return error(400, only.error);
  HttpResponse r;
  r.content_type = "text/html; charset=utf-8";
  r.content_security_policy = kPagePolicy;
  json doc = page_document(context.snapshot, only.value);
  if (!only.value) {
    r.body = render_index_page(doc);
  } else if (doc["workloads"].empty()) {
    r.status = 404;
    r.body =
        render_unknown_workload_page(page_document(context.snapshot, std::nullopt), *only.value);
  } else {
    r.body = render_workload_page(doc, doc["workloads"][0]);
  }
  return r;
}

// The query's parameters, percent-decoded; nullopt (and `why`) for a malformed one.
std::optional<std::map<std::string, std::string>> parse_query(std::string_view query,
                                                              std::string& why) {
  std::map<std::string, std::string> out;
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? "" : query.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    auto key = url_decode(pair.substr(0, eq));
    auto value = url_decode(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
    if (!key || !value) {
      why = "malformed percent-encoding in the query";
      return std::nullopt;
    }
    out[*key] = *value;
  }
  return out;
}

// The query's parameters when each is one of `allowed`; nullopt and `error` (400)
// otherwise.
std::optional<std::map<std::string, std::string>> strict_query(
    std::string_view query, std::initializer_list<std::string_view> allowed,
    HttpResponse& error_response) {
  std::string why;
  auto params = parse_query(query, why);
  if (!params) {
    error_response = error(400, why);
    return std::nullopt;
  }
  for (const auto& [key, value] : *params) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      // "a, b and c"
      std::string names;
      for (std::size_t i = 0; i < allowed.size(); ++i) {
        const char* glue = i == 0 ? "" : i + 1 == allowed.size() ? " and " : ", ";
        names += glue + std::string(allowed.begin()[i]);
      }
      error_response = error(400, "unknown parameter \"" + key + "\"; use " + names);
      return std::nullopt;
    }
  }
  return params;
}

std::optional<std::string> param(const std::map<std::string, std::string>& params,
                                 const char* key) {
  auto it = params.find(key);
  if (it == params.end() || it->second.empty()) return std::nullopt;
  return it->second;
}

// GET /profile?workload=NAME&type=cpu|offcpu|gil[&reason=R][&format=folded|svg]: the
// workload's on-CPU or off-CPU stacks of the last windows (off-CPU: of one reason with
// reason=), or the GIL holder's Python stacks (gil), folded (text) or as a flame graph
// (SVG).
HttpResponse serve_profile(std::string_view query, const EndpointContext& context) {
  HttpResponse bad;
  auto params = strict_query(query, {"workload", "type", "reason", "format"}, bad);
  if (!params) return bad;
  auto workload = params->find("workload");
  if (workload == params->end() || workload->second.empty()) {
    return error(400, "workload= is required");
  }
  auto type = params->find("type");
  const std::string type_name = type == params->end() ? "cpu" : type->second;
  if (type_name != "cpu" && type_name != "offcpu" && type_name != "gil") {
    return error(400, "unknown type \"" + type_name + "\"; use type=cpu, type=offcpu or type=gil");
  }
  std::optional<Reason> reason;
  if (auto r = params->find("reason"); r != params->end()) {
    reason = reason_from_string(r->second);
    if (type_name != "offcpu" || !reason) {
      return error(400,
                   "reason= takes a wait reason (gil, lock, net, disk, ipc, sleep, "
                   "other) with type=offcpu");
    }
  }
  auto format = params->find("format");
  const std::string format_name = format == params->end() ? "folded" : format->second;
  if (format_name != "folded" && format_name != "svg") {
    return error(400, "unknown format \"" + format_name + "\"; use folded or svg");
  }
  const WorkloadReport* report = nullptr;
  for (const auto& w : context.snapshot.workloads) {
    if (w.name == workload->second) report = &w;
  }
  if (report == nullptr) return unknown_workload(context.snapshot, workload->second);
  const bool offcpu = type_name == "offcpu";
  const bool gil = type_name == "gil";
  const auto& profile = offcpu ? report->offcpu_profile
                        : gil  ? report->gil_profile
                               : report->cpu_profile;
  if (!profile) {
    return error(404, std::string("no profile: the stacks collector is not running (enable it "
                                  "with collectors: {stacks: {enabled: true}})") +
                          (offcpu ? ", off-CPU stacks are off (stacks: {offcpu_hz: 0})" : "") +
                          ", or no window has closed yet");
  }
  const FoldedStacks stacks = reason ? only_reason(*profile, *reason) : *profile;
  HttpResponse r;
  if (format_name == "svg") {
    r.content_type = "image/svg+xml";
    const std::string what =
        offcpu ? "off-CPU stacks" +
                     (reason ? " (" + std::string(to_string(*reason)) + ")" : std::string())
        : gil ? std::string("GIL holder stacks")
              : std::string("on-CPU stacks");
    const std::string total =
        offcpu ? fmt::format("{:.3f} s blocked", static_cast<double>(stacks.samples) / 1000.0)
        : gil  ? std::to_string(stacks.samples) + " probes with the GIL held"
               : std::to_string(stacks.samples) + " samples";
    r.body = render_flame_graph(stacks, what + " of " + report->name + " (" + total + ")",
                                offcpu ? FlameUnit::milliseconds
                                : gil  ? FlameUnit::probes
                                       : FlameUnit::samples);
  } else {
    r.body = render_folded(stacks);
  }
  return r;
}

// Windows a baseline averages: windows=K (1 to the history's length), default 6 (a
// minute at the default 10 s window).
constexpr int kDefaultBaselineWindows = 6;

std::optional<int> windows_param(const std::map<std::string, std::string>& params,
                                 HttpResponse& error_response) {
  auto text = param(params, "windows");
  if (!text) return kDefaultBaselineWindows;
  int n = 0;
  auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), n);
  const int most = static_cast<int>(VerdictStability::kHistoryWindows);
  if (ec != std::errc() || ptr != text->data() + text->size() || n < 1 || n > most) {
    error_response = error(400, "windows= takes 1 to " + std::to_string(most));
    return std::nullopt;
  }
  return n;
}

// The workload's figures now: the mean of its last `windows` windows. A response
// (404, 409) instead when it has none.
std::variant<Baseline, HttpResponse> measure_now(const Snapshot& snapshot,
                                                 const std::string& workload,
                                                 const std::string& name, int windows) {
  const WorkloadReport* report = nullptr;
  for (const auto& w : snapshot.workloads) {
    if (w.name == workload) report = &w;
  }
  if (report == nullptr) return unknown_workload(snapshot, workload);
  if (!report->stability || report->stability->history.empty()) {
    return error(409, "workload \"" + workload + "\" has no classified window " +
                          (report->state == WorkloadState::running
                               ? std::string("yet: try again after the next window closes")
                               : "now: it is " + std::string(to_string(report->state))));
  }
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  auto b = make_baseline(workload, name, report->stability->history, windows, now,
                         report->recommendation ? report->recommendation->currency : "");
  return std::move(*b);  // history is not empty and windows >= 1
}

// GET /baselines[?workload=W]; POST /baselines?workload=W&name=N[&windows=K] stores the
// workload's figures now; DELETE /baselines?workload=W&name=N.
HttpResponse serve_baselines(const HttpRequest& request, std::string_view query,
                             const EndpointContext& context) {
  HttpResponse bad;
  auto params = strict_query(query, {"workload", "name", "windows"}, bad);
  if (!params) return bad;
  if (context.baselines == nullptr) return error(503, "baselines are off in this agent");
  BaselineStore& store = *context.baselines;
  auto workload = param(*params, "workload");
  auto name = param(*params, "name");
  if (request.method == "GET" || request.method == "HEAD") {
    json list = json::array();
    for (const auto& b : store.list(workload)) list.push_back(baseline_json(b));
    json skipped = json::array();
    for (const auto& s : store.skipped()) skipped.push_back({{"file", s.file}, {"error", s.error}});
    return json_response(200, json{{"directory", store.dir()},
                                   {"max_baselines", store.max_baselines()},
                                   {"baselines", list},
                                   {"skipped", skipped}});
  }
  if (!workload || !name) return error(400, "workload= and name= are required");
  if (!valid_baseline_name(*name)) {
    return error(400, "a baseline name is 1 to 64 of A-Z a-z 0-9 . _ -");
  }
  if (request.method == "DELETE") {
    auto removed = store.remove(*workload, *name);
    if (!removed) return error(500, removed.error().message);
    if (!*removed) {
      return error(404, "no baseline \"" + *name + "\" for workload \"" + *workload + "\"");
    }
    return json_response(200, json{{"deleted", {{"workload", *workload}, {"name", *name}}}});
  }
  auto windows = windows_param(*params, bad);
  if (!windows) return bad;
  auto now = measure_now(context.snapshot, *workload, *name, *windows);
  if (auto* r = std::get_if<HttpResponse>(&now)) return std::move(*r);
  const Baseline& b = std::get<Baseline>(now);
  if (!store.get(*workload, *name) && store.list().size() >= store.max_baselines()) {
    return error(409, "the agent holds max_baselines (" + std::to_string(store.max_baselines()) +
                          ") already: DELETE one first");
  }
  auto stored = store.put(b);
  if (!stored) return error(500, "baseline not stored: " + stored.error().message);
  json body = baseline_json(b);
  body["replaced"] = *stored;
  return json_response(*stored ? 200 : 201, body);
}

// GET /compare?workload=W&baseline=N[&windows=K]: the baseline against the workload's
// last K windows.
HttpResponse serve_compare(std::string_view query, const EndpointContext& context) {
  HttpResponse bad;
  auto params = strict_query(query, {"workload", "baseline", "windows"}, bad);
  if (!params) return bad;
  if (context.baselines == nullptr) return error(503, "baselines are off in this agent");
  auto workload = param(*params, "workload");
  auto name = param(*params, "baseline");
  if (!workload || !name) return error(400, "workload= and baseline= are required");
  auto before = context.baselines->get(*workload, *name);
  if (!before) {
    json names = json::array();
    for (const auto& b : context.baselines->list(workload)) names.push_back(b.name);
    return json_response(
        404, json{{"error", "no baseline \"" + *name + "\" for workload \"" + *workload + "\""},
                  {"baselines", names}});
  }
  auto windows = windows_param(*params, bad);
  if (!windows) return bad;
  auto now = measure_now(context.snapshot, *workload, "current", *windows);
  if (auto* r = std::get_if<HttpResponse>(&now)) return std::move(*r);
  const Baseline& after = std::get<Baseline>(now);
  std::optional<bool> met;
  for (const auto& w : context.snapshot.workloads) {
    if (w.name == *workload && w.recommendation && w.recommendation->objective_status) {
      met = w.recommendation->objective_status->met;
    }
  }
  const Comparison c = compare(*before, after, met);
  return json_response(200, json{{"workload", *workload},
                                 {"baseline", baseline_json(*before)},
                                 {"current", baseline_json(after)},
                                 {"comparison", comparison_json(c)},
                                 {"summary", c.summary}});
}
}  // namespace

std::string render_recommend(const Snapshot& snapshot) {
  return dump(recommend_document(snapshot));
}

HttpResponse handle_request(const HttpRequest& request, const EndpointContext& context) {
  std::string_view target = request.target;
  std::string_view path = target.substr(0, target.find('?'));
  std::string_view query =
      target.find('?') == std::string_view::npos ? "" : target.substr(target.find('?') + 1);

  bool known = path == "/" || path == "/metrics" || path == "/recommend" || path == "/profile" ||
               path == "/baselines" || path == "/compare" || path == "/healthz" ||
               path == "/readyz";
  if (!known) {
    return error(404,
                 "no such endpoint; try /, /metrics, /recommend, /profile, /baselines, /compare, "
                 "/healthz, /readyz");
  }
  if (context.auth != nullptr && context.auth->requires_credentials(request.method, path) &&
      !context.auth->check(request.authorization)) {
    HttpResponse r =
        error(401, request.authorization.empty() ? "credentials required" : "wrong credentials");
    r.www_authenticate = context.auth->challenge();
    return r;
  }
  const bool writes = path == "/baselines";
  const bool read = request.method == "GET" || request.method == "HEAD";
  if (!read && !(writes && (request.method == "POST" || request.method == "DELETE"))) {
    HttpResponse r = error(405, "method " + request.method + " not allowed; use " +
                                    (writes ? "GET, POST or DELETE" : "GET"));
    r.allow = writes ? "GET, HEAD, POST, DELETE" : "GET, HEAD";
    return r;
  }

  if (path == "/metrics") {
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    if (context.metrics_body) {
      r.shared_body = context.metrics_body;
    } else {
      r.status = 503;
      r.body = "metrics not rendered yet\n";
    }
    return r;
  }
  if (path == "/healthz") {
    HttpResponse r;
    r.body = "ok\n";
    return r;
  }
  if (path == "/readyz") {
    HttpResponse r;
    r.status = context.ready ? 200 : 503;
    r.body = context.ready ? "ready\n" : "not ready: the first window has not been classified\n";
    return r;
  }
  if (path == "/") return serve_page(query, context);

  if (path == "/profile") return serve_profile(query, context);
  if (path == "/baselines") return serve_baselines(request, query, context);
  if (path == "/compare") return serve_compare(query, context);
  return serve_recommend(query, context);
}

}  // namespace boundwise
