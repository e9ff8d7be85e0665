// The agent's schedule on one io_context thread, and the HTTP server on a second one.
// Nothing on the first blocks for long (each collector's sample() is bounded by the
// number of target threads), but a sampling round still takes milliseconds; serving
// from its own thread keeps those out of the endpoints' latency. The two share only
// what a window close publishes (Published, behind a mutex): immutable bodies and
// snapshot, readiness, and the authenticator of the running configuration.
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

#include "classifier/assemble/assemble.hpp"
#include "classifier/classify.hpp"
#include "collectors/process/process_images.hpp"
#include "collectors/registry.hpp"
#include "daemon/auth.hpp"
#include "daemon/discovery.hpp"
#include "daemon/http_handler.hpp"
#include "daemon/http_server.hpp"
#include "daemon/metrics.hpp"
#include "daemon/recorder.hpp"

namespace boundwise {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

std::shared_ptr<spdlog::logger> logger(const std::string& name) {
  auto l = spdlog::get(name);
  return l ? l : spdlog::default_logger();
}

// CPU time of a clock (a thread's CLOCK_THREAD_CPUTIME_ID or pthread_getcpuclockid).
double cpu_seconds(clockid_t clock) {
  timespec ts{};
  if (::clock_gettime(clock, &ts) != 0) return 0;
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Adds the calling thread's CPU time over its scope to `total`
// (boundwise_agent_stage_seconds_total).
class StageClock {
 public:
  explicit StageClock(double& total)
      : total_(total), start_(cpu_seconds(CLOCK_THREAD_CPUTIME_ID)) {}
  ~StageClock() { total_ += cpu_seconds(CLOCK_THREAD_CPUTIME_ID) - start_; }
  StageClock(const StageClock&) = delete;
  StageClock& operator=(const StageClock&) = delete;

 private:
  double& total_;
  double start_;
};

std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

}  // namespace

struct Agent::Impl {
  struct CollectorSlot {
    std::unique_ptr<Collector> collector;
    std::unique_ptr<asio::steady_timer> timer;
    Clock::time_point next{};
    CollectorStatus status;
    std::uint64_t failures = 0;
  };

  // What the HTTP thread serves; replaced whole, under `published_mutex`.
  struct Published {
    std::shared_ptr<const Snapshot> snapshot;
    std::shared_ptr<const std::string> metrics_body;
    std::shared_ptr<const std::string> recommend_body;
    // Used by the HTTP thread and its slow-path worker (Authenticator is thread-safe).
    std::shared_ptr<Authenticator> auth;
    bool ready = false;
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
    metrics.set_max_series(static_cast<std::size_t>(config.max_series));
    render_bodies();
    // A basic-auth check runs bcrypt (~0.2 s): off the HTTP thread, so that a flood of
    // wrong passwords delays only itself.
    server.set_slow_path([this](const HttpRequest& r) {
      std::shared_ptr<Authenticator> current;
      {
        std::lock_guard lock(published_mutex);
        current = published.auth;
      }
      const std::string_view target = r.target;
      return current && current->protects(target.substr(0, target.find('?'))) &&
             current->slow(r.authorization);
    });
  }

  ~Impl() { stop_http(); }

  // On the HTTP thread: it sees only what a window close published (immutable
  // bodies and snapshot, swapped under the mutex), never `metrics` itself.
  HttpResponse serve(const HttpRequest& r) {
    Published p;
    {
      std::lock_guard lock(published_mutex);
      p = published;
    }
    EndpointContext context{*p.snapshot, p.ready, p.metrics_body, p.recommend_body, p.auth.get()};
    return handle_request(r, context);
  }

  // /metrics and /recommend change only when a snapshot is published: render them
  // once here, so a request costs neither a serialisation nor a copy: responses share
  // the rendered text (a response still being written keeps its version alive).
  // Then hands them to the HTTP thread.
  void render_bodies() {
    Published next;
    next.snapshot = snapshot;
    next.metrics_body = std::make_shared<const std::string>(metrics.render());
    next.recommend_body = std::make_shared<const std::string>(render_recommend(*snapshot));
    next.auth = auth;
    next.ready = ready;
    std::lock_guard lock(published_mutex);
    published = std::move(next);
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

  // SIGHUP: load the configuration again. An invalid one changes nothing (the agent
  // goes on with the old one and says why); a valid one restarts collection with it,
  // which discards the window in progress. The listen address and TLS files are bound
  // at start-up and need a restart.
  void reload() {
    if (!loader) {
      log->info("received SIGHUP; running on the embedded default config, nothing to reload");
      return;
    }
    Config next;
    sd_notify(0, "RELOADING=1");
    // Whatever the outcome the agent goes on serving: ready again after this call (if
    // it was ready before: readiness means a classified window).
    struct NotifyReady {
      bool ready;
      ~NotifyReady() {
        if (ready) sd_notify(0, "READY=1");
      }
    } notify_ready{ready};
    try {
      next = loader();
    } catch (const ConfigError& e) {
      log->error("SIGHUP: configuration not reloaded, keeping the running one: {}", e.what());
      metrics.set_config_reload(false, 0);
      render_bodies();
      return;
    }
    if (next.listen_host != config.listen_host || next.listen_port != config.listen_port ||
        next.web.tls_cert_file != config.web.tls_cert_file ||
        next.web.tls_key_file != config.web.tls_key_file) {
      log->warn("SIGHUP: listen address and TLS files changes take effect at the next restart");
      next.listen_host = config.listen_host;
      next.listen_port = config.listen_port;
      next.web.tls_cert_file = config.web.tls_cert_file;
      next.web.tls_key_file = config.web.tls_key_file;
    }
    stop_collection();
    config = std::move(next);
    spdlog::set_level(spdlog::level::from_str(config.log_level));
    auth = std::make_shared<Authenticator>(config.web);
    metrics.set_max_series(static_cast<std::size_t>(config.max_series));
    if (auto st = open_recorder(); !st) {
      log->error("SIGHUP: {}; not recording", st.error().message);
    }
    discovery = Discovery(config, ::getpid());
    first_seen.clear();
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

    CollectorSettings settings;
    settings.proc_root = config.proc_root;
    settings.sample_rate_hz = config.sample_rate_hz;
    settings.max_open_files = config.max_open_files;
    settings.collectors_enabled = config.collectors_enabled;
    settings.options = config.collector_options;
    // One cache for all collectors: each process's ELF is read once, not per collector.
    settings.process_images = std::make_shared<process::ProcessImages>(settings.proc_root);
    for (const auto* descriptor : collector_descriptors()) {
      const std::string& name = descriptor->name;
      auto enabled = config.collectors_enabled.find(name);
      if (enabled != config.collectors_enabled.end() ? !enabled->second
                                                     : !descriptor->enabled_by_default) {
        log->info("collector {}: disabled by configuration", name);
        continue;
      }
      auto c = descriptor->factory(settings);
      CollectorSlot slot;
      slot.status.name = name;
      auto t0 = Clock::now();
      Status st = c->start();
      slot.status.last_duration_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
      slot.status.up = st.ok();
      if (st.ok()) {
        log->info("collector {}: up", name);
      } else {
        slot.status.error = st.error().message;
        log->warn("collector {}: down: {}", name, slot.status.error);
      }
      slot.collector = std::move(c);
      slot.timer = std::make_unique<asio::steady_timer>(io);
      slots.push_back(std::move(slot));
    }

    window_start = Clock::now();
    discover();
    for (auto& slot : slots) {
      if (slot.status.up && slot.collector->period().count() > 0) {
        slot.next = Clock::now();
        schedule_sample(slot);
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
    for (auto& slot : slots) slot.timer->cancel();
    slots.clear();
  }

  void schedule_discovery() {
    discovery_timer.expires_after(config.discovery_interval);
    discovery_timer.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) discover();
    });
  }

  void discover() {
    StageClock clock(stage_cpu["discovery"]);
    targets = discovery.scan();
    auto now = Clock::now();
    std::map<std::string, Clock::time_point> seen;
    for (const auto& w : targets.workloads) {
      auto it = first_seen.find(w.name);
      seen[w.name] = it != first_seen.end() ? it->second : now;
      if (it == first_seen.end()) {
        logger("discovery")->info("workload {}: {} processes", w.name, w.processes.size());
      }
    }
    for (const auto& [name, when] : first_seen) {
      if (seen.count(name) == 0) logger("discovery")->info("workload {}: gone", name);
    }
    first_seen = std::move(seen);
    for (auto& slot : slots) {
      if (slot.status.up) slot.collector->set_targets(targets);
    }
    schedule_discovery();
  }

  void schedule_sample(CollectorSlot& slot) {
    slot.next += slot.collector->period();
    auto now = Clock::now();
    if (slot.next < now) slot.next = now;  // fell behind: skip rounds, don't burst
    slot.timer->expires_at(slot.next);
    slot.timer->async_wait([this, &slot](const boost::system::error_code& ec) {
      if (ec) return;
      StageClock clock(stage_cpu["sampling"]);
      auto t0 = Clock::now();
      Status st = slot.collector->sample(t0);
      slot.status.last_duration_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
      if (!st.ok()) {
        if (slot.failures++ % 100 == 0) {
          log->warn("collector {}: sample failed: {} ({} failures so far)", slot.status.name,
                    st.error().message, slot.failures);
        }
        slot.status.error = st.error().message;
      }
      schedule_sample(slot);
    });
  }

  void on_window(const boost::system::error_code& ec) {
    if (ec) return;
    close_window();
    window_timer.expires_at(window_timer.expiry() + config.window);
    if (window_timer.expiry() < Clock::now()) window_timer.expires_after(config.window);
    window_timer.async_wait([this](const boost::system::error_code& e) { on_window(e); });
  }

  // Every collector's evidence for the window that ends now.
  EvidenceSet collect_evidence(Clock::time_point now, double duration) {
    StageClock clock(stage_cpu["sampling"]);
    EvidenceSet evidence;
    for (const auto& w : targets.workloads) {
      auto& e = evidence.workloads[w.name];
      e.workload = w.name;
      e.duration_seconds = duration;
    }
    for (auto& slot : slots) {
      if (!slot.status.up) continue;
      auto t0 = Clock::now();
      slot.collector->contribute(now, evidence);
      double spent = std::chrono::duration<double>(Clock::now() - t0).count();
      if (slot.collector->period().count() == 0) slot.status.last_duration_seconds = spent;
    }
    return evidence;
  }

  // The next snapshot: every target workload with its verdict and recommendation (a
  // workload discovered late in this window has too little of it to judge).
  std::shared_ptr<Snapshot> judge(std::map<std::string, WorkloadWindow>& windows,
                                  const NodeWindow& node, Clock::time_point now, double duration) {
    auto next = std::make_shared<Snapshot>(initial_snapshot());
    next->windows_completed = ++windows_completed;
    next->node = node;
    for (const auto& slot : slots) {
      next->collectors.push_back(slot.status);
      if (!slot.status.up) continue;
      for (const auto& part : slot.collector->parts()) {
        next->collectors.push_back({part.name, part.up, 0, part.error});
      }
    }
    for (const auto& w : targets.workloads) {
      next->workloads.push_back(make_report(w, windows[w.name], now, duration));
    }
    for (auto it = last_class.begin(); it != last_class.end();) {
      it = first_seen.count(it->first) == 0 ? last_class.erase(it) : std::next(it);
    }
    std::sort(next->workloads.begin(), next->workloads.end(),
              [](const auto& a, const auto& b) { return a.name < b.name; });
    return next;
  }

  // CPU time of the HTTP thread so far (0 before it starts).
  double http_thread_cpu_seconds() {
    clockid_t id;
    if (!http_thread.joinable() || ::pthread_getcpuclockid(http_thread.native_handle(), &id) != 0)
      return 0;
    return cpu_seconds(id);
  }

  void close_window() {
    auto now = Clock::now();
    double duration = std::chrono::duration<double>(now - window_start).count();
    EvidenceSet evidence = collect_evidence(now, duration);
    const AssembleRules rules{config.dependencies, config.max_dependencies_per_workload};
    std::map<std::string, WorkloadWindow> windows;
    {
      StageClock clock(stage_cpu["assembly"]);
      windows = assemble(evidence, rules);
    }
    std::shared_ptr<Snapshot> next;
    {
      StageClock clock(stage_cpu["classify"]);
      next = judge(windows, evidence.node, now, duration);
    }
    StageClock clock(stage_cpu["publish"]);
    if (recorder) {
      // The window's evidence and rules: what assemble read, for `boundwise replay`.
      RecordedWindow recorded;
      recorded.time = std::chrono::system_clock::now();
      recorded.window = windows_completed;
      recorded.rules = rules;
      recorded.evidence = std::move(evidence);
      metrics.count_dropped("records", recorder->record(recorded) ? 0 : 1);
    }
    stage_cpu["http"] = http_thread_cpu_seconds();
    next->stage_cpu_seconds = stage_cpu;
    metrics.count_dropped("workloads", discovery.over_limit());
    double folded = 0;
    for (const auto& [name, win] : windows) {
      for (const auto& d : win.dependencies) folded += d.folded;
    }
    metrics.count_dropped("dependencies", folded);
    metrics.publish(*next);
    snapshot = std::move(next);
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

  // One workload's report for the window just closed: classified and recommended
  // unless it was discovered too late in the window to judge.
  WorkloadReport make_report(const TargetWorkload& w, const WorkloadWindow& win,
                             Clock::time_point now, double duration) {
    WorkloadReport out;
    out.name = w.name;
    out.pod = w.pod;
    for (const auto& key : w.processes) out.pids.push_back(key.pid);
    auto threads = discovery.threads().find(w.name);
    out.threads = threads != discovery.threads().end() ? threads->second : 0;
    // A workload discovered late in this window has too little of it to judge.
    auto seen = first_seen.find(w.name);
    bool enough = seen != first_seen.end() &&
                  std::chrono::duration<double>(now - seen->second).count() >= duration * 0.5;
    if (!enough) return out;
    Verdict verdict = classify(win);
    out.recommendation = recommend(verdict, win);
    auto previous = last_class.find(w.name);
    if (previous == last_class.end() || previous->second != verdict.bottleneck) {
      log->info("workload {}: {} (confidence {:.2f}) → {}: {}", w.name,
                to_string(verdict.bottleneck), verdict.confidence,
                to_string(out.recommendation->model), out.recommendation->summary);
    }
    last_class[w.name] = verdict.bottleneck;
    out.verdict = std::move(verdict);
    out.window = win;
    return out;
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
  std::vector<CollectorSlot> slots;
  TargetSet targets;
  std::map<std::string, Clock::time_point> first_seen;
  std::map<std::string, Bottleneck> last_class;
  std::shared_ptr<const Snapshot> snapshot;
  std::unique_ptr<Recorder> recorder;  // set when `record` is
  Clock::time_point window_start{};
  std::uint64_t windows_completed = 0;
  bool ready = false;
  std::mutex published_mutex;
  Published published;
  std::thread http_thread;
  std::map<std::string, double> stage_cpu;  // CPU seconds by stage, since start
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
