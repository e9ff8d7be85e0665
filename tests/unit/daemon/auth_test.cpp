// Authentication with real bcrypt (libcrypt) and real base64: tokens, users,
// unprotected paths, malformed headers, and the 401 from the endpoint handler.
#include "daemon/auth.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "daemon/http_handler.hpp"
#include "daemon/metrics.hpp"

namespace boundwise {
namespace {

// bcrypt("secret") at cost 4, from Python's crypt module.
constexpr const char* kSecretHash = "$2b$04$pRoLSvLxyNTvhshLUvvwYePvJJh2ci4pw2gy6gjJAaUIj4ELcao9W";

WebConfig basic_web() {
  WebConfig w;
  w.basic_auth_users["alice"] = kSecretHash;
  return w;
}

TEST(Authenticator, NothingConfiguredLetsEverythingThrough) {
  Authenticator auth;
  EXPECT_FALSE(auth.enabled());
  EXPECT_FALSE(auth.protects("/recommend"));
  EXPECT_TRUE(auth.check(""));
}

TEST(Authenticator, BearerToken) {
  WebConfig w;
  w.bearer_token = "tok-123";
  Authenticator auth(w);
  EXPECT_TRUE(auth.check("Bearer tok-123"));
  EXPECT_TRUE(auth.check("bearer tok-123"));  // the scheme is case-insensitive
  EXPECT_FALSE(auth.check("Bearer tok-12"));
  EXPECT_FALSE(auth.check("Bearer tok-1234"));
  EXPECT_FALSE(auth.check("Bearer "));
  EXPECT_FALSE(auth.check("tok-123"));
  EXPECT_FALSE(auth.check("Basic dG9rLTEyMw=="));  // basic is not configured
  EXPECT_EQ(auth.challenge(), "Bearer realm=\"boundwise\"");
}

TEST(Authenticator, BasicAgainstBcrypt) {
  Authenticator auth(basic_web());
  EXPECT_TRUE(auth.check("Basic YWxpY2U6c2VjcmV0"));    // alice:secret
  EXPECT_TRUE(auth.check("Basic YWxpY2U6c2VjcmV0"));    // again, from the cache
  EXPECT_FALSE(auth.check("Basic YWxpY2U6U2VjcmV0"));   // alice:Secret
  EXPECT_FALSE(auth.check("Basic Ym9iOnNlY3JldA=="));   // bob:secret, unknown user
  EXPECT_FALSE(auth.check("Basic YWxpY2U="));           // alice, no colon
  EXPECT_FALSE(auth.check("Basic !!!!"));               // not base64
  EXPECT_FALSE(auth.check("Basic YWxpY2U6c2VjcmV0X"));  // bad length
  EXPECT_FALSE(auth.check(""));
  EXPECT_EQ(auth.challenge(), "Basic realm=\"boundwise\"");
}

TEST(Authenticator, SlowOnlyWhereBcryptWouldRun) {
  Authenticator auth(basic_web());
  EXPECT_TRUE(auth.slow("Basic YWxpY2U6c2VjcmV0"));  // alice:secret, not verified yet
  EXPECT_TRUE(auth.slow("Basic YWxpY2U6U2VjcmV0"));  // a wrong password runs bcrypt too
  EXPECT_FALSE(auth.slow("Basic YWxpY2U="));         // no colon: refused without bcrypt
  EXPECT_FALSE(auth.slow("Basic !!!!"));             // not base64
  EXPECT_FALSE(auth.slow("Bearer tok"));             // not basic
  EXPECT_FALSE(auth.slow(""));
  ASSERT_TRUE(auth.check("Basic YWxpY2U6c2VjcmV0"));
  EXPECT_FALSE(auth.slow("Basic YWxpY2U6c2VjcmV0"));  // verified: the cache answers
  EXPECT_TRUE(auth.slow("Basic YWxpY2U6U2VjcmV0"));
  WebConfig token;
  token.bearer_token = "tok";
  EXPECT_FALSE(Authenticator(token).slow("Basic YWxpY2U6c2VjcmV0"));  // no users at all
}

TEST(Authenticator, UnknownUserCostsWhatAWrongPasswordCosts) {
  // No user enumeration by timing: both run bcrypt at the configured cost. The two
  // are measured interleaved and compared by their fastest runs: the minimum is the
  // intrinsic cost, what a loaded machine adds only ever comes on top (a batch of one
  // kind under a load spike once made medians differ 2x).
  WebConfig w;
  // bcrypt("secret") at cost 8: slow enough (~15 ms) to dwarf everything else.
  w.basic_auth_users["alice"] = "$2b$08$F1v3lWP3s/0L/eKW.3ZjBuVeM3qAwppUjV5GuYl/DT1dQVwa8jcO6";
  Authenticator auth(w);
  auto ms_of = [&auth](const char* header) {
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_FALSE(auth.check(header));
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  };
  double wrong_password = 1e9, unknown_user = 1e9;
  for (int i = 0; i < 9; ++i) {
    wrong_password = std::min(wrong_password, ms_of("Basic YWxpY2U6d3Jvbmc="));  // alice:wrong
    unknown_user = std::min(unknown_user, ms_of("Basic bWFsbG9yeTp3cm9uZw=="));  // mallory:wrong
  }
  EXPECT_GT(unknown_user, wrong_password * 0.5);
  EXPECT_LT(unknown_user, wrong_password * 2.0);
}

TEST(Authenticator, OnlyConfiguredPathsAreProtected) {
  WebConfig w = basic_web();
  Authenticator auth(w);
  EXPECT_TRUE(auth.protects("/recommend"));
  EXPECT_TRUE(auth.protects("/"));
  EXPECT_FALSE(auth.protects("/metrics"));
  EXPECT_FALSE(auth.protects("/healthz"));
  EXPECT_FALSE(auth.protects("/readyz"));
}

TEST(Authenticator, HandlerAnswers401WithAChallenge) {
  WebConfig w;
  w.bearer_token = "tok";
  w.protected_endpoints = {"/recommend", "/metrics"};
  Authenticator auth(w);
  Snapshot s;
  MetricsPublisher metrics;
  metrics.publish(s);
  EndpointContext context{s, true, std::make_shared<const std::string>(metrics.render()), nullptr,
                          &auth};

  auto none = handle_request({"GET", "/recommend", ""}, context);
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.www_authenticate, "Bearer realm=\"boundwise\"");
  EXPECT_NE(none.body.find("credentials required"), std::string::npos);
  auto wrong = handle_request({"GET", "/metrics", "Bearer nope"}, context);
  EXPECT_EQ(wrong.status, 401);
  EXPECT_NE(wrong.body.find("wrong credentials"), std::string::npos);
  // Probes stay open; the right token opens the rest.
  EXPECT_EQ(handle_request({"GET", "/healthz", ""}, context).status, 200);
  EXPECT_EQ(handle_request({"GET", "/recommend", "Bearer tok"}, context).status, 200);
  EXPECT_EQ(handle_request({"GET", "/metrics?x=1", "Bearer tok"}, context).status, 200);
  // Unknown paths are 404 whether authenticated or not (nothing to protect there).
  EXPECT_EQ(handle_request({"GET", "/secret", ""}, context).status, 404);
}

}  // namespace
}  // namespace boundwise
