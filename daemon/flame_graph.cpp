// Rendering a flame graph: the folded stacks become a tree of frames (the same frame
// under the same callers merged), drawn root at the bottom, children left to right by name.
#include "daemon/flame_graph.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <memory>
#include <vector>

#include "daemon/web_page.hpp"

namespace boundwise {

namespace {

constexpr double kWidth = 1200;
constexpr double kFrameHeight = 16;
constexpr double kMargin = 10;
constexpr double kTitleHeight = 24;
constexpr double kCharWidth = 7;   // of the 12px monospace font, roughly
constexpr double kMinWidth = 0.5;  // frames narrower than this (pixels) are not drawn
constexpr std::size_t kMaxDepth = 256;

struct Node {
  std::uint64_t samples = 0;
  std::map<std::string, std::unique_ptr<Node>, std::less<>> children;
};

std::size_t depth_of(const Node& n) {
  std::size_t d = 0;
  for (const auto& [name, child] : n.children) d = std::max(d, 1 + depth_of(*child));
  return d;
}

// A warm colour from the name, stable across renders.
std::string colour(std::string_view name) {
  std::uint32_t h = 2166136261u;
  for (char c : name) h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
  const bool kernel = name.size() > 4 && name.substr(name.size() - 4) == "_[k]";
  const int r = kernel ? 150 + static_cast<int>(h % 60) : 205 + static_cast<int>(h % 50);
  const int g =
      kernel ? 150 + static_cast<int>((h >> 8) % 60) : 80 + static_cast<int>((h >> 8) % 130);
  const int b =
      kernel ? 205 + static_cast<int>((h >> 16) % 50) : 30 + static_cast<int>((h >> 16) % 40);
  return fmt::format("rgb({},{},{})", r, g, b);
}

// "12 samples", "3 probes", "1.250 s blocked".
std::string amount(std::uint64_t n, FlameUnit unit) {
  switch (unit) {
    case FlameUnit::milliseconds:
      return fmt::format("{:.3f} s blocked", static_cast<double>(n) / 1000.0);
    case FlameUnit::probes:
      return fmt::format("{} {}", n, n == 1 ? "probe" : "probes");
    case FlameUnit::samples:
      break;
  }
  return fmt::format("{} {}", n, n == 1 ? "sample" : "samples");
}

void draw(std::string& out, const Node& node, std::string_view name, double x, std::size_t level,
          double px_per_sample, double bottom, std::uint64_t total, FlameUnit unit) {
  const double width = static_cast<double>(node.samples) * px_per_sample;
  if (width < kMinWidth) return;
  const double y = bottom - static_cast<double>(level + 1) * kFrameHeight;
  const std::string escaped = xml_escape(name);
  const double share =
      total > 0 ? 100.0 * static_cast<double>(node.samples) / static_cast<double>(total) : 0;
  out += fmt::format(
      "<g><title>{} ({}, {:.2f}%)</title><rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" "
      "height=\"{:.1f}\" fill=\"{}\" rx=\"2\"/>",
      escaped, amount(node.samples, unit), share, x, y, width, kFrameHeight - 1, colour(name));
  const auto fit = static_cast<std::size_t>((width - 6) / kCharWidth);
  if (fit >= 3) {
    std::string label(name);
    if (label.size() > fit) {
      std::size_t cut = fit - 2;  // not inside a UTF-8 sequence
      while (cut > 0 && (static_cast<unsigned char>(label[cut]) & 0xc0) == 0x80) --cut;
      label = label.substr(0, cut) + "..";
    }
    out += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\">{}</text>", x + 3, y + kFrameHeight - 4,
                       xml_escape(label));
  }
  out += "</g>\n";
  double child_x = x;
  for (const auto& [child_name, child] : node.children) {
    draw(out, *child, child_name, child_x, level + 1, px_per_sample, bottom, total, unit);
    child_x += static_cast<double>(child->samples) * px_per_sample;
  }
}

}  // namespace

std::string xml_escape(std::string_view s) {
  // Text XML can hold first: a well-formed UTF-8 sequence is copied, any other byte
  // above 0x7f and control characters but tab and newlines become '?'.
  std::string text;
  text.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      std::size_t n = c >= 0xf0 && c < 0xf5 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c < 0xe0 ? 2 : 0;
      bool ok = n > 0 && i + n <= s.size();
      for (std::size_t k = 1; ok && k < n; ++k) {
        ok = (static_cast<unsigned char>(s[i + k]) & 0xc0) == 0x80;
      }
      if (ok) {
        text.append(s.substr(i, n));
        i += n - 1;
      } else {
        text += '?';
      }
      continue;
    }
    text += c < 0x20 && c != '\t' && c != '\n' && c != '\r' ? '?' : static_cast<char>(c);
  }
  return html_escape(text);
}

std::string render_flame_graph(const FoldedStacks& stacks, std::string_view title, FlameUnit unit) {
  Node root;
  for (const auto& [stack, n] : stacks.counts) {
    root.samples += n;
    Node* at = &root;
    std::string_view rest = stack;
    for (std::size_t level = 0; !rest.empty() && level < kMaxDepth; ++level) {
      auto semi = rest.find(';');
      std::string_view frame = rest.substr(0, semi);
      rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
      auto it = at->children.find(frame);
      if (it == at->children.end()) {
        it = at->children.emplace(std::string(frame), std::make_unique<Node>()).first;
      }
      at = it->second.get();
      at->samples += n;
    }
  }
  const std::size_t depth = depth_of(root) + 1;  // + the "all" frame
  const double height = kTitleHeight + static_cast<double>(depth) * kFrameHeight + 2 * kMargin;
  const double usable = kWidth - 2 * kMargin;
  const double px_per_sample = root.samples > 0 ? usable / static_cast<double>(root.samples) : 0;
  std::string out = fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{:.0f}\" height=\"{:.0f}\" "
      "viewBox=\"0 0 {:.0f} {:.0f}\" font-family=\"monospace\" font-size=\"12\">\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"#f8f8f8\"/>\n"
      "<text x=\"{:.0f}\" y=\"{:.0f}\" text-anchor=\"middle\" font-size=\"15\">{}</text>\n",
      kWidth, height, kWidth, height, kWidth / 2, kMargin + 12, xml_escape(title));
  if (root.samples == 0) {
    out += fmt::format("<text x=\"{:.0f}\" y=\"{:.0f}\">no {}</text>\n", kMargin,
                       kTitleHeight + kMargin + 14,
                       unit == FlameUnit::milliseconds ? "stacks"
                       : unit == FlameUnit::probes     ? "probes"
                                                       : "samples");
  } else {
    draw(out, root, "all", kMargin, 0, px_per_sample, height - kMargin, root.samples, unit);
  }
  out += "</svg>\n";
  return out;
}

}  // namespace boundwise
