// `boundwise status`, `explain`, `baseline` and `compare`: ask a running agent for
// /recommend, /baselines or /compare (HTTP or HTTPS, with the web config's bearer
// token) and print the answer for a person
// (daemon/cli_format.hpp). The exit codes say what went wrong, so scripts and
// runbooks can tell an agent that is down from one that is not ready yet.
#pragma once

#include <chrono>
#include <ostream>
#include <string>

namespace boundwise::cli {

// Exit codes of the client subcommands (0 and 2 as for the agent: ok, bad arguments).
enum ExitCode : int {
  kOk = 0,
  kFailure = 1,          // the agent answered something unexpected (5xx, not JSON)
  kBadArguments = 2,     // a malformed --url, an unreadable token or CA file
  kUnreachable = 3,      // no connection, timeout, TLS handshake or certificate failure
  kUnauthorised = 4,     // 401/403: credentials missing or wrong
  kUnknownWorkload = 5,  // no workload of that name
  kNotReady = 6,         // the agent has not classified a window yet (or that workload)
};

struct ClientOptions {
  std::string url = "http://127.0.0.1:9977";  // http:// or https://, host, port
  std::string bearer_token_file;              // empty: no bearer token
  std::string basic_auth_user;                // with the password file: basic auth
  std::string basic_auth_password_file;       // the password, one line
  std::string ca_file;                        // https: PEM bundle to verify against;
                                              // empty: the system's trust store
  std::chrono::milliseconds timeout{5000};    // connect + request + response
  bool terminal = false;  // stdout is a terminal: colours (unless NO_COLOR is set),
                          // and --watch redraws in place
};

struct StatusOptions {
  std::string workload;  // empty: every workload
  bool json = false;     // the agent's JSON as it is
  bool watch = false;    // redraw every `interval` until interrupted
  std::chrono::milliseconds interval{2000};
};

struct BaselineOptions {
  std::string workload;
  std::string name;
  int windows = 0;      // 0: the agent's default
  bool remove = false;  // DELETE it instead
};

struct CompareOptions {
  std::string workload;
  std::string baseline;
  int windows = 0;  // 0: the agent's default
  bool json = false;
};

// The subcommands; the exit code (ExitCode) with a one-line reason on `err`.
int run_status(const ClientOptions& client, const StatusOptions& options, std::ostream& out,
               std::ostream& err);
int run_explain(const ClientOptions& client, const std::string& workload, std::ostream& out,
                std::ostream& err);
// POST (or DELETE) /baselines: stores the workload's figures now as a baseline.
int run_baseline(const ClientOptions& client, const BaselineOptions& options, std::ostream& out,
                 std::ostream& err);
// GET /compare: the workload now against a stored baseline.
int run_compare(const ClientOptions& client, const CompareOptions& options, std::ostream& out,
                std::ostream& err);

// Human text for --help: the exit codes.
std::string exit_codes_help();

}  // namespace boundwise::cli
