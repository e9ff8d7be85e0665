// The one sanitiser for numbers that come from outside (kernel counters, evidence,
// ratios of them): seconds, bytes and counts are never negative or non-finite.
#pragma once

#include <cmath>

namespace boundwise {

// v, or 0 when v is not finite or below 0.
inline double non_negative(double v) { return std::isfinite(v) && v > 0 ? v : 0.0; }

}  // namespace boundwise
