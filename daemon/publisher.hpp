// The publisher stage: what the HTTP thread serves. The collection thread publishes a
// whole new Edition at each window close (and on reload); the HTTP thread and its
// slow-path worker take the current one. Editions are immutable and shared, so a
// request never sees half of one and never waits for a window to close.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "daemon/auth.hpp"
#include "daemon/snapshot.hpp"

namespace boundwise {

struct Edition {
  std::shared_ptr<const Snapshot> snapshot;
  // /metrics and /recommend rendered once per snapshot: a request costs neither a
  // serialisation nor a copy (a response being written keeps its edition alive).
  std::shared_ptr<const std::string> metrics_body;
  std::shared_ptr<const std::string> recommend_body;
  // The running configuration's credentials (thread-safe); null = no authentication.
  std::shared_ptr<Authenticator> auth;
  bool ready = false;  // a first window has been classified
};

class Publisher {
 public:
  // Any thread. Replaces the current edition.
  void publish(Edition next) {
    std::lock_guard lock(mutex_);
    current_ = std::move(next);
  }
  // Any thread. A copy of the current edition's pointers.
  Edition current() const {
    std::lock_guard lock(mutex_);
    return current_;
  }

 private:
  mutable std::mutex mutex_;
  Edition current_;
};

}  // namespace boundwise
