// libFuzzer target for the HTTP request path: raw bytes through the server's Beast
// parser settings (header and body limits) and, when they parse, through the endpoint
// handler — routing, query and percent-decoding, bearer-token checks — against a
// snapshot of two classified workloads. Every outcome must be a status the server
// sends; a crash, a sanitizer report or an exception is a bug.
#include <boost/asio/buffer.hpp>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "classifier/classify.hpp"
#include "daemon/auth.hpp"
#include "daemon/http_handler.hpp"
#include "daemon/http_request.hpp"
#include "daemon/metrics.hpp"

namespace {

using namespace boundwise;

Snapshot make_snapshot() {
  Snapshot s;
  s.host = "fuzz";
  s.window_seconds = 10;
  s.node.cores = 2;
  for (const char* name : {"api", "batch worker"}) {
    WorkloadWindow w;
    w.workload = name;
    w.duration_seconds = 10;
    w.sample_rounds = 50;
    w.threads = 4;
    w.processes = 1;
    w.node.cores = 2;
    w.thread_seconds[index_of(Reason::on_cpu)] = 12;
    w.thread_seconds[index_of(Reason::net)] = 20;
    w.thread_seconds[index_of(Reason::idle)] = 8;
    DependencyWindow d;
    d.name = "orders-db";
    d.endpoint = "10.0.0.5:5432";
    d.wait_seconds = 20;
    d.blocked_intervals_seconds = {0.2, 0.4};
    w.dependencies.push_back(d);
    finalize_window(w);
    WorkloadReport r;
    r.name = name;
    r.pids = {100};
    r.threads = 4;
    r.verdict = classify(w);
    r.recommendation = recommend(*r.verdict, w);
    r.window = w;
    s.workloads.push_back(std::move(r));
  }
  return s;
}

struct Fixture {
  Snapshot snapshot = make_snapshot();
  std::shared_ptr<const std::string> metrics_body;
  Authenticator auth;
  Fixture() : auth(web()) {
    MetricsPublisher metrics;
    metrics.publish(snapshot);
    metrics_body = std::make_shared<const std::string>(metrics.render());
  }
  static WebConfig web() {
    WebConfig w;
    w.bearer_token = "fuzz-token";
    return w;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture fixture;
  RequestParser parser;
  apply_limits(parser, HttpLimits{});
  parser.eager(true);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (ec == boost::beast::http::error::need_more) parser.put_eof(ec);
  if (ec || !parser.is_done()) {
    int status = status_for_parse_error(ec);
    if (status != 400 && status != 413 && status != 431) __builtin_trap();
    return 0;
  }
  EndpointContext context{fixture.snapshot, true, fixture.metrics_body, nullptr, &fixture.auth};
  HttpResponse response = handle_request(to_request(parser.get()), context);
  if (response.status < 200 || response.status > 599) __builtin_trap();
  return 0;
}
