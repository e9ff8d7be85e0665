// The `web:` section: TLS files, bearer token file, bcrypt users, protected paths,
// and the errors a typo in any of them gets.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "collectors/registry.hpp"
#include "config/config.hpp"

namespace boundwise {
namespace {

// The config as the agent parses it: with every registered collector.
Config parse(std::string_view yaml, const std::string& file) {
  return parse_config(yaml, file, collector_descriptors());
}

// A bcrypt hash of "secret" at cost 4 (made with Python's crypt module).
constexpr const char* kHash = "$2b$04$pRoLSvLxyNTvhshLUvvwYePvJJh2ci4pw2gy6gjJAaUIj4ELcao9W";

class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    char name[] = "/tmp/boundwise-web-XXXXXX";
    int fd = ::mkstemp(name);
    path_ = name;
    ::close(fd);
    std::ofstream(path_) << content;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

ConfigError error_of(const std::string& yaml) {
  try {
    parse(yaml, "t.yaml");
  } catch (const ConfigError& e) {
    return e;
  }
  ADD_FAILURE() << "no error for:\n" << yaml;
  return ConfigError("t.yaml", 0, 0, "none");
}

TEST(WebConfig, AbsentMeansPlainHttpWithoutAuth) {
  Config c = parse("window: 10s\n", "t.yaml");
  EXPECT_FALSE(c.web.tls());
  EXPECT_FALSE(c.web.auth());
  // The default protection list applies only once credentials exist.
  EXPECT_EQ(c.web.protected_endpoints,
            (std::vector<std::string>{"/", "/recommend", "/profile", "/baselines", "/compare"}));
}

TEST(WebConfig, TokenFileIsReadAndTrimmed) {
  TempFile token("  s3cr3t-token\n");
  Config c = parse("web:\n  bearer_token_file: " + token.path() + "\n", "t.yaml");
  EXPECT_TRUE(c.web.auth());
  EXPECT_EQ(c.web.bearer_token, "s3cr3t-token");
}

TEST(WebConfig, BasicUsersAndProtectedEndpoints) {
  Config c = parse(std::string("web:\n  basic_auth_users:\n    alice: \"") + kHash +
                       "\"\n  protected_endpoints: [/metrics, /recommend]\n",
                   "t.yaml");
  EXPECT_EQ(c.web.basic_auth_users.at("alice"), kHash);
  EXPECT_EQ(c.web.protected_endpoints, (std::vector<std::string>{"/metrics", "/recommend"}));
}

TEST(WebConfig, ErrorsPointAtTheKey) {
  auto missing = error_of("web:\n  bearer_token_file: /nonexistent/token\n");
  EXPECT_EQ(missing.line(), 2);
  EXPECT_EQ(missing.column(), 22);
  EXPECT_NE(std::string(missing.what()).find("cannot read /nonexistent/token"), std::string::npos);

  TempFile empty("\n");
  auto blank = error_of("web:\n  bearer_token_file: " + empty.path() + "\n");
  EXPECT_NE(std::string(blank.what()).find("is empty"), std::string::npos) << blank.what();

  auto plain = error_of("web:\n  basic_auth_users:\n    bob: hunter2\n");
  EXPECT_EQ(plain.line(), 3);
  EXPECT_NE(std::string(plain.what()).find("must be a bcrypt hash"), std::string::npos);
  // The rejected value is not echoed: it may be a plain-text password.
  EXPECT_EQ(std::string(plain.what()).find("hunter2"), std::string::npos);

  auto path = error_of(std::string("web:\n  basic_auth_users: {a: \"") + kHash +
                       "\"}\n  protected_endpoints: [/metric]\n");
  EXPECT_EQ(path.line(), 3);
  EXPECT_NE(std::string(path.what()).find("unknown endpoint \"/metric\""), std::string::npos);

  auto half = error_of("web:\n  tls:\n    cert_file: /etc/hostname\n");
  EXPECT_NE(std::string(half.what()).find("needs both cert_file and key_file"), std::string::npos);

  auto nocreds = error_of("web:\n  protected_endpoints: [/recommend]\n");
  EXPECT_NE(std::string(nocreds.what()).find("needs bearer_token_file or basic_auth_users"),
            std::string::npos);

  auto twice = error_of("window: 2s\nweb: {}\nwindow: 5s\n");
  EXPECT_EQ(twice.line(), 3);
  EXPECT_NE(std::string(twice.what()).find("duplicate key \"window\""), std::string::npos);

  auto typo = error_of("web:\n  bearer_token: abc\n");
  EXPECT_NE(std::string(typo.what()).find("unknown key \"bearer_token\""), std::string::npos);
}

}  // namespace
}  // namespace boundwise
