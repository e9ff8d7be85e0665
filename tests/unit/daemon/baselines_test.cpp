// Stored baselines (daemon/baselines.hpp): files that outlive the store, written
// atomically, bounded in number; names that cannot escape the directory; corrupt or
// foreign files skipped and reported, never fatal.
#include "daemon/baselines.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <vector>

namespace boundwise {
namespace {

namespace fs = std::filesystem;

Baseline sample(const std::string& workload, const std::string& name, double throughput = 1.5) {
  Baseline b;
  b.workload = workload;
  b.name = name;
  b.created_seconds = 1'796'400'000;
  b.windows = 6;
  b.first_window_end_seconds = 1'796'399'950;
  b.last_window_end_seconds = 1'796'400'000;
  b.bottleneck = Bottleneck::gil_contended;
  b.model = Model::processes;
  b.currency = "USD";
  b.figures.basis = ThroughputBasis::cpu_seconds;
  b.figures.throughput_per_second = throughput;
  b.figures.p50_seconds = 0.1;
  b.figures.p95_seconds = 0.2;
  b.figures.p99_seconds = 0.4;
  b.figures.cpu_cores_used = 1.25;
  b.figures.node_busy_ratio = 0.5;
  b.figures.memory_bytes = 123456789;
  b.figures.memory_per_process_bytes = 23456789;
  b.figures.processes = 5;
  b.figures.threads = 9;
  b.figures.cost_per_month = 12.5;
  b.figures.model_in_use = "processes";
  return b;
}

class BaselineStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/boundwise-baselines-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    root = pattern;
  }
  void TearDown() override {
    ::chmod(root.c_str(), 0700);
    fs::remove_all(root);
  }
  void write(const std::string& file, const std::string& text) const {
    fs::create_directories(root + "/baselines");
    std::ofstream(root + "/baselines/" + file) << text;
  }
  std::string root;
};

TEST_F(BaselineStoreTest, NothingIsWrittenUntilTheFirstBaseline) {
  BaselineStore store(root, 10);
  EXPECT_TRUE(store.list().empty());
  EXPECT_TRUE(store.skipped().empty());
  EXPECT_FALSE(fs::exists(root + "/baselines"));
  auto put = store.put(sample("api", "before"));
  ASSERT_TRUE(put) << put.error().message;
  EXPECT_FALSE(*put);  // new
  EXPECT_TRUE(fs::exists(root + "/baselines/api@before.json"));
}

TEST_F(BaselineStoreTest, BaselinesOutliveTheStore) {
  {
    BaselineStore store(root, 10);
    ASSERT_TRUE(store.put(sample("api", "before")));
    ASSERT_TRUE(store.put(sample("api", "after", 3.0)));
    ASSERT_TRUE(store.put(sample("worker", "before")));
  }
  BaselineStore again(root, 10);
  EXPECT_TRUE(again.skipped().empty());
  ASSERT_EQ(again.list().size(), 3u);
  ASSERT_EQ(again.list("api").size(), 2u);
  auto b = again.get("api", "before");
  ASSERT_TRUE(b);
  EXPECT_EQ(*b, sample("api", "before"));  // every field, through the file
  EXPECT_DOUBLE_EQ(again.get("api", "after")->figures.throughput_per_second, 3.0);
  EXPECT_FALSE(again.get("api", "other"));
}

TEST_F(BaselineStoreTest, ReplacingAndRemoving) {
  BaselineStore store(root, 10);
  ASSERT_TRUE(store.put(sample("api", "b", 1)));
  auto again = store.put(sample("api", "b", 2));
  ASSERT_TRUE(again);
  EXPECT_TRUE(*again);  // replaced
  EXPECT_DOUBLE_EQ(store.get("api", "b")->figures.throughput_per_second, 2);
  // No temporary file left behind.
  int files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(root + "/baselines")) ++files;
  EXPECT_EQ(files, 1);

  auto removed = store.remove("api", "b");
  ASSERT_TRUE(removed);
  EXPECT_TRUE(*removed);
  EXPECT_FALSE(fs::exists(root + "/baselines/api@b.json"));
  EXPECT_FALSE(*store.remove("api", "b"));
  EXPECT_TRUE(BaselineStore(root, 10).list().empty());
}

TEST_F(BaselineStoreTest, TheNumberIsBounded) {
  BaselineStore store(root, 2);
  ASSERT_TRUE(store.put(sample("api", "one")));
  ASSERT_TRUE(store.put(sample("api", "two")));
  auto full = store.put(sample("api", "three"));
  ASSERT_FALSE(full);
  EXPECT_NE(full.error().message.find("max_baselines (2)"), std::string::npos);
  EXPECT_TRUE(store.put(sample("api", "two", 5)));  // replacing one is fine

  // A store opened with a lower bound reads the first files and reports the rest.
  BaselineStore smaller(root, 1);
  EXPECT_EQ(smaller.list().size(), 1u);
  ASSERT_EQ(smaller.skipped().size(), 1u);
  EXPECT_NE(smaller.skipped()[0].error.find("over max_baselines"), std::string::npos);
}

// Workload names come from process names: none of them makes a path.
TEST_F(BaselineStoreTest, AnyWorkloadNameStaysOneFileInTheDirectory) {
  BaselineStore store(root, 10);
  for (std::string name : {"../../etc/passwd", "a/b", ".hidden", "x@y", "ünï cödé", "<script>"}) {
    ASSERT_TRUE(store.put(sample(name, "b"))) << name;
  }
  int files = 0;
  for (const auto& e : fs::directory_iterator(root + "/baselines")) {
    ++files;
    EXPECT_EQ(e.path().parent_path(), fs::path(root + "/baselines"));
    EXPECT_NE(e.path().filename().string().front(), '.');
  }
  EXPECT_EQ(files, 6);
  EXPECT_FALSE(fs::exists(root + "/etc"));
  BaselineStore again(root, 10);
  EXPECT_TRUE(again.skipped().empty());
  EXPECT_TRUE(again.get("../../etc/passwd", "b"));
  EXPECT_TRUE(again.get("x@y", "b"));
}

TEST_F(BaselineStoreTest, InvalidNamesAreRefused) {
  BaselineStore store(root, 10);
  for (const std::string& name :
       std::vector<std::string>{"", "a/b", "a b", "a%b", std::string(65, 'x'), "a\nb"}) {
    EXPECT_FALSE(valid_baseline_name(name)) << name;
    EXPECT_FALSE(store.put(sample("api", name))) << name;
  }
  EXPECT_TRUE(valid_baseline_name("before-v2.1_rc"));
  EXPECT_TRUE(valid_baseline_name(std::string(64, 'x')));
}

TEST_F(BaselineStoreTest, CorruptAndForeignFilesAreSkippedAndReported) {
  {
    BaselineStore store(root, 10);
    ASSERT_TRUE(store.put(sample("api", "good")));
  }
  write("api@truncated.json", "{\"format\": \"boundwise-baseline\", \"version\": 1, \"work");
  write("api@empty.json", "");
  write("api@array.json", "[1, 2, 3]");
  write("api@other.json", R"({"format": "something-else", "version": 1})");
  write("api@future.json", R"({"format": "boundwise-baseline", "version": 99})");
  // Valid content under another file name: it would be overwritten by its own name's.
  auto moved = baseline_json(sample("api", "moved"));
  write("api@elsewhere.json", moved.dump());
  // Wrong types.
  auto wrong = baseline_json(sample("api", "wrong"));
  wrong["figures"]["cpu_cores_used"] = "many";
  write("api@wrong.json", wrong.dump());
  write("api@huge.json", std::string(100 * 1024, ' '));
  write("README.txt", "not a baseline, not looked at");
  write(".tmp-123-api@x.json", "a crashed write's leftover");

  BaselineStore store(root, 10);
  EXPECT_EQ(store.list().size(), 1u);
  EXPECT_TRUE(store.get("api", "good"));
  EXPECT_EQ(store.skipped().size(), 8u);
  for (const auto& s : store.skipped()) {
    EXPECT_FALSE(s.error.empty()) << s.file;
    EXPECT_EQ(s.file.find(".tmp-"), std::string::npos);
    EXPECT_EQ(s.file.find("README"), std::string::npos);
  }
}

TEST_F(BaselineStoreTest, AnUnwritableDirectoryIsAnErrorNotACrash) {
  if (::geteuid() == 0) GTEST_SKIP() << "root writes anywhere: run as a user to test this";
  ::chmod(root.c_str(), 0500);
  BaselineStore store(root, 10);
  auto put = store.put(sample("api", "b"));
  ASSERT_FALSE(put);
  EXPECT_NE(put.error().message.find(root), std::string::npos) << put.error().message;
  EXPECT_TRUE(store.list().empty());
}

// A state_dir that is a file: the store starts empty, and storing says why it fails.
TEST_F(BaselineStoreTest, AStateDirThatIsAFile) {
  std::ofstream(root + "/file") << "x";
  BaselineStore store(root + "/file", 10);
  EXPECT_TRUE(store.list().empty());
  auto put = store.put(sample("api", "b"));
  ASSERT_FALSE(put);
  EXPECT_NE(put.error().message.find("cannot create"), std::string::npos) << put.error().message;
}

}  // namespace
}  // namespace boundwise
