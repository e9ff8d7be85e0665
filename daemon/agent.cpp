// The agent: the scheduler (timers and signals on the collection thread's io_context)
// driving its stages — the pipeline (collectors, targets + evidence → snapshot:
// daemon/pipeline.hpp), the publisher (editions the HTTP thread serves:
// daemon/publisher.hpp) and the reloader (SIGHUP: daemon/reloader.hpp) — and the HTTP
// server on a second thread. Nothing on the first blocks for long (each collector's
// sample() is bounded by the number of target threads), but a sampling round still
// takes milliseconds; serving from its own thread keeps those out of the endpoints'
// latency. The two threads share only published editions.
#include "daemon/agent.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <ctime>
#include <map>
#include <mutex>
#include <thread>
#include <utility>  // before Asio: Boost 1.74 + GCC 12 need std::exchange declared

#include "daemon/auth.hpp"
#include "daemon/baselines.hpp"
#include "daemon/discovery.hpp"
#include "daemon/http_handler.hpp"
#include "daemon/http_server.hpp"
#include "daemon/metrics.hpp"
#include "daemon/pipeline.hpp"
#include "daemon/publisher.hpp"
#include "daemon/recorder.hpp"
#include "daemon/stage_clock.hpp"

namespace boundwise {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

std::shared_ptr<spdlog::logger> logger(const std::string& name) {
  auto l = spdlog::get(name);
  return l ? l : spdlog::default_logger();
}

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

}  // namespace

struct Agent::Impl {
  // The scheduler's timer for one collector's sampling rounds.
  struct Sampler {
    Pipeline::Slot* slot;
    std::unique_ptr<asio::steady_timer> timer;
    Clock::time_point next{};
  };

  Impl(Config c, ConfigLoader l)
      : config(std::move(c)),
        loader(std::move(l)),
        discovery(config, ::getpid()),
        discovery_timer(io),
        window_timer(io),
        signals(io, SIGINT, SIGTERM),
        reload_signal(io, SIGHUP),
        auth(std::make_shared<Authenticator>(config.web)),
        server(http_io, [this](const HttpRequest& r) { return serve(r); }),
        log(logger("agent")) {
    snapshot = std::make_shared<const Snapshot>(initial_snapshot());
    open_baselines();
    metrics.set_max_series(static_cast<std::size_t>(config.max_series));
    render_bodies();
    // A basic-auth check runs bcrypt (~0.2 s): off the HTTP thread, so that a flood of
    // wrong passwords delays only itself.
    server.set_slow_path([this](const HttpRequest& r) {
      std::shared_ptr<Authenticator> current = publisher.current().auth;
      const std::string_view target = r.target;
      // A baseline stored or deleted writes a file: off the HTTP thread too.
      if (r.method == "POST" || r.method == "DELETE") return true;
      return current &&
             current->requires_credentials(r.method, target.substr(0, target.find('?'))) &&
             current->slow(r.authorization);
    });
  }

  ~Impl() { stop_http(); }

  void open_baselines() {
    baselines = std::make_unique<BaselineStore>(config.state_dir,
                                                static_cast<std::size_t>(config.max_baselines));
    for (const auto& s : baselines->skipped()) {
      log->warn("baselines: skipped {}: {}", s.file, s.error);
    }
    const auto n = baselines->list().size();
    if (n > 0) log->info("baselines: {} read from {}", n, baselines->dir());
  }

  // On the HTTP thread: it sees only published editions, never `metrics` itself.
  HttpResponse serve(const HttpRequest& r) {
    Edition e = publisher.current();
    EndpointContext context{*e.snapshot,      e.ready,      e.metrics_body,
                            e.recommend_body, e.auth.get(), baselines.get()};
    return handle_request(r, context);
  }

  // /metrics and /recommend change only when a snapshot is published: rendered once
  // here, then handed to the HTTP thread.
  void render_bodies() {
    publisher.publish({snapshot, std::make_shared<const std::string>(metrics.render()),
                       std::make_shared<const std::string>(render_recommend(*snapshot)), auth,
                       ready});
  }

  void start_http() {
    http_thread = std::thread([this] { http_io.run(); });
  }

  // Stops accepting, closes open connections and ends the HTTP thread. Idempotent.
  void stop_http() {
    if (!http_thread.joinable()) return;
    asio::post(http_io, [this] {
      server.stop();
      http_work.reset();
      http_io.stop();
    });
    http_thread.join();
  }

  Snapshot initial_snapshot() const {
    Snapshot s;
    s.host = host_name();
    s.generated_at = std::chrono::system_clock::now();
    s.window_seconds = std::chrono::duration<double>(config.window).count();
    return s;
  }

  Status start() {
    if (config.web.tls()) {
      if (auto st = server.enable_tls(config.web.tls_cert_file, config.web.tls_key_file); !st) {
        return st;
      }
    }
    if (auto st = server.listen(config.listen_host, config.listen_port); !st) return st;
    log->info("listening on {}://{}:{} (endpoints /metrics /recommend /healthz /readyz)",
              config.web.tls() ? "https" : "http",
              config.listen_host.find(':') != std::string::npos ? "[" + config.listen_host + "]"
                                                                : config.listen_host,
              server.port());
    log_web_settings();

    signals.async_wait([this](const boost::system::error_code& ec, int signal) {
      if (ec) return;
      log->info("received {}, shutting down", signal == SIGINT ? "SIGINT" : "SIGTERM");
      shutdown();
    });
    wait_for_reload_signal();
    if (auto st = open_recorder(); !st) return st;
    start_collection();
    return Ok{};
  }

  // `record`: (re)opens the recorder when the directory or its bound changed; off when
  // unset. Error: the directory cannot be created or written.
  Status open_recorder() {
    if (config.record.empty()) {
      if (recorder) log->info("record: off");
      recorder.reset();
      return Ok{};
    }
    if (recorder && recorder->dir() == config.record &&
        recorder->max_bytes() == config.record_max_bytes) {
      return Ok{};
    }
    recorder.reset();
    auto opened = Recorder::open(config.record, config.record_max_bytes, config.run_as_user);
    if (!opened) return opened.error();
    recorder = std::move(*opened);
    log->info(
        "record: each window's evidence goes to {}/evidence-*.jsonl, {} bytes at most "
        "(boundwise replay {})",
        config.record, config.record_max_bytes, config.record);
    return Ok{};
  }

  void log_web_settings() {
    if (!auth->enabled()) {
      if (config.listen_host != "127.0.0.1" && config.listen_host != "::1") {
        log->warn(
            "listening on {} without authentication: anyone who can reach the port "
            "reads /recommend (set web.bearer_token_file or web.basic_auth_users)",
            config.listen_host);
      }
      return;
    }
    std::string paths;
    for (const auto& p : config.web.protected_endpoints) paths += (paths.empty() ? "" : " ") + p;
    log->info("authentication ({}) required on: {}",
              config.web.basic_auth_users.empty() ? "bearer token" : "basic auth",
              paths.empty() ? "(no endpoint)" : paths);
  }

  void wait_for_reload_signal() {
    reload_signal.async_wait([this](const boost::system::error_code& ec, int) {
      if (ec) return;
      reload();
      wait_for_reload_signal();
    });
  }

  // SIGHUP: the reloader stage decides; an invalid configuration changes nothing (the
  // agent goes on with the old one and says why), a valid one restarts collection with
  // it, which discards the window in progress.
  void reload() {
    if (!loader) {
      log->info("received SIGHUP; running on the embedded default config, nothing to reload");
      return;
    }
    sd_notify(0, "RELOADING=1");
    // Whatever the outcome the agent goes on serving: ready again after this call (if
    // it was ready before: readiness means a classified window).
    struct NotifyReady {
      bool ready;
      ~NotifyReady() {
        if (ready) sd_notify(0, "READY=1");
      }
    } notify_ready{ready};
    ReloadOutcome outcome = reload_config(loader, config);
    if (!outcome.next) {
      log->error("SIGHUP: configuration not reloaded, keeping the running one: {}", outcome.error);
      metrics.set_config_reload(false, 0);
      render_bodies();
      return;
    }
    if (outcome.needs_restart) {
      log->warn(
          "SIGHUP: changes to listen, web.tls, state_dir and max_baselines take effect at the next "
          "restart");
    }
    stop_collection();
    config = std::move(*outcome.next);
    spdlog::set_level(spdlog::level::from_str(config.log_level));
    auth = std::make_shared<Authenticator>(config.web);
    metrics.set_max_series(static_cast<std::size_t>(config.max_series));
    if (auto st = open_recorder(); !st) {
      log->error("SIGHUP: {}; not recording", st.error().message);
    }
    discovery = Discovery(config, ::getpid());
    metrics.set_config_reload(true, static_cast<double>(std::time(nullptr)));
    render_bodies();  // the new credentials apply from here on, before the log says so
    log->info("SIGHUP: configuration reloaded; collection restarted");
    log_web_settings();
    start_collection();
  }

  void start_collection() {
    log->info("window {} ms, {} samples/s, discovery every {} ms, {}", config.window.count(),
              config.sample_rate_hz, config.discovery_interval.count(),
              config.targets.empty() ? fmt::format("auto-discovery of the {} busiest process trees",
                                                   config.max_workloads)
                                     : fmt::format("{} configured targets", config.targets.size()));
    pipeline = std::make_unique<Pipeline>(config, stage_cpu);
    window_start = Clock::now();
    discover();
    samplers.reserve(pipeline->slots().size());  // timers' handlers hold references
    for (auto& slot : pipeline->slots()) {
      if (slot.started && slot.collector->period().count() > 0) {
        samplers.push_back({&slot, std::make_unique<asio::steady_timer>(io), Clock::now()});
        schedule_sample(samplers.back());
      }
    }
    window_timer.expires_at(window_start + config.window);
    window_timer.async_wait([this](const boost::system::error_code& ec) { on_window(ec); });
  }

  // Cancels every timer and destroys the collectors (their handlers, already queued
  // with operation_aborted, touch nothing but the error code).
  void stop_collection() {
    discovery_timer.cancel();
    window_timer.cancel();
    for (auto& sampler : samplers) sampler.timer->cancel();
    samplers.clear();
    pipeline.reset();
  }

  void schedule_discovery() {
    discovery_timer.expires_after(config.discovery_interval);
    discovery_timer.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) discover();
    });
  }

  void discover() {
    {
      StageClock clock(stage_cpu["discovery"]);
      TargetSet targets = discovery.scan();
      pipeline->set_targets(std::move(targets), discovery.facts(), Clock::now());
    }
    schedule_discovery();
  }

  // A collector's next sampling round, one period() after the last one was due.
  void schedule_sample(Sampler& sampler) {
    sampler.next += sampler.slot->collector->period();
    auto now = Clock::now();
    if (sampler.next < now) sampler.next = now;  // fell behind: skip rounds, don't burst
    sampler.timer->expires_at(sampler.next);
    sampler.timer->async_wait([this, &sampler](const boost::system::error_code& ec) {
      if (ec) return;
      pipeline->sample(*sampler.slot,
                       std::chrono::duration<double>(Clock::now() - sampler.next).count());
      schedule_sample(sampler);
    });
  }

  void on_window(const boost::system::error_code& ec) {
    if (ec) return;
    close_window();
    window_timer.expires_at(window_timer.expiry() + config.window);
    if (window_timer.expiry() < Clock::now()) window_timer.expires_after(config.window);
    window_timer.async_wait([this](const boost::system::error_code& e) { on_window(e); });
  }

  // CPU time of the HTTP thread so far (0 before it starts).
  double http_thread_cpu_seconds() {
    clockid_t id;
    if (!http_thread.joinable() || ::pthread_getcpuclockid(http_thread.native_handle(), &id) != 0)
      return 0;
    return cpu_seconds(id);
  }

  // The pipeline closes the window; the agent records, counts, and publishes it.
  void close_window() {
    auto now = Clock::now();
    double duration = std::chrono::duration<double>(now - window_start).count();
    Snapshot base = initial_snapshot();
    base.windows_completed = ++windows_completed;
    Pipeline::Closed closed = pipeline->close(now, duration, base);
    StageClock clock(stage_cpu["publish"]);
    if (recorder) {
      // The window's evidence and rules: what assemble read, for `boundwise replay`.
      RecordedWindow recorded;
      recorded.time = std::chrono::system_clock::now();
      recorded.window = windows_completed;
      recorded.rules = closed.rules;
      recorded.evidence = std::move(closed.evidence);
      metrics.count_dropped("records", recorder->record(recorded) ? 0 : 1);
    }
    stage_cpu["http"] = http_thread_cpu_seconds();
    closed.snapshot->stage_cpu_seconds = stage_cpu;
    metrics.count_dropped("workloads", discovery.over_limit());
    metrics.count_dropped("dependencies", closed.folded_dependencies);
    metrics.publish(*closed.snapshot);
    snapshot = std::move(closed.snapshot);
    const bool first = !ready;
    ready = true;
    render_bodies();
    if (first) {
      // systemd Type=notify: started means classified, not merely listening. A no-op
      // without NOTIFY_SOCKET.
      sd_notify(0, "READY=1\nSTATUS=first window classified");
    }
    window_start = now;
  }

  void shutdown() {
    sd_notify(0, "STOPPING=1");
    stop_collection();
    signals.cancel();
    reload_signal.cancel();
    stop_http();
    io.stop();
  }

  Config config;
  ConfigLoader loader;
  asio::io_context io{1};
  // The HTTP server's own loop; the guard keeps it running between connections.
  asio::io_context http_io{1};
  asio::executor_work_guard<asio::io_context::executor_type> http_work{http_io.get_executor()};
  Discovery discovery;
  asio::steady_timer discovery_timer;
  asio::steady_timer window_timer;
  asio::signal_set signals;
  asio::signal_set reload_signal;
  MetricsPublisher metrics;
  std::shared_ptr<Authenticator> auth;
  HttpServer server;
  std::shared_ptr<spdlog::logger> log;
  std::unique_ptr<Pipeline> pipeline;  // while collecting
  std::vector<Sampler> samplers;       // one per pipeline slot that samples
  std::shared_ptr<const Snapshot> snapshot;
  std::unique_ptr<Recorder> recorder;  // set when `record` is
  // Read at start from state_dir; written by the HTTP server's worker (POST, DELETE).
  std::unique_ptr<BaselineStore> baselines;
  Clock::time_point window_start{};
  std::uint64_t windows_completed = 0;
  bool ready = false;
  Publisher publisher;
  std::thread http_thread;
  StageCpu stage_cpu;  // CPU seconds by stage, since start
};

Agent::Agent(Config config, ConfigLoader loader)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(loader))) {}
Agent::~Agent() = default;

Status Agent::start() { return impl_->start(); }

int Agent::run() {
  // Requests are answered from here on, not from start(): the port is bound there (it
  // may need privilege) and connections wait in its backlog, so that a first answer
  // means a started agent running with the privileges it keeps.
  impl_->start_http();
  impl_->io.run();
  return 0;
}

void Agent::stop() {
  asio::post(impl_->io, [this] { impl_->shutdown(); });
}

}  // namespace boundwise
