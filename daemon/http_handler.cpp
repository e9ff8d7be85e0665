// Endpoint routing: a pure function of the request and the current snapshot.
#include "daemon/http_handler.hpp"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "daemon/auth.hpp"
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
    json names = json::array();
    for (const auto& w : context.snapshot.workloads) names.push_back(w.name);
    return json_response(
        404, json{{"error", "unknown workload \"" + *only.value + "\""}, {"workloads", names}});
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
  return json::parse(
      recommend_document(snapshot, only).dump(-1, ' ', false, json::error_handler_t::replace));
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

// GET /profile?workload=NAME&type=cpu|offcpu[&reason=R][&format=folded|svg]: the
// workload's on-CPU or off-CPU stacks of the last windows (off-CPU: of one reason with
// reason=), folded (text) or as a flame graph (SVG).
HttpResponse serve_profile(std::string_view query, const EndpointContext& context) {
  std::string why;
  auto params = parse_query(query, why);
  if (!params) return error(400, why);
  for (const auto& [key, value] : *params) {
    if (key != "workload" && key != "type" && key != "format" && key != "reason") {
      return error(400, "unknown parameter \"" + key + "\"; use workload, type, reason and format");
    }
  }
  auto workload = params->find("workload");
  if (workload == params->end() || workload->second.empty()) {
    return error(400, "workload= is required");
  }
  auto type = params->find("type");
  const std::string type_name = type == params->end() ? "cpu" : type->second;
  if (type_name != "cpu" && type_name != "offcpu") {
    return error(400, "unknown type \"" + type_name + "\"; use type=cpu or type=offcpu");
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
  json names = json::array();
  for (const auto& w : context.snapshot.workloads) {
    names.push_back(w.name);
    if (w.name == workload->second) report = &w;
  }
  if (report == nullptr) {
    return json_response(404, json{{"error", "unknown workload \"" + workload->second + "\""},
                                   {"workloads", names}});
  }
  const bool offcpu = type_name == "offcpu";
  const auto& profile = offcpu ? report->offcpu_profile : report->cpu_profile;
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
               : std::string("on-CPU stacks");
    r.body = render_flame_graph(stacks, what + " of " + report->name + " (" +
                                            std::to_string(stacks.samples) +
                                            (offcpu ? " ms blocked)" : " samples)"));
  } else {
    r.body = render_folded(stacks);
  }
  return r;
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
               path == "/healthz" || path == "/readyz";
  if (!known) {
    return error(404, "no such endpoint; try /, /metrics, /recommend, /profile, /healthz, /readyz");
  }
  if (context.auth != nullptr && context.auth->protects(path) &&
      !context.auth->check(request.authorization)) {
    HttpResponse r =
        error(401, request.authorization.empty() ? "credentials required" : "wrong credentials");
    r.www_authenticate = context.auth->challenge();
    return r;
  }
  if (request.method != "GET" && request.method != "HEAD") {
    HttpResponse r = error(405, "method " + request.method + " not allowed; use GET");
    r.allow = "GET, HEAD";
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
  return serve_recommend(query, context);
}

}  // namespace boundwise
