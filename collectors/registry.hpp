// Every collector the agent has, by descriptor (collectors/descriptor.hpp), in the
// order they are started and listed.
#pragma once

#include "collectors/descriptor.hpp"

namespace boundwise {

const CollectorDescriptors& collector_descriptors();

}  // namespace boundwise
