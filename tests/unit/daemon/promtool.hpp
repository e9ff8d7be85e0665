// Forwards to tests/lib/promtool.hpp for metrics_test.cpp, whose three promtool checks
// still run in the unit tier: they fork promtool, so they belong with
// tests/integration/native/daemon/promtool_test.cpp, which lints the same kinds of
// exposition. Delete this header when metrics_test.cpp no longer includes it.
#pragma once

#include "tests/lib/promtool.hpp"
