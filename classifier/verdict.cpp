// Names of bottleneck classes and models, shared by metrics, JSON and docs.
#include "classifier/verdict.hpp"

#include <array>

namespace boundwise {

namespace {
constexpr std::array<std::string_view, kBottleneckCount> kBottleneckNames = {
    "cpu_bound",      "gil_contended", "cpu_parallel", "io_network", "io_disk",
    "lock_contended", "cpu_saturated", "memory_bound", "idle",       "mixed"};
constexpr std::array<std::string_view, kModelCount> kModelNames = {
    "processes", "threads", "asyncio", "free_threaded", "scale_out", "none"};
}  // namespace

std::string_view to_string(Bottleneck b) { return kBottleneckNames[static_cast<std::size_t>(b)]; }

std::optional<Bottleneck> bottleneck_from_string(std::string_view name) {
  for (std::size_t i = 0; i < kBottleneckNames.size(); ++i) {
    if (kBottleneckNames[i] == name) return static_cast<Bottleneck>(i);
  }
  return std::nullopt;
}

std::string_view to_string(Model m) { return kModelNames[static_cast<std::size_t>(m)]; }

std::string_view option_name(Model m) { return m == Model::none ? "keep" : to_string(m); }

std::optional<Model> model_from_string(std::string_view name) {
  for (std::size_t i = 0; i < kModelNames.size(); ++i) {
    if (kModelNames[i] == name) return static_cast<Model>(i);
  }
  return std::nullopt;
}

}  // namespace boundwise
