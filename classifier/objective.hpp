// Service-level objectives (config `slo:` per target) and how a window measures up to
// one: the latency the workload serves (or, for a client, its top dependency's) and its
// throughput, against the objective (docs/CLASSIFIER.md, "Objectives"). Pure.
#pragma once

#include <optional>
#include <string>

#include "classifier/verdict.hpp"
#include "classifier/window.hpp"

namespace boundwise {

ObjectiveStatus measure_objective(const Objective& objective, const Verdict& v,
                                  const WorkloadWindow& w);

}  // namespace boundwise
