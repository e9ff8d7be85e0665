#include "daemon/reloader.hpp"

namespace boundwise {

ReloadOutcome reload_config(const ConfigLoader& loader, const Config& running) {
  ReloadOutcome out;
  if (!loader) return out;
  Config next;
  try {
    next = loader();
  } catch (const ConfigError& e) {
    out.error = e.what();
    return out;
  }
  if (next.listen_host != running.listen_host || next.listen_port != running.listen_port ||
      next.web.tls_cert_file != running.web.tls_cert_file ||
      next.web.tls_key_file != running.web.tls_key_file || next.state_dir != running.state_dir ||
      next.max_baselines != running.max_baselines) {
    out.needs_restart = true;
    next.listen_host = running.listen_host;
    next.listen_port = running.listen_port;
    next.web.tls_cert_file = running.web.tls_cert_file;
    next.web.tls_key_file = running.web.tls_key_file;
    next.state_dir = running.state_dir;
    next.max_baselines = running.max_baselines;
  }
  out.next = std::move(next);
  return out;
}

}  // namespace boundwise
