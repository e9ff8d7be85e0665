// The HTML of `/` and `/?workload=NAME`. Built as strings: the pages are small, and
// one function, html_escape(), stands between every document string and the markup.
// Numbers are formatted like the CLI's (daemon/cli_format.hpp).
#include "daemon/web_page.hpp"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "classifier/text.hpp"
#include "daemon/build_info.hpp"
#include "daemon/cli_format.hpp"
#include "daemon/json_read.hpp"

namespace boundwise {

namespace {

using json_read::field;
using json_read::number;
using json_read::text;
using nlohmann::json;

// One colour per wait reason (the stacked bar and its legend), in the order the
// agent lists reasons.
struct ReasonColour {
  const char* reason;
  const char* colour;
};
constexpr ReasonColour kReasonColours[] = {
    {"on_cpu", "#2e7d32"}, {"runqueue", "#f9a825"}, {"gil", "#8e24aa"},  {"lock", "#d81b60"},
    {"net", "#1e88e5"},    {"disk", "#6d4c41"},     {"ipc", "#00acc1"},  {"sleep", "#9e9e9e"},
    {"idle", "#cfd8dc"},   {"paging", "#e53935"},   {"other", "#546e7a"}};

const char* reason_colour(const std::string& reason) {
  for (const auto& rc : kReasonColours) {
    if (reason == rc.reason) return rc.colour;
  }
  return "#546e7a";
}

// A class in the colour of the reason behind it (a history strip's cells).
const char* class_colour(const std::string& cls) {
  static constexpr ReasonColour kClassReasons[] = {
      {"cpu_bound", "on_cpu"},       {"cpu_parallel", "on_cpu"}, {"gil_contended", "gil"},
      {"io_network", "net"},         {"io_disk", "disk"},        {"lock_contended", "lock"},
      {"cpu_saturated", "runqueue"}, {"memory_bound", "paging"}, {"idle", "idle"}};
  for (const auto& cr : kClassReasons) {
    if (cls == cr.reason) return reason_colour(cr.colour);
  }
  return reason_colour("other");  // mixed
}

// No request leaves the page: system fonts, inline styles, no images.
constexpr const char* kStyle = R"(
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1c2329;background:#f6f8fa}
header,main,footer{padding:12px 24px}
header{background:#1c2329;color:#eef2f5}
header h1{margin:0;font-size:20px}
header .meta{margin:4px 0 0;color:#b0bec5}
a{color:#1565c0}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{text-align:left;vertical-align:top;padding:8px 10px;border-bottom:1px solid #e1e4e8}
th{font-weight:600;background:#eef1f4}
.state{color:#57606a;font-size:12px}
.state.down{color:#c62828;font-weight:600}
.class{font-weight:600}
.conf{color:#57606a}
.reason{color:#333;margin-top:2px}
.bar{display:flex;width:260px;height:14px;border:1px solid #c9d1d9;background:#fff}
.bar span{display:block;height:100%}
.legend span{display:inline-block;margin-right:10px;font-size:12px}
.legend i{display:inline-block;width:10px;height:10px;margin-right:3px;vertical-align:middle}
.deps{margin:0;padding-left:16px}
.muted{color:#57606a}
section{background:#fff;border:1px solid #e1e4e8;padding:8px 16px;margin:12px 0}
section h2{font-size:16px;margin:4px 0 8px}
.hbar{display:inline-block;height:12px;vertical-align:middle;margin-right:6px}
.hbar-track{display:inline-block;width:300px;height:12px;background:#eef1f4;vertical-align:middle;margin-right:8px}
.chosen{font-weight:600;background:#e8f5e9}
.history{display:flex;gap:2px;margin-top:4px}
.history i{display:block;width:8px;height:12px}
.history i.held{outline:1px solid #1c2329}
footer{color:#57606a;font-size:12px}
)";

std::string percent(double share, int decimals = 0) { return cli::format_percent(share, decimals); }

// CSS widths: a share as a percentage with two decimals, never negative or past 100.
std::string css_width(double share) {
  if (!std::isfinite(share)) share = 0;
  return printf_string("%.2f%%", std::clamp(share, 0.0, 1.0) * 100);
}

std::string workload_href(const std::string& name) { return "/?workload=" + url_encode(name); }

std::string page(const std::string& title, int refresh_seconds, const std::string& header,
                 const std::string& body) {
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
  if (refresh_seconds > 0) {
    out += "<meta http-equiv=\"refresh\" content=\"" + std::to_string(refresh_seconds) + "\">\n";
  }
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<title>" + html_escape(title) + "</title>\n<style>" + std::string(kStyle) +
         "</style></head>\n<body>\n<header>" + header + "</header>\n<main>\n" + body +
         "</main>\n<footer>JSON: <a href=\"/recommend\">/recommend</a> · metrics: <a "
         "href=\"/metrics\">/metrics</a> · probes: /healthz, /readyz · <a "
         "href=\"/?format=text\">plain-text index</a> · boundwise " +
         html_escape(build_info().version) + "</footer>\n</body></html>\n";
  return out;
}

// Refresh once a window, at least every 2 s.
int refresh_seconds(const json& doc) {
  double window = number(doc, "window_seconds").value_or(10);
  return static_cast<int>(std::max(2.0, std::round(window)));
}

std::string agent_header(const json& doc, const std::string& title_html) {
  std::string meta = "host <b>" + html_escape(text(doc, "host")) + "</b>";
  if (auto w = number(doc, "window_seconds")) meta += " · window " + cli::format_duration(*w);
  if (auto n = number(doc, "windows_completed")) {
    meta += printf_string(" · %.0f windows classified", *n);
  }
  if (auto at = text(doc, "generated_at"); !at.empty()) {
    meta += " · at <span class=\"generated\">" + html_escape(at) + "</span>";
  }
  const json& node = field(doc, "node");
  if (auto cores = number(node, "cores")) {
    meta += printf_string(" · node: %.0f cores", *cores);
    if (auto busy = number(node, "cpu_busy_ratio")) meta += ", CPU busy " + percent(*busy);
  }
  return "<h1>" + title_html + "</h1><p class=\"meta\">" + meta + "</p>";
}

// Reasons with their shares, largest first, those under 0.05% left out.
std::vector<std::pair<std::string, double>> sorted_shares(const json& shares) {
  std::vector<std::pair<std::string, double>> out;
  if (!shares.is_object()) return out;
  for (const auto& [reason, v] : shares.items()) {
    if (v.is_number() && v.get<double>() >= 0.0005) out.emplace_back(reason, v.get<double>());
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  return out;
}

// Thread time by reason as one stacked bar, each segment titled with its share.
std::string stacked_bar(const json& shares) {
  std::string out = "<div class=\"bar\" role=\"img\" aria-label=\"thread time by reason\">";
  for (const auto& [reason, share] : sorted_shares(shares)) {
    std::string label = html_escape(reason) + " " + percent(share, 1);
    out += "<span class=\"seg\" data-reason=\"" + html_escape(reason) + "\" data-share=\"" +
           printf_string("%.4f", share) + "\" title=\"" + label +
           "\" style=\"width:" + css_width(share) + ";background:" + reason_colour(reason) +
           "\"></span>";
  }
  return out + "</div>";
}

std::string legend() {
  std::string out = "<p class=\"legend\">";
  for (const auto& rc : kReasonColours) {
    out +=
        "<span><i style=\"background:" + std::string(rc.colour) + "\"></i>" + rc.reason + "</span>";
  }
  return out + "</p>\n";
}

std::string latency_text(const json& latency) {
  std::string out;
  for (const char* q : {"p50", "p95", "p99"}) {
    if (auto v = number(latency, q)) {
      out += (out.empty() ? "" : " · ") + std::string(q) + " " + cli::format_duration(*v);
    }
  }
  return out;
}

std::string model_text(const json& rec) {
  std::string model = html_escape(text(rec, "model"));
  if (model.empty()) return "";
  std::string out = "<b class=\"model\">" + model + "</b>";
  if (auto workers = number(rec, "workers"); workers && *workers > 0) {
    out += printf_string(", %.0f workers", *workers);
  }
  return out;
}

// The last windows, oldest first, one cell each in its class's colour (an outline where
// the class was published: a class is held for a few windows before it is), titled
// with what the window said. Nothing without a history.
std::string history_strip(const json& w) {
  const json& windows = field(field(w, "stability"), "history");
  if (!windows.is_array() || windows.empty()) return "";
  std::string out = "<div class=\"history\" title=\"the last windows, oldest first\">";
  for (const auto& h : windows) {
    const std::string cls = text(h, "class");
    std::string title = text(h, "end") + ": " + cls;
    if (auto c = number(h, "confidence")) title += " " + percent(*c);
    title += ", " + text(h, "model");
    if (auto n = number(h, "workers")) title += printf_string(" × %.0f", *n);
    const auto published = h.find("published");
    const bool held = published != h.end() && published->is_boolean() && published->get<bool>();
    out += "<i data-class=\"" + html_escape(cls) + "\"" + (held ? " class=\"held\"" : "") +
           " style=\"background:" + class_colour(cls) + "\" title=\"" + html_escape(title) +
           "\"></i>";
  }
  return out + "</div>";
}

// Where in the code: the verdict's top stacks (classifier/top_stacks.hpp) and links to
// the flame graphs of /profile. Nothing when the stacks collector does not run.
std::string stacks_section(const std::string& name, const json& w) {
  const json& stacks = field(w, "top_stacks");
  if (!stacks.is_array()) return "";
  std::string out = "<section class=\"stacks\"><h2>Where in the code</h2>";
  if (stacks.empty()) out += "<p class=\"muted\">no stack sampled for this reason yet</p>";
  out += "<ul>";
  for (const auto& s : stacks) out += "<li>" + html_escape(text(s, "text")) + "</li>";
  out += "</ul><p>Flame graphs of the last windows:";
  const std::string query = "/profile?workload=" + url_encode(name) + "&format=svg&type=";
  for (const char* type : {"cpu", "offcpu", "gil"}) {
    out += " <a href=\"" + html_escape(query + type) + "\">" + type + "</a>";
  }
  return out + "</p></section>\n";
}

bool running(const json& w) {
  std::string state = text(w, "state");
  return state.empty() || state == "running";
}

std::string state_line(const json& w) {
  std::string state = text(w, "state").empty() ? "running" : text(w, "state");
  std::string out =
      "<div class=\"state" + std::string(running(w) ? "" : " down") + "\">" + html_escape(state);
  if (auto threads = number(w, "threads"); threads && running(w)) {
    out += printf_string(" · %.0f thread%s", *threads, *threads == 1 ? "" : "s");
  }
  if (auto since = text(w, "absent_since"); !since.empty()) out += " since " + html_escape(since);
  return out + "</div>";
}

std::string index_row(const json& w) {
  const std::string name = text(w, "workload");
  const json& verdict = field(w, "verdict");
  const json& rec = field(w, "recommendation");
  std::string row = "<tr class=\"workload\" data-workload=\"" + html_escape(name) + "\">";
  row += "<td class=\"name\"><a href=\"" + html_escape(workload_href(name)) + "\">" +
         html_escape(name) + "</a>" + state_line(w) + "</td>";
  if (!verdict.is_object()) {
    std::string why = text(w, "state_detail");
    if (why.empty()) {
      why = running(w) ? "waiting for its first full window" : "not classified";
    }
    return row + "<td class=\"verdict muted\">-</td><td class=\"recommendation muted\">" +
           html_escape(why) + "</td><td></td><td></td></tr>\n";
  }
  row += "<td class=\"verdict\"><span class=\"class\">" + html_escape(text(verdict, "class")) +
         "</span>";
  if (auto c = number(verdict, "confidence")) {
    row += " <span class=\"conf\">" + percent(*c) + "</span>";
  }
  if (auto cores = number(verdict, "cpu_cores_used")) {
    row += printf_string("<div class=\"state\">%.2f cores</div>", *cores);
  }
  row += history_strip(w);
  row += "</td><td class=\"recommendation\">" + model_text(rec) + "<div class=\"reason\">" +
         html_escape(text(rec, "summary")) + "</div></td>";
  row += "<td class=\"shares\">" + stacked_bar(field(verdict, "shares")) + "</td>";
  row += "<td class=\"dependencies\">";
  const json& deps = field(verdict, "dependencies");
  if (deps.is_array() && !deps.empty()) {
    row += "<ul class=\"deps\">";
    for (const auto& d : deps) {
      std::string latency = latency_text(field(d, "latency_seconds"));
      row += "<li><b>" + html_escape(text(d, "name")) + "</b> <span class=\"muted\">" +
             html_escape(text(d, "endpoint")) + "</span>" +
             (latency.empty() ? "" : "<br>" + latency) + "</li>";
    }
    row += "</ul>";
  } else {
    row += "<span class=\"muted\">none</span>";
  }
  return row + "</td></tr>\n";
}

std::string list_section(const char* title, const char* css_class, const json& items,
                         bool ordered = false) {
  if (!items.is_array() || items.empty()) return "";
  const char* tag = ordered ? "ol" : "ul";
  std::string out =
      "<section class=\"" + std::string(css_class) + "\"><h2>" + title + "</h2><" + tag + ">";
  for (const auto& item : items) {
    if (item.is_string()) out += "<li>" + html_escape(item.get<std::string>()) + "</li>";
  }
  return out + "</" + tag + "></section>\n";
}

// Options of the decision engine (in `recommendation` or beside it), the chosen one
// and the steps; nothing when the document has none.
std::string options_sections(const json& w) {
  const json& rec = field(w, "recommendation");
  const json& options =
      field(rec, "options").is_array() ? field(rec, "options") : field(w, "options");
  const json& chosen = field(rec, "chosen").is_null() ? field(w, "chosen") : field(rec, "chosen");
  const json& steps = field(rec, "steps").is_array() ? field(rec, "steps") : field(w, "steps");
  std::string out;
  if (options.is_array() && !options.empty()) {
    out +=
        "<section class=\"options\"><h2>Options</h2><table><thead><tr><th>model</th>"
        "<th>speedup</th><th>workers</th><th>cores</th><th>memory</th><th>cost per "
        "month</th><th>meets objective</th><th>risks</th></tr></thead><tbody>";
    for (std::size_t i = 0; i < options.size(); ++i) {
      const json& o = options[i];
      const std::string model = text(o, "model");
      bool is_chosen =
          (chosen.is_string() && chosen.get<std::string>() == model) ||
          (chosen.is_number_integer() && chosen.get<long long>() == static_cast<long long>(i)) ||
          (chosen.is_object() && text(chosen, "model") == model);
      auto cell = [&](const char* key, const char* format) {
        auto v = number(o, key);
        return "<td>" + (v ? printf_string(format, *v) : std::string("-")) + "</td>";
      };
      const json& meets = field(o, "meets_objective");
      out += std::string("<tr") + (is_chosen ? " class=\"chosen\"" : "") + "><td>" +
             html_escape(model) + (is_chosen ? " (chosen)" : "") + "</td>" +
             cell("speedup", "%.1fx") + cell("workers", "%.0f") + cell("cores", "%.2f") +
             cell("memory_bytes", "%.0f B") + cell("cost_per_month", "%.2f") + "<td>" +
             (meets.is_boolean() ? (meets.get<bool>() ? "yes" : "no") : "-") + "</td><td>";
      if (const json& risks = field(o, "risks"); risks.is_array()) {
        for (const auto& r : risks) {
          if (r.is_string()) out += html_escape(r.get<std::string>()) + "<br>";
        }
      }
      out += "</td></tr>";
    }
    out += "</tbody></table></section>\n";
  }
  return out + list_section("Steps", "steps", steps, true);
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string render_index_page(const json& doc) {
  std::string body;
  const json& workloads = field(doc, "workloads");
  auto completed = number(doc, "windows_completed");
  if (completed && *completed == 0) {
    body += "<p class=\"notice\">Waiting for the first window to close (window " +
            cli::format_duration(number(doc, "window_seconds").value_or(0)) +
            "): no verdict yet.</p>\n";
  }
  if (workloads.is_array() && !workloads.empty()) {
    body +=
        "<table class=\"workloads\"><thead><tr><th>workload</th><th>verdict</th>"
        "<th>recommendation and why</th><th>thread time by reason</th><th>dependencies "
        "(latency)</th></tr></thead><tbody>\n";
    for (const auto& w : workloads) body += index_row(w);
    body += "</tbody></table>\n" + legend();
  } else if (!completed || *completed > 0) {
    body += "<p class=\"notice\">No workloads.</p>\n";
  }
  return page("boundwise · " + text(doc, "host"), refresh_seconds(doc),
              agent_header(doc, "boundwise"), body);
}

std::string render_workload_page(const json& doc, const json& w) {
  const std::string name = text(w, "workload");
  const json& verdict = field(w, "verdict");
  const json& rec = field(w, "recommendation");
  std::string body = "<p><a href=\"/\">← all workloads</a></p>\n";
  body += "<section class=\"headline\"><h2>";
  if (verdict.is_object()) {
    body += "<span class=\"class\">" + html_escape(text(verdict, "class")) + "</span>";
    if (auto c = number(verdict, "confidence")) {
      body += " <span class=\"conf\">confidence " + percent(*c) + "</span>";
    }
  } else {
    body += "not classified";
  }
  body += "</h2>" + state_line(w) + history_strip(w);
  std::string facts;
  if (const json& pids = field(w, "pids"); pids.is_array() && !pids.empty()) {
    facts += "pids";
    for (std::size_t i = 0; i < pids.size() && i < 16; ++i) facts += " " + pids[i].dump();
    if (pids.size() > 16) facts += " …";
  }
  if (auto p = number(w, "processes")) {
    facts += printf_string(" · %.0f process%s", *p, *p == 1 ? "" : "es");
  }
  if (auto c = number(verdict, "cpu_cores_used")) facts += printf_string(" · %.2f cores used", *c);
  if (!facts.empty()) body += "<p class=\"muted\">" + html_escape(facts) + "</p>";
  if (auto detail = text(w, "state_detail"); !detail.empty()) {
    body += "<p>" + html_escape(detail) + "</p>";
  }
  body += "</section>\n";

  if (verdict.is_object()) {
    body += "<section class=\"summary\"><h2>Summary</h2><p>" + html_escape(text(rec, "summary")) +
            "</p><p>Recommendation: " + model_text(rec);
    if (auto now = text(w, "current_model"); !now.empty()) {
      body += " <span class=\"muted\">(now: " + html_escape(now) + ")</span>";
    }
    body += "</p></section>\n";
    body += list_section("Evidence", "evidence", field(rec, "evidence"));
    body += list_section("Decision", "decision", field(verdict, "rationale"));
    body += "<section class=\"shares\"><h2>Thread time by reason</h2>" +
            stacked_bar(field(verdict, "shares")) + "<table>";
    for (const auto& [reason, share] : sorted_shares(field(verdict, "shares"))) {
      body += "<tr data-reason=\"" + html_escape(reason) + "\"><td>" + html_escape(reason) +
              "</td><td><span class=\"hbar-track\"><span class=\"hbar\" style=\"width:" +
              css_width(share) + ";background:" + reason_colour(reason) + "\"></span></span>" +
              percent(share, 1) + "</td></tr>";
    }
    body += "</table></section>\n";
    const json& deps = field(verdict, "dependencies");
    if (deps.is_array() && !deps.empty()) {
      body +=
          "<section class=\"dependencies\"><h2>Dependencies</h2><table><thead><tr><th>name</th>"
          "<th>endpoint</th><th>share of thread time waiting</th><th>latency</th><th>source</th>"
          "</tr></thead><tbody>";
      for (const auto& d : deps) {
        auto wait = number(d, "wait_share");
        std::string latency = latency_text(field(d, "latency_seconds"));
        body += "<tr><td>" + html_escape(text(d, "name")) + "</td><td>" +
                html_escape(text(d, "endpoint")) + "</td><td>" +
                (wait ? percent(*wait, 1) : std::string("-")) + "</td><td>" +
                (latency.empty() ? "no complete wait seen" : latency) + "</td><td>" +
                html_escape(text(d, "latency_source")) + "</td></tr>";
      }
      body += "</tbody></table></section>\n";
    }
    body += stacks_section(name, w);
    body += list_section("Risks", "risks", field(rec, "risks"));
    body += options_sections(w);
  }
  return page(name + " · boundwise", refresh_seconds(doc),
              agent_header(doc, "<a href=\"/\" style=\"color:inherit\">boundwise</a> · " +
                                    html_escape(name)),
              body);
}

std::string render_unknown_workload_page(const json& doc, const std::string& name) {
  std::string body = "<p class=\"notice\">No workload named <b>" + html_escape(name) +
                     "</b>. Known workloads:</p><ul>";
  if (const json& workloads = field(doc, "workloads"); workloads.is_array()) {
    for (const auto& w : workloads) {
      const std::string known = text(w, "workload");
      body += "<li><a href=\"" + html_escape(workload_href(known)) + "\">" + html_escape(known) +
              "</a></li>";
    }
  }
  body += "</ul>\n";
  return page("unknown workload · boundwise", 0, agent_header(doc, "boundwise"), body);
}

}  // namespace boundwise
