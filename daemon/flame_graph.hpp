// A flame graph of folded stacks as one self-contained SVG (no script, no external
// resource): each frame a rectangle as wide as its share of the samples, callers below
// callees, with its name (cut to fit) and a <title> tooltip holding the full name,
// its count in the profile's unit (samples, GIL probes, or seconds blocked for off-CPU
// stacks, whose counts are milliseconds) and share. Every text from a stack is XML-escaped: frame
// names come from the targets' symbol tables, which their owners control.
#pragma once

#include <string>
#include <string_view>

#include "classifier/profile.hpp"

namespace boundwise {

// Pure: `s` with & < > " ' replaced by entities, and bytes that XML 1.0 forbids
// (control characters other than tab, line feed, carriage return) and bytes that are
// not part of well-formed UTF-8 replaced by '?': the result is always valid XML text.
std::string xml_escape(std::string_view s);

// What a profile's counts are: on-CPU samples, GIL probes that found the GIL held, or
// milliseconds blocked (off-CPU stacks; shown in seconds).
enum class FlameUnit { samples, probes, milliseconds };

// Pure: the SVG document for `stacks`, titled `title`, counted in `unit`.
std::string render_flame_graph(const FoldedStacks& stacks, std::string_view title,
                               FlameUnit unit = FlameUnit::samples);

}  // namespace boundwise
