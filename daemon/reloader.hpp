// The reloader stage: on SIGHUP, the next configuration and what of it applies now.
// An invalid configuration changes nothing; the listen address and TLS files are bound
// at start-up, so their changes wait for a restart (the running ones are kept).
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "config/config.hpp"

namespace boundwise {

// Loads the configuration again (the file plus command-line overrides). Throws
// ConfigError. Empty: nothing to reload (the embedded default).
using ConfigLoader = std::function<Config()>;

struct ReloadOutcome {
  std::optional<Config> next;  // nullopt: keep the running configuration
  std::string error;           // why not, when next is nullopt ("" = nothing to reload)
  bool needs_restart = false;  // listen address or TLS files changed: kept as they run
};

ReloadOutcome reload_config(const ConfigLoader& loader, const Config& running);

}  // namespace boundwise
