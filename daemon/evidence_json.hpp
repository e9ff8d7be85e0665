// Record and replay's file format: a window's evidence (EvidenceSet) and the assemble
// rules in force, as one JSON line (docs/ARCHITECTURE.md, "Record and replay"). The
// agent writes one line per window when `record` is set (daemon/recorder.hpp);
// `boundwise replay` reads them back and runs assemble → classify → recommend offline
// (daemon/replay.hpp); tests/golden/ keeps real recordings that every classifier
// change is checked against.
//
// The line is exact: reading it back gives the EvidenceSet that was written, field
// for field (doubles are written with enough digits to round-trip; NaN and ±inf,
// which JSON cannot spell, as the strings "nan", "inf", "-inf"), so a replay computes
// the windows the live agent computed. Histograms are their slot array (trailing
// zero slots left out) and their sum; optional parts are absent, not null, when the
// collector did not write them. Reading is strict about what is there (an unknown
// field or a wrong type is an error naming the field) and lenient about what is not:
// a missing field keeps its default, so a field added to the evidence later reads
// as "not measured" in older recordings. Format changes that old readers would
// misread bump kRecordVersion.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "classifier/assemble/assemble.hpp"
#include "classifier/assemble/evidence.hpp"
#include "classifier/result.hpp"

namespace boundwise {

inline constexpr int kRecordVersion = 1;

// One recorded window.
struct RecordedWindow {
  // When the window closed (wall clock; the file keeps milliseconds, UTC).
  std::chrono::system_clock::time_point time{};
  // The agent's window count at that close (windows_completed in /recommend): 1 for
  // the first window after start.
  std::uint64_t window = 0;
  AssembleRules rules;
  EvidenceSet evidence;

  bool operator==(const RecordedWindow&) const = default;
};

// The line, without its newline:
// {"version":1,"time":"...Z","window":N,"rules":{...},"node":{...},"workloads":{...}}
// Objects keep the order of the fields in the structs.
std::string to_record_line(const RecordedWindow& w);
// Error: what is wrong with the line and where in it, e.g.
// `workloads["api"].sampled.threads: expected a 32-bit integer, got string "3"`, or
// "not a JSON value", or an unknown version; without the file and line number (the
// caller has those).
Result<RecordedWindow> parse_record_line(std::string_view line);

// "2026-05-01T12:00:00.123Z" (UTC, milliseconds) and back; nullopt if malformed.
std::string format_record_time(std::chrono::system_clock::time_point t);
std::optional<std::chrono::system_clock::time_point> parse_record_time(std::string_view text);

}  // namespace boundwise
