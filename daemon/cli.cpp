// The HTTP(S) client of `boundwise status` and `boundwise explain` (Beast, like the
// server: a translation unit with Beast is slow to compile, so the client is all
// here) and the mapping of what went wrong to an exit code.
#include "daemon/cli.hpp"

#include <openssl/evp.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <thread>
#include <utility>
#include <variant>

#include "classifier/text.hpp"
#include "daemon/build_info.hpp"
#include "daemon/cli_format.hpp"
#include "daemon/json_read.hpp"

namespace boundwise::cli {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using nlohmann::json;

struct Url {
  bool tls = false;
  std::string host;  // without brackets for IPv6
  std::string port;
  std::string base;  // a path prefix ("" or "/agent"): behind a reverse proxy
};

// http[s]://HOST[:PORT][/PREFIX]; HOST may be [V6]. Port 9977 by default.
std::optional<Url> parse_url(const std::string& text) {
  Url url;
  std::string rest;
  if (text.rfind("http://", 0) == 0) {
    rest = text.substr(7);
  } else if (text.rfind("https://", 0) == 0) {
    url.tls = true;
    rest = text.substr(8);
  } else {
    return std::nullopt;
  }
  std::string authority = rest.substr(0, rest.find('/'));
  if (rest.find('/') != std::string::npos) url.base = rest.substr(rest.find('/'));
  while (!url.base.empty() && url.base.back() == '/') url.base.pop_back();
  std::string port_text;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string::npos) return std::nullopt;
    url.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return std::nullopt;
      port_text = authority.substr(close + 2);
    }
  } else {
    url.host = authority.substr(0, authority.find(':'));
    if (authority.find(':') != std::string::npos)
      port_text = authority.substr(authority.find(':') + 1);
  }
  if (url.host.empty()) return std::nullopt;
  if (authority.find(':') != std::string::npos && port_text.empty()) return std::nullopt;
  url.port = port_text.empty() ? "9977" : port_text;
  if (url.port.find_first_not_of("0123456789") != std::string::npos || url.port.size() > 5 ||
      std::stoi(url.port) == 0 || std::stoi(url.port) > 65535) {
    return std::nullopt;
  }
  return url;
}

struct Fetched {
  int status = 0;
  std::string body;
};

struct Failure {
  int code = kFailure;
  std::string message;
};

// A secret from a file (never from the command line, where `ps` shows it). A token as
// the agent reads it (config/config.cpp): the file's one word. A password: the file's
// first line as it is, spaces included.
enum class Secret { token, password };
std::variant<std::string, Failure> read_secret(const std::string& option, const std::string& path,
                                               Secret kind) {
  std::ifstream in(path);
  if (!in) return Failure{kBadArguments, option + ": cannot read " + path};
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (kind == Secret::token) {
    auto first = text.find_first_not_of(" \t\r\n");
    auto last = text.find_last_not_of(" \t\r\n");
    text = first == std::string::npos ? "" : text.substr(first, last - first + 1);
  } else {
    text = text.substr(0, text.find('\n'));
    if (!text.empty() && text.back() == '\r') text.pop_back();
  }
  if (text.empty()) return Failure{kBadArguments, option + ": " + path + " is empty"};
  return text;
}

// RFC 7617: "Basic " and the base64 of user:password.
std::string basic_credentials(const std::string& user, const std::string& password) {
  const std::string plain = user + ":" + password;
  std::string encoded(4 * ((plain.size() + 2) / 3) + 1, '\0');  // EVP_EncodeBlock adds a NUL
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                                reinterpret_cast<const unsigned char*>(plain.data()),
                                static_cast<int>(plain.size()));
  encoded.resize(static_cast<std::size_t>(n));
  return "Basic " + encoded;
}

// The Authorization header the options ask for: empty for none.
std::variant<std::string, Failure> authorization(const ClientOptions& options) {
  const bool basic = !options.basic_auth_user.empty() || !options.basic_auth_password_file.empty();
  if (basic && !options.bearer_token_file.empty()) {
    return Failure{kBadArguments,
                   "give either --bearer-token-file or basic auth (--basic-auth-user), not both"};
  }
  if (!options.bearer_token_file.empty()) {
    auto token = read_secret("--bearer-token-file", options.bearer_token_file, Secret::token);
    if (auto* f = std::get_if<Failure>(&token)) return *f;
    return "Bearer " + std::get<std::string>(token);
  }
  if (!basic) return std::string{};
  if (options.basic_auth_user.empty() || options.basic_auth_password_file.empty()) {
    return Failure{kBadArguments, "--basic-auth-user and --basic-auth-password-file go together"};
  }
  if (options.basic_auth_user.find(':') != std::string::npos) {
    return Failure{kBadArguments, "--basic-auth-user: a user name cannot contain ':'"};
  }
  auto password =
      read_secret("--basic-auth-password-file", options.basic_auth_password_file, Secret::password);
  if (auto* f = std::get_if<Failure>(&password)) return *f;
  return basic_credentials(options.basic_auth_user, std::get<std::string>(password));
}

// Where one GET stands: the error of the step that failed, and which step it was.
struct Progress {
  beast::error_code ec;
  std::string stage;
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
};

// Writes the request and reads the answer on a connected (and for TLS, handshaken)
// stream. Callbacks, not coroutines: clang-14 (clang-tidy's compiler) cannot build
// Boost 1.74's awaitable against libstdc++ 12. Everything referred to lives in
// fetch()'s frame, which io_context::run() does not leave before the last handler.
template <class Stream>
void write_then_read(Stream* stream, const http::request<http::empty_body>* request,
                     Progress* progress) {
  progress->stage = "sending the request";
  http::async_write(*stream, *request, [stream, progress](beast::error_code ec, std::size_t) {
    if (ec) {
      progress->ec = ec;
      return;
    }
    progress->stage = "reading the answer";
    http::async_read(
        *stream, progress->buffer, progress->parser,
        [progress](beast::error_code read_ec, std::size_t) { progress->ec = read_ec; });
  });
}

std::variant<Fetched, Failure> fetch(const ClientOptions& options, const std::string& target,
                                     http::verb method = http::verb::get) {
  auto url = parse_url(options.url);
  if (!url) {
    return Failure{kBadArguments,
                   "--url: bad URL \"" + options.url + "\" (http[s]://HOST[:PORT][/PREFIX])"};
  }
  auto credentials = authorization(options);
  if (auto* f = std::get_if<Failure>(&credentials)) return *f;
  const std::string& authorization_value = std::get<std::string>(credentials);
  ssl::context tls(ssl::context::tls_client);
  if (url->tls) {
    beast::error_code ec;
    if (options.ca_file.empty()) {
      tls.set_default_verify_paths(ec);
    } else {
      tls.load_verify_file(options.ca_file, ec);
    }
    if (ec) {
      return Failure{kBadArguments,
                     "--ca-file: cannot load " + options.ca_file + ": " + ec.message()};
    }
    tls.set_verify_mode(ssl::verify_peer);
  } else if (!options.ca_file.empty()) {
    return Failure{kBadArguments, "--ca-file needs an https:// --url"};
  }

  http::request<http::empty_body> request{method, url->base + target, 11};
  request.set(http::field::host, url->host);
  request.set(http::field::user_agent, "boundwise/" + std::string(build_info().version));
  request.set(http::field::connection, "close");
  if (!authorization_value.empty()) request.set(http::field::authorization, authorization_value);

  asio::io_context io;
  Progress progress;
  progress.stage = "resolving " + url->host;
  progress.parser.body_limit(std::uint64_t{64} << 20);
  tcp::resolver resolver(io);
  std::optional<beast::tcp_stream> plain;
  std::optional<beast::ssl_stream<beast::tcp_stream>> secure;
  if (url->tls) {
    secure.emplace(io, tls);
    // SNI for a host name; the certificate checked against the name or address.
    boost::system::error_code not_an_address;
    asio::ip::make_address(url->host, not_an_address);
    if (not_an_address) SSL_set_tlsext_host_name(secure->native_handle(), url->host.c_str());
    secure->set_verify_callback(ssl::host_name_verification(url->host));
  } else {
    plain.emplace(io);
  }
  beast::tcp_stream& lowest = secure ? beast::get_lowest_layer(*secure) : *plain;
  resolver.async_resolve(
      url->host, url->port,
      [&](beast::error_code ec, const tcp::resolver::results_type& endpoints) {
        if (ec) {
          progress.ec = ec;
          return;
        }
        progress.stage = "connecting";
        lowest.expires_after(options.timeout);
        lowest.async_connect(endpoints, [&](beast::error_code connect_ec, const tcp::endpoint&) {
          if (connect_ec) {
            progress.ec = connect_ec;
            return;
          }
          if (!secure) {
            write_then_read(&*plain, &request, &progress);
            return;
          }
          progress.stage = "TLS handshake";
          secure->async_handshake(ssl::stream_base::client, [&](beast::error_code handshake_ec) {
            if (handshake_ec) {
              progress.ec = handshake_ec;
              return;
            }
            write_then_read(&*secure, &request, &progress);
          });
        });
      });
  io.run();
  const beast::error_code& ec = progress.ec;
  const std::string& stage = progress.stage;
  if (ec) {
    std::string why =
        ec == beast::error::timeout
            ? "no answer within " +
                  format_duration(std::chrono::duration<double>(options.timeout).count())
            : ec.message();
    std::string hint;
    if (stage == "TLS handshake") hint = " (an https agent's CA: --ca-file)";
    if (stage == "reading the answer" && !url->tls && ec != beast::error::timeout) {
      hint = " (an https agent? use an https:// --url)";
    }
    return Failure{kUnreachable,
                   "agent unreachable at " + options.url + ": " + stage + ": " + why + hint};
  }
  auto response = progress.parser.release();
  return Fetched{static_cast<int>(response.result_int()), std::move(response.body())};
}

// The error text of an agent's JSON error body, or the body's first line.
std::string error_text(const std::string& body) {
  auto j = json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_string()) {
    return j["error"].get<std::string>();
  }
  return body.substr(0, body.find('\n'));
}

std::string unauthorised_hint(const ClientOptions& options) {
  if (!options.bearer_token_file.empty()) return "; check --bearer-token-file";
  if (!options.basic_auth_user.empty()) {
    return "; check --basic-auth-user and --basic-auth-password-file";
  }
  return "; give its token with --bearer-token-file, or its user with --basic-auth-user and "
         "--basic-auth-password-file";
}

Failure unauthorised(const ClientOptions& options, int status, const std::string& body) {
  return Failure{kUnauthorised, "unauthorised: the agent at " + options.url + " answered " +
                                    std::to_string(status) + " (" + error_text(body) + ")" +
                                    unauthorised_hint(options)};
}

// A /baselines or /compare answer, parsed; or the failure, with the exit code its
// status means (404: unknown workload or baseline, 409: not classified yet).
std::variant<json, Failure> call(const ClientOptions& options, const std::string& target,
                                 http::verb method) {
  auto got = fetch(options, target, method);
  if (auto* f = std::get_if<Failure>(&got)) return *f;
  const auto& [status, body] = std::get<Fetched>(got);
  if (status == 401 || status == 403) return unauthorised(options, status, body);
  if (status == 404) return Failure{kUnknownWorkload, error_text(body)};
  if (status == 409) return Failure{kNotReady, error_text(body)};
  if (status == 400) return Failure{kBadArguments, error_text(body)};
  auto doc = json::parse(body, nullptr, false);
  if (status != 200 && status != 201) {
    return Failure{kFailure, "the agent at " + options.url + " answered " + std::to_string(status) +
                                 ": " + error_text(body)};
  }
  if (doc.is_discarded() || !doc.is_object()) {
    return Failure{kFailure, "the agent at " + options.url + " answered something not JSON"};
  }
  return doc;
}

// /recommend, parsed, or why not (with its exit code).
std::variant<json, Failure> recommend(const ClientOptions& options) {
  auto got = fetch(options, "/recommend");
  if (auto* f = std::get_if<Failure>(&got)) return *f;
  const auto& [status, body] = std::get<Fetched>(got);
  if (status == 401 || status == 403) return unauthorised(options, status, body);
  if (status != 200) {
    return Failure{kFailure, "the agent at " + options.url + " answered " + std::to_string(status) +
                                 ": " + error_text(body)};
  }
  auto doc = json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return Failure{kFailure, "the agent at " + options.url + " answered something not JSON"};
  }
  const auto& completed = doc.value("windows_completed", json());
  if (completed.is_number() && completed.get<double>() == 0) {
    return Failure{kNotReady, "not ready: the agent at " + options.url +
                                  " has not classified its first window yet (window " +
                                  format_duration(doc.value("window_seconds", 0.0)) +
                                  "); try again after it"};
  }
  return doc;
}

std::string known_names(const json& doc) {
  std::string out;
  for (const auto& w : doc.value("workloads", json::array())) {
    if (w.is_object() && w.contains("workload") && w["workload"].is_string()) {
      out += (out.empty() ? "" : ", ") + w["workload"].get<std::string>();
    }
  }
  return out.empty() ? "none" : out;
}

// The workload, or the failure for an unknown one or one not yet classified.
std::variant<json, Failure> one_workload(const json& doc, const std::string& name) {
  auto w = find_workload(doc, name);
  if (!w) {
    return Failure{kUnknownWorkload,
                   "unknown workload \"" + name + "\" (known: " + known_names(doc) + ")"};
  }
  if ((*w)["verdict"].is_null() && w->value("state", "running") == "running") {
    return Failure{kNotReady, "not ready: workload \"" + name +
                                  "\" has not had a full window classified yet; try again after "
                                  "the next one"};
  }
  return *w;
}

Style style_for(const ClientOptions& options) {
  return Style{.colour = options.terminal && std::getenv("NO_COLOR") == nullptr};
}

// One status frame: the text to print, or the failure.
std::variant<std::string, Failure> status_frame(const ClientOptions& client,
                                                const StatusOptions& options) {
  auto got = recommend(client);
  if (auto* f = std::get_if<Failure>(&got)) return *f;
  json doc = std::get<json>(std::move(got));
  if (!options.workload.empty()) {
    auto w = one_workload(doc, options.workload);
    if (auto* f = std::get_if<Failure>(&w)) return *f;
    doc["workloads"] = json::array({std::get<json>(w)});
  }
  if (options.json) return doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
  return status_table(doc, style_for(client));
}

}  // namespace

int run_status(const ClientOptions& client, const StatusOptions& options, std::ostream& out,
               std::ostream& err) {
  if (!options.watch) {
    auto frame = status_frame(client, options);
    if (auto* f = std::get_if<Failure>(&frame)) {
      err << "boundwise status: " << f->message << "\n";
      return f->code;
    }
    out << std::get<std::string>(frame);
    return kOk;
  }
  // Until interrupted; the agent going away or restarting is shown, not fatal.
  if (client.terminal) out << "\x1b[H\x1b[2J";
  for (;;) {
    auto frame = status_frame(client, options);
    if (auto* f = std::get_if<Failure>(&frame); f && f->code == kBadArguments) {
      err << "boundwise status: " << f->message << "\n";
      return f->code;
    }
    std::string text = std::holds_alternative<std::string>(frame)
                           ? std::get<std::string>(frame)
                           : std::get<Failure>(frame).message + "\n";
    // Home, draw, clear what the previous frame left below: no flicker.
    if (client.terminal) {
      out << "\x1b[H" << text << "\x1b[J";
    } else {
      out << text << "\n";
    }
    out.flush();
    std::this_thread::sleep_for(options.interval);
  }
}

int run_explain(const ClientOptions& client, const std::string& workload, std::ostream& out,
                std::ostream& err) {
  auto got = recommend(client);
  if (auto* f = std::get_if<Failure>(&got)) {
    err << "boundwise explain: " << f->message << "\n";
    return f->code;
  }
  const json& doc = std::get<json>(got);
  auto w = one_workload(doc, workload);
  if (auto* f = std::get_if<Failure>(&w)) {
    err << "boundwise explain: " << f->message << "\n";
    return f->code;
  }
  out << explain_text(doc, std::get<json>(w), style_for(client));
  return kOk;
}

int run_baseline(const ClientOptions& client, const BaselineOptions& options, std::ostream& out,
                 std::ostream& err) {
  std::string target =
      "/baselines?workload=" + url_encode(options.workload) + "&name=" + url_encode(options.name);
  if (options.windows > 0) target += "&windows=" + std::to_string(options.windows);
  auto got = call(client, target, options.remove ? http::verb::delete_ : http::verb::post);
  if (auto* f = std::get_if<Failure>(&got)) {
    err << "boundwise baseline: " << f->message << "\n";
    return f->code;
  }
  const json& doc = std::get<json>(got);
  if (options.remove) {
    out << "deleted baseline \"" << options.name << "\" of " << options.workload << "\n";
    return kOk;
  }
  const json& figures = json_read::field(doc, "figures");
  out << (doc.value("replaced", false) ? "replaced" : "stored") << " baseline \"" << options.name
      << "\" of " << options.workload << ": the mean of its last "
      << json_read::number(doc, "windows").value_or(0) << " window(s), "
      << json_read::text(figures, "model_in_use") << ", "
      << printf_string("%.2f", json_read::number(figures, "throughput_per_second").value_or(0))
      << " " << json_read::text(figures, "throughput_basis") << "/s; compare with: boundwise "
      << "compare " << options.workload << " " << options.name << "\n";
  return kOk;
}

int run_compare(const ClientOptions& client, const CompareOptions& options, std::ostream& out,
                std::ostream& err) {
  std::string target = "/compare?workload=" + url_encode(options.workload) +
                       "&baseline=" + url_encode(options.baseline);
  if (options.windows > 0) target += "&windows=" + std::to_string(options.windows);
  auto got = call(client, target, http::verb::get);
  if (auto* f = std::get_if<Failure>(&got)) {
    err << "boundwise compare: " << f->message << "\n";
    return f->code;
  }
  const json& doc = std::get<json>(got);
  if (options.json) {
    out << doc.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
  } else {
    out << compare_text(doc, style_for(client));
  }
  return kOk;
}

std::string exit_codes_help() {
  return "\nExit codes: 0 ok, 1 unexpected answer, 2 bad arguments, 3 agent unreachable "
         "(connection, timeout, TLS), 4 unauthorised, 5 unknown workload (or baseline), 6 not "
         "ready yet (no window classified).\n";
}

}  // namespace boundwise::cli
