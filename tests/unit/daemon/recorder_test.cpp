// The recorder: creates its directory, appends one line per window that replay reads
// back, keeps the evidence files within max_bytes (oldest deleted, other files left
// alone), and turns write failures into dropped windows, never errors of the agent.
#include "daemon/recorder.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "daemon/replay.hpp"
#include "tests/unit/daemon/evidence_samples.hpp"

namespace boundwise {
namespace {

namespace fs = std::filesystem;

class RecorderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/boundwise-recorder-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    root = pattern;
  }
  void TearDown() override { fs::remove_all(root); }

  // Evidence files in `dir`, by name, and their total size.
  static std::vector<std::string> evidence_files(const std::string& dir, std::uint64_t* total) {
    std::vector<std::string> names;
    *total = 0;
    for (const auto& e : fs::directory_iterator(dir)) {
      std::string name = e.path().filename().string();
      if (name.rfind("evidence-", 0) != 0) continue;
      names.push_back(name);
      *total += e.file_size();
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  // A window whose line is about `bytes` long (its pids make the bulk).
  static RecordedWindow window_of_size(std::uint64_t number, std::size_t bytes) {
    RecordedWindow w = test::small_window(number);
    auto& pids = w.evidence.workloads["cpu"].sampled->pids;
    pids.assign(bytes / 8, 1234567);  // "1234567," per pid
    return w;
  }

  std::string root;
};

TEST_F(RecorderTest, CreatesTheDirectoryAndAppendsALinePerWindow) {
  std::string dir = root + "/a/b";
  auto r = Recorder::open(dir, 1 << 20);
  ASSERT_TRUE(r.ok()) << r.error().message;
  for (std::uint64_t i = 1; i <= 3; ++i) EXPECT_TRUE((*r)->record(test::small_window(i)));
  std::uint64_t total = 0;
  auto files = evidence_files(dir, &total);
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(total, (*r)->bytes());
  EXPECT_EQ(files[0].size(), std::string("evidence-20260501T120000.123Z.jsonl").size());
  std::vector<RecordedWindow> read;
  Status st = for_each_recorded_window(
      dir + "/" + files[0], [&](std::size_t, const RecordedWindow& w) { read.push_back(w); });
  ASSERT_TRUE(st.ok()) << st.error().message;
  ASSERT_EQ(read.size(), 3u);
  for (std::uint64_t i = 1; i <= 3; ++i) EXPECT_TRUE(read[i - 1] == test::small_window(i));
}

TEST_F(RecorderTest, StaysWithinMaxBytesDeletingTheOldestFiles) {
  const std::uint64_t max = 1 << 20;
  {
    std::ofstream(root + "/notes.txt") << "not evidence: left alone";
    std::ofstream old(root + "/evidence-20000101T000000.000Z.jsonl");  // an earlier run's
    old << std::string(700 * 1024, 'x') << "\n";
  }
  auto r = Recorder::open(root, max);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_GT((*r)->bytes(), 700u * 1024);  // counted from the start
  for (std::uint64_t i = 1; i <= 120; ++i) {
    ASSERT_TRUE((*r)->record(window_of_size(i, 40 * 1024)));
    std::uint64_t total = 0;
    evidence_files(root, &total);
    ASSERT_LE(total, max) << "after window " << i;
  }
  std::uint64_t total = 0;
  auto files = evidence_files(root, &total);
  EXPECT_GT(files.size(), 2u);  // rotated: a file holds at most an eighth
  EXPECT_GT(total, max / 2);    // and not emptied either
  EXPECT_FALSE(fs::exists(root + "/evidence-20000101T000000.000Z.jsonl"));
  EXPECT_TRUE(fs::exists(root + "/notes.txt"));
  // The newest window is on disk, last.
  std::uint64_t last = 0;
  Status st = for_each_recorded_window(
      root + "/" + files.back(), [&](std::size_t, const RecordedWindow& w) { last = w.window; });
  ASSERT_TRUE(st.ok()) << st.error().message;
  EXPECT_EQ(last, 120u);
}

TEST_F(RecorderTest, ANewFileSortsAfterEveryEarlierOne) {
  // A wall clock stepped back (or a file from a clock far ahead): the next file is
  // named after it all the same, so that it is not the first deleted.
  std::ofstream(root + "/evidence-20991231T235959.999Z.jsonl") << "{}\n";
  auto r = Recorder::open(root, 1 << 20);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE((*r)->record(test::small_window(1)));
  std::uint64_t total = 0;
  auto files = evidence_files(root, &total);
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files.back(), "evidence-21000101T000000.000Z.jsonl");
}

TEST_F(RecorderTest, AWindowLargerThanMaxBytesIsDroppedNotWritten) {
  auto r = Recorder::open(root, 1 << 20);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE((*r)->record(window_of_size(1, 2 << 20)));
  EXPECT_TRUE((*r)->record(test::small_window(2)));
  std::uint64_t total = 0;
  evidence_files(root, &total);
  EXPECT_LT(total, 4096u);
}

TEST_F(RecorderTest, WriteFailuresDropWindowsAndRecordingResumes) {
  std::string dir = root + "/rec";
  auto r = Recorder::open(dir, 1 << 20);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE((*r)->record(test::small_window(1)));
  // The directory goes away under the agent: the open file still takes lines (it is
  // unlinked, not closed), a new one cannot be made.
  fs::remove_all(dir);
  for (std::uint64_t i = 2; i < 40; ++i) (*r)->record(window_of_size(i, 40 * 1024));
  EXPECT_FALSE((*r)->record(test::small_window(40)));
  fs::create_directories(dir);
  EXPECT_TRUE((*r)->record(test::small_window(41)));
  std::uint64_t total = 0;
  EXPECT_EQ(evidence_files(dir, &total).size(), 1u);
}

TEST_F(RecorderTest, OpenSaysWhyItCannotRecord) {
  std::ofstream(root + "/file") << "x";
  auto under_file = Recorder::open(root + "/file/sub", 1 << 20);
  ASSERT_FALSE(under_file.ok());
  EXPECT_NE(under_file.error().message.find("cannot create the directory " + root + "/file/sub"),
            std::string::npos)
      << under_file.error().message;
  auto not_dir = Recorder::open(root + "/file", 1 << 20);
  ASSERT_FALSE(not_dir.ok());
  EXPECT_EQ(not_dir.error().message, "record: " + root + "/file exists and is not a directory")
      << not_dir.error().message;
  if (::geteuid() != 0) {  // root may write anywhere
    fs::create_directories(root + "/ro");
    fs::permissions(root + "/ro", fs::perms::owner_read | fs::perms::owner_exec);
    auto ro = Recorder::open(root + "/ro", 1 << 20);
    ASSERT_FALSE(ro.ok());
    EXPECT_NE(ro.error().message.find("cannot write to"), std::string::npos);
  }
}

}  // namespace
}  // namespace boundwise
