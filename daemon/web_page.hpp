// The web page at `/`: server-rendered HTML from the /recommend document, for a person
// in a browser. Pure functions of the document (daemon/recommend_json.hpp): no
// JavaScript, no request to anywhere but the agent (styles inline, no fonts, no
// images), refreshed by <meta http-equiv="refresh">. Every string that comes from the
// document — workload and dependency names come from processes (`comm`) — is
// HTML-escaped, so a process named `<script>` shows as text.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "daemon/cli_format.hpp"

namespace boundwise {

// & < > " ' as entities: safe in element text and in quoted attribute values.
std::string html_escape(std::string_view text);

using cli::url_encode;  // the page's links encode names as the CLI's requests do

// `/`: every workload with its state, verdict and confidence, recommendation and its
// one-line reason (the summary), thread time by reason as a stacked bar,
// dependencies with latency, and the last windows as a strip of class-coloured cells;
// each workload links to its own page. Refreshes every window (at least every 2 s).
std::string render_index_page(const nlohmann::json& doc);

// `/?workload=NAME`: one workload's explanation — summary, recommendation, evidence,
// decision, thread time by reason, dependencies, where in the code (top stacks and
// links to the flame graphs, when stacks are sampled), risks, and the decision
// engine's options, chosen option and steps when the document has them.
std::string render_workload_page(const nlohmann::json& doc, const nlohmann::json& workload);

// The page for an unknown `?workload=` (served with 404): the known workloads as links.
std::string render_unknown_workload_page(const nlohmann::json& doc, const std::string& name);

}  // namespace boundwise
