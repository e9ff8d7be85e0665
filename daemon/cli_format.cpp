// Text for people reading an agent's answer in a terminal. Every field is read
// defensively (absent, null or of another type = not shown): the CLI may talk to an
// agent of another version.
#include "daemon/cli_format.hpp"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "classifier/text.hpp"
#include "daemon/json_read.hpp"

namespace boundwise::cli {

namespace {

using nlohmann::json;

using json_read::field;
using json_read::number;
using json_read::text;

std::string percent(double share) { return format_percent(share); }
// One decimal for the bars, where 0.4% and 0% differ.
std::string percent1(double share) { return format_percent(share, 1); }

// Columns count characters, not bytes: a name may hold UTF-8 ("µs" does).
std::size_t display_width(const std::string& s) {
  return static_cast<std::size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

std::string pad(const std::string& s, std::size_t width) {
  std::size_t w = display_width(s);
  return w >= width ? s : s + std::string(width - w, ' ');
}

// ANSI SGR codes; nothing without colour.
std::string paint(const Style& style, const char* code, const std::string& s) {
  if (!style.colour || s.empty()) return s;
  return std::string("\x1b[") + code + "m" + s + "\x1b[0m";
}

// Red where no local change helps (or nothing runs), yellow for CPU-bound classes,
// cyan for waits, dim for idle.
const char* class_colour(const std::string& cls) {
  if (cls == "cpu_saturated" || cls == "memory_bound") return "31";
  if (cls == "cpu_bound" || cls == "cpu_parallel" || cls == "gil_contended") return "33";
  if (cls == "idle") return "2";
  return "36";
}

std::string model_text(const json& rec) {
  std::string model = text(rec, "model");
  auto workers = number(rec, "workers");
  if (model.empty()) return "";
  if (workers && *workers > 0) model += printf_string(", %.0f workers", *workers);
  return model;
}

// A latency object {"p50", "p95", "p99"} as "p50 200 ms  p95 210 ms  p99 250 ms".
std::string latency_text(const json& latency) {
  std::string out;
  for (const char* q : {"p50", "p95", "p99"}) {
    if (auto v = number(latency, q)) {
      out += (out.empty() ? "" : "  ") + std::string(q) + " " + format_duration(*v);
    }
  }
  return out;
}

std::string bytes_text(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int unit = 0;
  while (bytes >= 1024 && unit < 4) {
    bytes /= 1024;
    ++unit;
  }
  return printf_string(unit == 0 ? "%.0f" : "%.1f", bytes) + " " + units[unit];
}

void heading(std::string& out, const Style& style, const std::string& title) {
  out += "\n" + paint(style, "1", title) + "\n";
}

void list(std::string& out, const json& items, const std::string& bullet = "- ") {
  if (!items.is_array()) return;
  for (const auto& item : items) {
    if (item.is_string()) out += "  " + bullet + item.get<std::string>() + "\n";
  }
}

// Rows of cells as aligned columns (two spaces apart); the cells of `header` in bold,
// and `paint_cell(row, column, padded)` may colour a padded cell.
template <class Paint>
std::string columns(const std::vector<std::string>& header,
                    const std::vector<std::vector<std::string>>& rows, const Style& style,
                    Paint paint_cell) {
  std::vector<std::size_t> widths(header.size());
  for (std::size_t c = 0; c < header.size(); ++c) widths[c] = display_width(header[c]);
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < row.size() && c < widths.size(); ++c) {
      widths[c] = std::max(widths[c], display_width(row[c]));
    }
  }
  auto line = [&](const std::vector<std::string>& cells, auto&& paint_one) {
    std::string out;
    for (std::size_t c = 0; c < cells.size(); ++c) {
      const bool last = c + 1 == cells.size();
      std::string cell = last ? cells[c] : pad(cells[c], widths[c]);
      out += paint_one(c, cell) + (last ? "" : "  ");
    }
    // An empty last cell leaves padding behind: no trailing blanks.
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out + "\n";
  };
  std::string out =
      line(header, [&](std::size_t, const std::string& s) { return paint(style, "1", s); });
  for (std::size_t r = 0; r < rows.size(); ++r) {
    out += line(rows[r], [&](std::size_t c, const std::string& s) { return paint_cell(r, c, s); });
  }
  return out;
}

std::string agent_line(const json& doc) {
  std::string out = "agent " + text(doc, "host");
  if (auto w = number(doc, "window_seconds")) out += " · window " + format_duration(*w);
  if (auto n = number(doc, "windows_completed")) {
    out += printf_string(" · %.0f windows classified", *n);
  }
  if (auto at = text(doc, "generated_at"); !at.empty()) out += " · at " + at;
  out += "\n";
  // What weakens every verdict below: a collector down, or sampling less than it is set to.
  const json& collectors = field(doc, "collectors");
  if (!collectors.is_array()) return out;
  for (const auto& c : collectors) {
    if (!c.value("up", true)) {
      out += "warning: collector " + text(c, "name") + " is down: " + text(c, "error") + "\n";
    } else if (c.value("behind", false)) {
      out += printf_string(
          "warning: collector %s fell behind: %.1f of %g sampling rounds per "
          "second; the verdicts rest on fewer samples\n",
          text(c, "name").c_str(), number(c, "achieved_rounds_per_second").value_or(0),
          number(c, "rounds_per_second").value_or(0));
    }
  }
  return out;
}

// Options of the decision engine: in `recommendation` or beside it.
const json& options_of(const json& workload) {
  const json& in_rec = field(field(workload, "recommendation"), "options");
  return in_rec.is_array() ? in_rec : field(workload, "options");
}

const json& chosen_of(const json& workload) {
  const json& in_rec = field(field(workload, "recommendation"), "chosen");
  return in_rec.is_null() ? field(workload, "chosen") : in_rec;
}

const json& steps_of(const json& workload) {
  const json& in_rec = field(field(workload, "recommendation"), "steps");
  return in_rec.is_array() ? in_rec : field(workload, "steps");
}

// Whether option `i` is the chosen one: `chosen` names its model, gives its index,
// or is an option object with its model.
bool is_chosen(const json& chosen, std::size_t i, const json& option) {
  if (chosen.is_string()) return chosen.get<std::string>() == text(option, "model");
  if (chosen.is_number_integer()) return chosen.get<long long>() == static_cast<long long>(i);
  if (chosen.is_object()) return text(chosen, "model") == text(option, "model");
  return false;
}

void explain_options(std::string& out, const json& workload, const Style& style) {
  const json& options = options_of(workload);
  const json& chosen = chosen_of(workload);
  if (options.is_array() && !options.empty()) {
    heading(out, style, "Options");
    std::vector<std::vector<std::string>> rows;
    std::vector<bool> picked;
    for (std::size_t i = 0; i < options.size(); ++i) {
      const json& o = options[i];
      auto opt = [&](const char* key, auto format) {
        auto v = number(o, key);
        return v ? format(*v) : std::string("-");
      };
      const json& meets = field(o, "meets_objective");
      picked.push_back(is_chosen(chosen, i, o));
      rows.push_back({(picked.back() ? "* " : "  ") + text(o, "model"),
                      opt("speedup", [](double v) { return printf_string("%.1fx", v); }),
                      opt("workers", [](double v) { return printf_string("%.0f", v); }),
                      opt("cores", [](double v) { return printf_string("%.2f", v); }),
                      opt("memory_bytes", bytes_text),
                      opt("cost_per_month", [](double v) { return printf_string("%.2f", v); }),
                      meets.is_boolean() ? (meets.get<bool>() ? "yes" : "no") : "-"});
    }
    out += columns(
        {"  model", "speedup", "workers", "cores", "memory", "cost/month", "meets objective"}, rows,
        style, [&](std::size_t r, std::size_t, const std::string& s) {
          return picked[r] ? paint(style, "1", s) : s;
        });
    for (const auto& o : options) {
      const json& risks = field(o, "risks");
      if (!risks.is_array() || risks.empty()) continue;
      out += "  risks of " + text(o, "model") + ":\n";
      list(out, risks, "  - ");
    }
  }
  std::string chosen_model = chosen.is_string()   ? chosen.get<std::string>()
                             : chosen.is_object() ? text(chosen, "model")
                                                  : "";
  if (chosen.is_number_integer() && options.is_array()) {
    auto i = chosen.get<long long>();
    if (i >= 0 && static_cast<std::size_t>(i) < options.size()) {
      chosen_model = text(options[static_cast<std::size_t>(i)], "model");
    }
  }
  if (!chosen_model.empty()) out += "  chosen: " + paint(style, "1", chosen_model) + "\n";
  const json& steps = steps_of(workload);
  if (steps.is_array() && !steps.empty()) {
    heading(out, style, "Steps");
    int n = 0;
    for (const auto& s : steps) {
      if (s.is_string()) out += "  " + std::to_string(++n) + ". " + s.get<std::string>() + "\n";
    }
  }
}

}  // namespace

std::string format_percent(double share, int decimals) {
  return printf_string(decimals > 0 ? "%.1f%%" : "%.0f%%", share * 100);
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "-";
  if (seconds >= 10) return printf_string("%.0f s", seconds);
  if (seconds >= 1) return printf_string("%.1f s", seconds);
  if (seconds >= 0.01) return printf_string("%.0f ms", seconds * 1e3);
  if (seconds >= 0.001) return printf_string("%.1f ms", seconds * 1e3);
  if (seconds == 0) return "0 s";
  return printf_string("%.0f µs", seconds * 1e6);
}

std::string share_bar(double share, int width) {
  if (!std::isfinite(share)) share = 0;
  share = std::clamp(share, 0.0, 1.0);
  int filled = static_cast<int>(std::lround(share * width));
  return "|" + std::string(static_cast<std::size_t>(filled), '#') +
         std::string(static_cast<std::size_t>(width - filled), ' ') + "|";
}

std::string top_wait(const json& workload) {
  const json& verdict = field(workload, "verdict");
  const json& shares = field(verdict, "shares");
  if (!shares.is_object()) return "";
  std::string best;
  double best_share = 0;
  for (const auto& [reason, value] : shares.items()) {
    if (reason == "on_cpu" || !value.is_number()) continue;
    if (value.get<double>() > best_share) {
      best = reason;
      best_share = value.get<double>();
    }
  }
  if (best.empty()) return "";
  std::string out = best + " " + percent(best_share);
  const json& deps = field(verdict, "dependencies");
  if (best == "net" && deps.is_array() && !deps.empty()) {
    // The agent orders dependencies by wait: the first is the one waited on most.
    const json& dep = deps[0];
    out += " " + text(dep, "name");
    if (auto p95 = number(field(dep, "latency_seconds"), "p95")) {
      out += " p95 " + format_duration(*p95);
    }
  }
  return out;
}

// "met", "missed" or "-" (no objective, or nothing measured to judge it by).
std::string objective_cell(const json& rec) {
  const json& slo = field(rec, "slo");
  const json& met = field(slo, "met");
  if (!met.is_boolean()) return "-";
  return met.get<bool>() ? "met" : "missed";
}

// How long the published class has held, e.g. "2m30s"; "-" before the first verdict.
std::string stable_cell(const json& workload) {
  auto seconds = number(field(workload, "stability"), "stable_for_seconds");
  if (!seconds) return "-";
  const auto s = static_cast<long long>(std::max(0.0, *seconds));
  if (s < 60) return printf_string("%llds", s);
  if (s < 3600) return printf_string("%lldm%02llds", s / 60, s % 60);
  return printf_string("%lldh%02lldm", s / 3600, (s % 3600) / 60);
}

std::string status_table(const json& doc, const Style& style) {
  std::string out = agent_line(doc);
  const json& workloads = field(doc, "workloads");
  if (!workloads.is_array() || workloads.empty()) return out + "no workloads\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& w : workloads) {
    const json& verdict = field(w, "verdict");
    const json& rec = field(w, "recommendation");
    std::string state = text(w, "state");
    auto conf = number(verdict, "confidence");
    auto workers = number(rec, "workers");
    auto cores = number(verdict, "cpu_cores_used");
    std::string cls = text(verdict, "class");
    if (cls.empty()) cls = state == "running" || state.empty() ? "(first window)" : "-";
    rows.push_back({text(w, "workload"), state.empty() ? "running" : state, cls,
                    conf ? percent(*conf) : "-", rec.is_object() ? text(rec, "model") : "-",
                    workers ? printf_string("%.0f", *workers) : "-",
                    cores ? printf_string("%.2f", *cores) : "-", objective_cell(rec),
                    stable_cell(w),
                    verdict.is_object()                ? top_wait(w)
                    : !text(w, "absent_since").empty() ? "since " + text(w, "absent_since")
                                                       : ""});
  }
  return out + columns({"WORKLOAD", "STATE", "CLASS", "CONF", "MODEL", "WORKERS", "CORES", "SLO",
                        "STABLE", "TOP WAIT"},
                       rows, style, [&](std::size_t r, std::size_t c, const std::string& s) {
                         if (c == 1 && rows[r][1] != "running") return paint(style, "31", s);
                         if (c == 7 && rows[r][7] == "missed") return paint(style, "31", s);
                         const bool classified = rows[r][2] != "-" && rows[r][2][0] != '(';
                         if (c == 2 && classified) {
                           return paint(style, class_colour(rows[r][2]), s);
                         }
                         return s;
                       });
}

std::string explain_text(const json& doc, const json& workload, const Style& style) {
  const std::string name = text(workload, "workload");
  const std::string state = text(workload, "state").empty() ? "running" : text(workload, "state");
  const json& verdict = field(workload, "verdict");
  const json& rec = field(workload, "recommendation");
  std::string out;
  if (verdict.is_object()) {
    const std::string cls = text(verdict, "class");
    out += paint(style, "1", name) + ": " + paint(style, class_colour(cls), cls);
    if (auto c = number(verdict, "confidence")) out += ", confidence " + percent(*c);
    out += " (" + state + ")\n";
  } else {
    out += paint(style, "1", name) + ": " + paint(style, state == "running" ? "0" : "31", state) +
           ", not classified\n";
  }
  out += agent_line(doc);

  // Who and how big: pids, threads, processes, cores.
  std::string facts;
  const json& pids = field(workload, "pids");
  if (pids.is_array() && !pids.empty()) {
    facts += "pids";
    for (std::size_t i = 0; i < pids.size() && i < 8; ++i) facts += " " + pids[i].dump();
    if (pids.size() > 8) facts += " …";
  }
  if (auto t = number(workload, "threads")) {
    facts += printf_string(" · %.0f thread%s", *t, *t == 1 ? "" : "s");
  }
  if (auto p = number(workload, "processes")) {
    facts += printf_string(" · %.0f process%s", *p, *p == 1 ? "" : "es");
  }
  if (auto c = number(verdict, "cpu_cores_used")) {
    facts += printf_string(" · %.2f cores used", *c);
    if (auto n = number(field(workload, "node"), "cores")) facts += printf_string(" of %.0f", *n);
  }
  if (!facts.empty()) out += (facts.rfind(" · ", 0) == 0 ? facts.substr(4) : facts) + "\n";

  if (!verdict.is_object()) {
    if (auto detail = text(workload, "state_detail"); !detail.empty()) out += detail + "\n";
    if (auto since = text(workload, "absent_since"); !since.empty()) {
      out += "absent since " + since + "\n";
    }
    if (state == "running") out += "its first full window has not been classified yet\n";
    return out;
  }

  if (auto summary = text(rec, "summary"); !summary.empty()) {
    heading(out, style, "Summary");
    out += "  " + summary + "\n";
  }
  if (auto model = model_text(rec); !model.empty()) {
    heading(out, style, "Recommendation");
    out += "  " + model;
    if (auto now = text(workload, "current_model"); !now.empty()) out += " (now: " + now + ")";
    out += "\n";
  }
  if (const json& evidence = field(rec, "evidence"); evidence.is_array() && !evidence.empty()) {
    heading(out, style, "Evidence");
    list(out, evidence);
  }
  if (const json& top = field(workload, "top_stacks"); top.is_array() && !top.empty()) {
    heading(out, style, "Where in the code");
    for (const auto& t : top) {
      if (t.contains("text") && t["text"].is_string()) {
        out += "  - " + t["text"].get<std::string>() + "\n";
      }
    }
  }
  if (const json& why = field(verdict, "rationale"); why.is_array() && !why.empty()) {
    heading(out, style, "Decision");
    list(out, why);
  }

  if (const json& shares = field(verdict, "shares"); shares.is_object()) {
    heading(out, style, "Thread time by reason");
    std::vector<std::pair<std::string, double>> sorted;
    for (const auto& [reason, v] : shares.items()) {
      if (v.is_number() && v.get<double>() >= 0.0005) sorted.emplace_back(reason, v.get<double>());
    }
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    for (const auto& [reason, v] : sorted) {
      out += "  " + pad(reason, 9) + " " + share_bar(v, 40) + " " + percent1(v) + "\n";
    }
    if (sorted.size() < shares.size()) out += "  (the other reasons: 0%)\n";
  }

  if (const json& deps = field(verdict, "dependencies"); deps.is_array() && !deps.empty()) {
    heading(out, style, "Dependencies");
    std::vector<std::vector<std::string>> rows;
    for (const auto& d : deps) {
      auto wait = number(d, "wait_share");
      std::string latency = latency_text(field(d, "latency_seconds"));
      if (latency.empty()) latency = "no complete wait seen";
      if (auto src = text(d, "latency_source"); !src.empty()) latency += " (" + src + ")";
      rows.push_back({"  " + text(d, "name"), text(d, "endpoint"),
                      wait ? "waits " + percent(*wait) : "-", latency});
    }
    out += columns({"  name", "endpoint", "of thread time", "latency"}, rows, style,
                   [](std::size_t, std::size_t, const std::string& s) { return s; });
  }

  if (const json& risks = field(rec, "risks"); risks.is_array() && !risks.empty()) {
    heading(out, style, "Risks");
    list(out, risks);
  }
  explain_options(out, workload, style);
  return out;
}

std::optional<json> find_workload(const json& doc, const std::string& name) {
  const json& workloads = field(doc, "workloads");
  if (!workloads.is_array()) return std::nullopt;
  for (const auto& w : workloads) {
    if (text(w, "workload") == name) return w;
  }
  return std::nullopt;
}

std::string compare_text(const json& answer, const Style& style) {
  const json& before = field(field(answer, "baseline"), "figures");
  const json& now = field(field(answer, "current"), "figures");
  const json& change = field(answer, "comparison");
  std::string out = text(answer, "summary") + "\n\n";
  auto cell = [](const std::optional<double>& v, auto&& format) {
    return v ? format(*v) : std::string("-");
  };
  auto plain = [](const char* f) { return [f](double v) { return printf_string(f, v); }; };
  auto relative = [](double v) { return printf_string("%+.0f %%", v * 100); };
  auto signed_bytes = [](double v) { return (v < 0 ? "-" : "+") + bytes_text(std::fabs(v)); };
  std::vector<std::vector<std::string>> rows;
  const std::string basis = text(now, "throughput_basis");
  rows.push_back({"throughput (" + basis + "/s)",
                  cell(number(before, "throughput_per_second"), plain("%.2f")),
                  cell(number(now, "throughput_per_second"), plain("%.2f")),
                  cell(number(change, "throughput_change"), relative)});
  for (const char* q : {"p50", "p95", "p99"}) {
    const std::string key = std::string(q) + "_change";
    rows.push_back({std::string(q) + " latency",
                    cell(number(field(before, "latency_seconds"), q), format_duration),
                    cell(number(field(now, "latency_seconds"), q), format_duration),
                    cell(number(change, key.c_str()), relative)});
  }
  rows.push_back({"cores used", cell(number(before, "cpu_cores_used"), plain("%.2f")),
                  cell(number(now, "cpu_cores_used"), plain("%.2f")),
                  cell(number(change, "cpu_cores_change"), plain("%+.2f"))});
  rows.push_back({"memory", cell(number(before, "memory_bytes"), bytes_text),
                  cell(number(now, "memory_bytes"), bytes_text),
                  cell(number(change, "memory_change_bytes"), signed_bytes)});
  rows.push_back({"cost per month", cell(number(before, "cost_per_month"), plain("%.2f")),
                  cell(number(now, "cost_per_month"), plain("%.2f")),
                  cell(number(change, "cost_change_per_month"), plain("%+.2f"))});
  rows.push_back({"processes", cell(number(before, "processes"), plain("%.0f")),
                  cell(number(now, "processes"), plain("%.0f")), ""});
  rows.push_back({"threads", cell(number(before, "threads"), plain("%.0f")),
                  cell(number(now, "threads"), plain("%.0f")), ""});
  rows.push_back({"model in use", text(before, "model_in_use"), text(now, "model_in_use"), ""});
  rows.push_back({"class", text(field(answer, "baseline"), "class"),
                  text(field(answer, "current"), "class"), ""});
  const std::string name = text(field(answer, "baseline"), "name");
  out += columns({"", "baseline " + name, "now", "change"}, rows, style,
                 [](std::size_t, std::size_t, const std::string& s) { return s; });
  return out;
}

std::string url_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

}  // namespace boundwise::cli
