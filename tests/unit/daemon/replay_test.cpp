// `boundwise replay`: recordings read back in order, each window classified offline
// (text or JSON lines), and exit code 2 with FILE:LINE and what is wrong for a
// missing path or a malformed line.
#include "daemon/replay.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/unit/daemon/evidence_samples.hpp"

namespace boundwise {
namespace {

namespace fs = std::filesystem;

class ReplayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/boundwise-replay-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    root = pattern;
  }
  void TearDown() override { fs::remove_all(root); }

  std::string write(const std::string& name, const std::string& text) {
    std::string path = root + "/" + name;
    std::ofstream(path) << text;
    return path;
  }

  int replay(const std::string& path, bool json = false) {
    out.str("");
    err.str("");
    return run_replay(path, json, out, err);
  }

  std::string root;
  std::ostringstream out;
  std::ostringstream err;
};

std::string line(std::uint64_t n) { return to_record_line(test::small_window(n)) + "\n"; }

TEST_F(ReplayTest, ClassifiesEveryWindowOfAFile) {
  std::string file = write("rec.jsonl", line(1) + "\n" + line(2));  // a blank line is skipped
  ASSERT_EQ(replay(file), 0) << err.str();
  const std::string text = out.str();
  EXPECT_NE(text.find("window 1 (" + file + ":1): 2 workloads"), std::string::npos) << text;
  EXPECT_NE(text.find("window 2 (" + file + ":3)"), std::string::npos) << text;
  EXPECT_NE(text.find("  cpu: cpu_bound (confidence "), std::string::npos) << text;
  EXPECT_NE(text.find("  quiet: idle (confidence "), std::string::npos) << text;
  EXPECT_EQ(err.str(), "");
}

TEST_F(ReplayTest, JsonLinesOnePerWindow) {
  std::string file = write("rec.jsonl", line(7) + line(8));
  ASSERT_EQ(replay(file, true), 0) << err.str();
  std::istringstream lines(out.str());
  std::string text;
  std::vector<nlohmann::json> docs;
  while (std::getline(lines, text)) docs.push_back(nlohmann::json::parse(text));
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0]["window"], 7);
  EXPECT_EQ(docs[0]["line"], 1);
  EXPECT_EQ(docs[1]["file"], file);
  EXPECT_EQ(docs[0]["time"], format_record_time(test::small_window(7).time));
  ASSERT_EQ(docs[0]["workloads"].size(), 2u);
  const auto& cpu = docs[0]["workloads"][0];
  EXPECT_EQ(cpu["workload"], "cpu");
  EXPECT_EQ(cpu["class"], "cpu_bound");
  EXPECT_EQ(cpu["model"], "processes");
  EXPECT_GT(cpu["confidence"].get<double>(), 0.5);
  EXPECT_FALSE(cpu["summary"].get<std::string>().empty());
  EXPECT_EQ(docs[0]["workloads"][1]["class"], "idle");
}

TEST_F(ReplayTest, ADirectoryIsItsJsonlFilesInNameOrder) {
  write("evidence-2.jsonl", line(2));
  write("evidence-1.jsonl", line(1));
  write("notes.txt", "not a recording");
  fs::create_directories(root + "/sub.jsonl");  // a directory, not a recording
  ASSERT_EQ(replay(root, true), 0) << err.str();
  auto first = out.str().find("\"window\":1");
  auto second = out.str().find("\"window\":2");
  ASSERT_NE(first, std::string::npos);
  ASSERT_NE(second, std::string::npos);
  EXPECT_LT(first, second);
}

TEST_F(ReplayTest, MissingPathOrNoRecordingIsExitTwo) {
  EXPECT_EQ(replay(root + "/nowhere"), 2);
  EXPECT_EQ(err.str(), "replay: " + root + "/nowhere: No such file or directory\n");
  fs::create_directories(root + "/empty");
  EXPECT_EQ(replay(root + "/empty"), 2);
  EXPECT_NE(err.str().find("no *.jsonl recording"), std::string::npos) << err.str();
}

TEST_F(ReplayTest, AMalformedLineIsExitTwoWithFileAndLine) {
  std::string file = write("rec.jsonl", line(1) + "{\"version\":1,\"window\":\"two\"}\n" + line(3));
  EXPECT_EQ(replay(file), 2);
  EXPECT_EQ(err.str(), "replay: " + file +
                           ":2: window: expected a non-negative integer, got "
                           "string \"two\"\n");
  EXPECT_NE(out.str().find("window 1"), std::string::npos);  // what came before is printed
  EXPECT_EQ(out.str().find("window 3"), std::string::npos);  // nothing after

  std::string full = line(1);
  std::string cut = write("cut.jsonl", full + full.substr(0, full.size() / 2));
  EXPECT_EQ(replay(cut), 2);
  EXPECT_NE(err.str().find(cut + ":2: not a JSON value (the last line has no newline"),
            std::string::npos)
      << err.str();

  std::string binary = write("garbage.jsonl", std::string("\x00\x01\xff\xfe garbage", 13));
  EXPECT_EQ(replay(binary), 2);
  EXPECT_NE(err.str().find(binary + ":1: not a JSON value"), std::string::npos) << err.str();
}

}  // namespace
}  // namespace boundwise
