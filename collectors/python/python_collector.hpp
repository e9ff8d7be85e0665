// The python collector: for every target process, what runtime it is (CPython or
// not, version, free-threaded, from the ELF: collectors/process/), and for CPython with a
// known layout the GIL's state read from memory at the sample rate (gil_reader.hpp):
// GIL held time, waiters, switches. Fills WorkloadWindow::runtime and ::gil. Where
// memory cannot be read (no CAP_SYS_PTRACE, unknown layout) runtime.gil_readable is
// false and GIL evidence is the procfs futex signature only. Read-only: the target
// is never stopped.
#pragma once

#include <memory>

#include "collectors/collector.hpp"

namespace boundwise {

std::unique_ptr<Collector> make_python_collector(const CollectorSettings& settings);

// Its name, parts and options (collectors/descriptor.hpp); defined in descriptor.cpp.
const CollectorDescriptor& python_descriptor();

}  // namespace boundwise
