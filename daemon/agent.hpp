// The agent: a collection thread (one io_context) that runs discovery, the
// collectors' sampling timers and the window close (assemble, classify, recommend,
// publish), and an HTTP thread (its own io_context) that serves only what each window
// close published: an immutable Snapshot and pre-rendered bodies, swapped under a
// mutex once per window.
#pragma once

#include <functional>
#include <memory>

#include "classifier/result.hpp"
#include "config/config.hpp"
#include "daemon/reloader.hpp"

namespace boundwise {

class Agent {
 public:
  explicit Agent(Config config, ConfigLoader loader = {});
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Binds the listener and starts the collectors. Error: the listener could not bind.
  Status start();
  // Serves HTTP (from a thread of its own) and runs until SIGINT/SIGTERM (or stop());
  // SIGHUP reloads the configuration. Returns the process exit code.
  int run();
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace boundwise
