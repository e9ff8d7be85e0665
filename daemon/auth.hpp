// Authentication of HTTP requests from the `web:` config: a bearer token or basic
// auth against bcrypt hashes (the Prometheus exporter-toolkit scheme). Which paths
// need credentials is configured; unprotected paths never look at the header.
#pragma once

#include <cstddef>
#include <list>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace boundwise {

class Authenticator {
 public:
  // No credentials configured = every request passes.
  explicit Authenticator(const WebConfig& web = {});

  bool enabled() const { return !token_.empty() || !users_.empty(); }
  bool protects(std::string_view path) const;
  // Whether a request needs credentials: a protected path, or any method that changes
  // something (POST, DELETE), wherever it goes, once credentials are configured.
  bool requires_credentials(std::string_view method, std::string_view path) const;
  // True if the Authorization header value grants access. A wrong password costs the
  // same bcrypt run whether the user exists or not (no user enumeration by timing).
  // Thread-safe (the HTTP server runs slow checks on a worker thread).
  bool check(std::string_view authorization);
  // True if check() would run bcrypt for this header (basic credentials not verified
  // recently): the HTTP server then checks it off its own thread.
  bool slow(std::string_view authorization) const;
  // The WWW-Authenticate header for a 401.
  std::string challenge() const;

 private:
  bool check_basic(std::string_view encoded);

  std::string token_;
  std::map<std::string, std::string> users_;  // user → bcrypt hash
  std::vector<std::string> protected_;
  std::string dummy_hash_;  // same cost as the configured hashes, matches nothing
  // Digests of recently verified user:password pairs: bcrypt is slow by design
  // (~0.2 s at cost 12) and a dashboard polling every few seconds must not pay it
  // each time. Bounded; oldest first out.
  mutable std::mutex verified_mutex_;
  std::list<std::string> verified_;  // guarded by verified_mutex_
  static constexpr std::size_t kVerifiedCache = 32;
};

}  // namespace boundwise
