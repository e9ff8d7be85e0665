// What `boundwise status` and `boundwise explain` print, as pure functions of the
// agent's /recommend document (docs/API.md): no I/O, no clock, no terminal — whether
// to colour is the caller's decision. Unit-tested from JSON fixtures
// (tests/unit/daemon/cli_format_test.cpp). Fields an older or newer agent lacks are
// skipped, never an error: the decision engine's `options`, `chosen` and `steps` are
// rendered when the document has them.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace boundwise::cli {

struct Style {
  bool colour = false;  // ANSI colours (a terminal that is not NO_COLOR)
};

// "200 ms", "1.5 s", "350 µs": a duration in seconds at a precision a person reads.
std::string format_duration(double seconds);

// A share (0.885) as a percentage: "89%", or with decimals > 0 "88.5%" (one decimal).
std::string format_percent(double share, int decimals = 0);

// A share of `width` characters: '#' for the share, ' ' for the rest, between bars:
// share_bar(0.5, 4) == "|##  |". Shares outside [0, 1] are clamped.
std::string share_bar(double share, int width);

// The reason with the largest share of thread time other than on_cpu, with its
// share, and for `net` the dependency waited on most and its p95:
// "net 89% orders-api p95 200 ms". Empty without a verdict or without a wait.
std::string top_wait(const nlohmann::json& workload);

// `boundwise status`: a line about the agent (host, window, windows completed,
// generated at), then one row per workload of `doc["workloads"]`: workload, state,
// class, confidence, model, workers, cores used, top wait.
std::string status_table(const nlohmann::json& doc, const Style& style);

// `boundwise explain W`: the reasoning for one workload (an element of
// doc["workloads"]) top to bottom: headline, summary, recommendation, evidence,
// decision, shares as bars, dependencies with latency, risks, then options, the
// chosen one and the steps when present. A workload that is not running says its
// state and what to do instead.
std::string explain_text(const nlohmann::json& doc, const nlohmann::json& workload,
                         const Style& style);

// `boundwise compare W B`: the agent's /compare answer (docs/API.md) as its summary,
// then the figures before and now side by side with the change.
std::string compare_text(const nlohmann::json& answer, const Style& style);

// Percent-encodes everything but unreserved characters (RFC 3986): a query value
// (the CLI's requests, the web page's links).
std::string url_encode(std::string_view text);

// The workload of that name in doc["workloads"], or nullopt.
std::optional<nlohmann::json> find_workload(const nlohmann::json& doc, const std::string& name);

}  // namespace boundwise::cli
