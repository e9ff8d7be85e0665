// The reloader stage: what a SIGHUP applies, keeps, and refuses.
#include "daemon/reloader.hpp"

#include <gtest/gtest.h>

namespace boundwise {
namespace {

Config running_config() {
  Config c;
  c.listen_host = "127.0.0.1";
  c.listen_port = 9977;
  c.web.tls_cert_file = "/etc/boundwise/cert.pem";
  c.web.tls_key_file = "/etc/boundwise/key.pem";
  c.max_workloads = 20;
  return c;
}

TEST(Reloader, NothingToReloadWithoutALoader) {
  ReloadOutcome out = reload_config(ConfigLoader{}, running_config());
  EXPECT_FALSE(out.next);
  EXPECT_EQ(out.error, "");
}

TEST(Reloader, AnInvalidConfigurationKeepsTheRunningOneAndSaysWhy) {
  ConfigLoader broken = []() -> Config { throw ConfigError("agent.yaml", 3, 9, "bad duration"); };
  ReloadOutcome out = reload_config(broken, running_config());
  EXPECT_FALSE(out.next);
  EXPECT_EQ(out.error, "agent.yaml:3:9: bad duration");
}

TEST(Reloader, AValidConfigurationApplies) {
  ConfigLoader loader = [] {
    Config c = running_config();
    c.max_workloads = 5;
    return c;
  };
  ReloadOutcome out = reload_config(loader, running_config());
  ASSERT_TRUE(out.next);
  EXPECT_EQ(out.next->max_workloads, 5);
  EXPECT_FALSE(out.needs_restart);
}

// The listener and its TLS files are bound at start: their changes wait for a restart,
// the rest of the new configuration applies now.
TEST(Reloader, ListenAndTlsChangesWaitForARestart) {
  ConfigLoader loader = [] {
    Config c = running_config();
    c.listen_port = 9999;
    c.web.tls_cert_file = "/tmp/other.pem";
    c.max_workloads = 7;
    return c;
  };
  ReloadOutcome out = reload_config(loader, running_config());
  ASSERT_TRUE(out.next);
  EXPECT_TRUE(out.needs_restart);
  EXPECT_EQ(out.next->listen_port, 9977);
  EXPECT_EQ(out.next->web.tls_cert_file, "/etc/boundwise/cert.pem");
  EXPECT_EQ(out.next->max_workloads, 7);
}

}  // namespace
}  // namespace boundwise
