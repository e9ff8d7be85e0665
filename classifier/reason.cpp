// Names of the wait reasons, shared by metrics, JSON and docs.
#include "classifier/reason.hpp"

namespace boundwise {

namespace {
constexpr std::array<std::string_view, kReasonCount> kNames = {
    "on_cpu", "runqueue", "gil", "lock", "net", "disk", "ipc", "sleep", "idle", "paging", "other"};
}  // namespace

std::string_view to_string(Reason r) { return kNames[index_of(r)]; }

std::optional<Reason> reason_from_string(std::string_view name) {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return kAllReasons[i];
  }
  return std::nullopt;
}

}  // namespace boundwise
