// The build's identity as --version prints it and boundwise_build_info labels it: every
// field filled in, the commit a real short hash (or "unknown" outside git).
#include "daemon/build_info.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <string>

namespace boundwise {
namespace {

TEST(BuildInfo, EveryFieldIsFilledIn) {
  const BuildInfo& info = build_info();
  EXPECT_EQ(info.version, BOUNDWISE_VERSION);
  const std::string commit(info.commit);
  EXPECT_TRUE(commit == "unknown" || std::regex_match(commit, std::regex("[0-9a-f]{12}(-dirty)?")))
      << commit;
  EXPECT_FALSE(info.build_type.empty());
  // "GNU 12.2.0": an id and a version, not an empty CMake variable.
  EXPECT_TRUE(std::regex_match(std::string(info.compiler), std::regex("[A-Za-z]+ [0-9][0-9.]*")))
      << info.compiler;
}

TEST(BuildInfo, VersionTextHasOneLinePerField) {
  const BuildInfo info{"1.2.3", "0123456789ab", "Release", "GNU 12.2.0"};
  EXPECT_EQ(version_text(info),
            "boundwise 1.2.3\n"
            "commit:     0123456789ab\n"
            "build type: Release\n"
            "compiler:   GNU 12.2.0\n");
}

}  // namespace
}  // namespace boundwise
