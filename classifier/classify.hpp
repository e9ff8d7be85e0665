// The pure classifier: window → verdict → recommendation. No I/O, no clocks.
// docs/CLASSIFIER.md is the decision table these functions implement.
#pragma once

#include "classifier/verdict.hpp"
#include "classifier/window.hpp"

namespace boundwise {

Verdict classify(const WorkloadWindow& window);
Recommendation recommend(const Verdict& verdict, const WorkloadWindow& window);

}  // namespace boundwise
