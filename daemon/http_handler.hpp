// Request handling as a pure function from request to response (the Beast examples'
// lesson): the server only moves bytes; every endpoint lives here and is unit-tested
// without a socket.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "daemon/snapshot.hpp"

namespace boundwise {

class Authenticator;
class BaselineStore;
class MetricsPublisher;

struct HttpRequest {
  std::string method;         // "GET", "HEAD", ...
  std::string target;         // "/recommend?workload=api"
  std::string authorization;  // the Authorization header; empty if absent
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  // A body shared with other responses (the pre-rendered /metrics and /recommend):
  // when set it is served instead of `body`, without a copy. text() is the body
  // either way.
  std::shared_ptr<const std::string> shared_body;
  std::string allow;             // the Allow header, for 405
  std::string www_authenticate;  // the WWW-Authenticate header, for 401
  // Content-Security-Policy (with X-Content-Type-Options: nosniff), for HTML pages.
  std::string content_security_policy;

  std::string_view text() const { return shared_body ? std::string_view(*shared_body) : body; }
};

// State the endpoints read: immutable once published (the HTTP thread reads it while
// the collection thread prepares the next). The snapshot outlives the call.
struct EndpointContext {
  const Snapshot& snapshot;
  bool ready = false;  // first window classified
  // Bodies rendered once per snapshot (they change only at a window close), served
  // as they are, shared with every response in flight. No metrics body: /metrics
  // answers 503; no recommend body: /recommend renders from the snapshot.
  std::shared_ptr<const std::string> metrics_body;
  std::shared_ptr<const std::string> recommend_body;
  // Credentials check for protected paths; null = no authentication.
  Authenticator* auth = nullptr;
  // Stored baselines (/baselines, /compare); null = off (answered 503).
  BaselineStore* baselines = nullptr;
};

// The /recommend body for the whole snapshot, as handle_request serves it.
std::string render_recommend(const Snapshot& snapshot);

// GET /metrics, /recommend[?workload=NAME][&history=1], /profile?workload=NAME&type=cpu
// [&format=folded|svg], /baselines (also POST and DELETE), /compare?workload=NAME&
// baseline=B (docs/API.md), /healthz, /readyz, / (the web page; ?workload=NAME one
// workload's page; ?format=text a plain-text index).
// Unknown path → 404, other methods → 405, missing or wrong credentials on a
// protected path (or for a POST or DELETE, when credentials are configured) → 401,
// all with a JSON error body.
HttpResponse handle_request(const HttpRequest& request, const EndpointContext& context);

}  // namespace boundwise
