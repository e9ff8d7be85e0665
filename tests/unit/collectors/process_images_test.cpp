// The shared process image cache (collectors/process/process_images.hpp): one read of
// a process's ELF however many collectors ask, a new read for a new identity or after
// an exec, and no entry kept for a process that is no longer a target. Reads are
// counted through the cache's injectable reader; a fixture proc root holds only the
// exe links the cache stats to notice an exec.
#include "collectors/process/process_images.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "collectors/procfs/parse.hpp"
#include "collectors/procfs/procfs_collector.hpp"
#include "collectors/python/python_collector.hpp"

namespace boundwise::process {
namespace {

// A fake proc root whose processes have only an exe link.
class ExeRoot {
 public:
  ExeRoot() {
    char tmpl[] = "/tmp/process_images_test_XXXXXX";
    dir_ = ::mkdtemp(tmpl);
  }
  ~ExeRoot() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  ExeRoot(const ExeRoot&) = delete;
  ExeRoot& operator=(const ExeRoot&) = delete;
  // Process `pid` now executes `path` (a real file: its device and inode are the
  // identity the cache compares).
  void exe(int pid, const std::string& path) {
    auto link = dir_ / std::to_string(pid) / "exe";
    std::filesystem::create_directories(link.parent_path());
    std::filesystem::remove(link);
    std::filesystem::create_symlink(path, link);
  }
  std::string root() const { return dir_.string(); }

 private:
  std::filesystem::path dir_;
};

// A reader that counts its calls and calls every process CPython 3.12 with its pid
// as the GIL's address, so that answers can be told apart.
struct CountingReader {
  int* reads;
  ProcessImages::GilResult operator()(const std::string&, int pid) const {
    ++*reads;
    GilLocation g;
    g.begin = static_cast<std::uint64_t>(pid);
    g.end = g.begin + 208;
    g.version = "3.12." + std::to_string(*reads);  // which read gave the answer
    return std::optional<GilLocation>{g};
  }
};

TEST(ProcessImages, OneReadForEveryLookupOfAProcess) {
  ExeRoot fx;
  fx.exe(100, "/bin/true");
  fx.exe(200, "/bin/true");
  int reads = 0;
  ProcessImages images(fx.root(), CountingReader{&reads});
  const ProcessKey a{100, 5000}, b{200, 6000};
  // procfs, python and the sched tool each ask for the new process.
  for (int i = 0; i < 3; ++i) {
    auto gil = images.gil(a);
    ASSERT_TRUE(gil && gil->has_value());
    EXPECT_EQ((*gil)->begin, 100u);
    EXPECT_EQ((*gil)->version, "3.12.1");
  }
  EXPECT_EQ(reads, 1);
  (void)images.gil(b);
  (void)images.gil(b);
  EXPECT_EQ(reads, 2);
  // The same pid with another start time is another process (the PID was reused).
  auto reused = images.gil(ProcessKey{100, 7000});
  EXPECT_EQ(reads, 3);
  EXPECT_EQ((*reused)->version, "3.12.3");
  EXPECT_EQ(images.size(), 3u);
}

TEST(ProcessImages, RetainDropsProcessesThatAreNoLongerTargets) {
  ExeRoot fx;
  fx.exe(100, "/bin/true");
  fx.exe(200, "/bin/true");
  int reads = 0;
  ProcessImages images(fx.root(), CountingReader{&reads});
  const ProcessKey a{100, 5000}, b{200, 6000};
  (void)images.gil(a);
  (void)images.gil(b);
  ASSERT_EQ(images.size(), 2u);

  TargetSet targets;
  targets.workloads.push_back({"web", {a}, std::nullopt});
  images.retain(targets);
  EXPECT_EQ(images.size(), 1u);
  (void)images.gil(a);
  EXPECT_EQ(reads, 2);  // a kept its entry
  (void)images.gil(b);
  EXPECT_EQ(reads, 3);  // b was forgotten: a target again, it is read again

  images.retain(std::set<ProcessKey>{});
  EXPECT_EQ(images.size(), 0u);
}

TEST(ProcessImages, AnExecIsReadAgain) {
  ExeRoot fx;
  fx.exe(100, "/bin/sh");  // a wrapper script's shell...
  int reads = 0;
  ProcessImages images(fx.root(), CountingReader{&reads});
  const ProcessKey a{100, 5000};
  (void)images.gil(a);
  fx.exe(100, "/bin/true");  // ...that exec'd the interpreter: same pid, same start time
  auto after = images.gil(a);
  EXPECT_EQ(reads, 2);
  EXPECT_EQ((*after)->version, "3.12.2");
  (void)images.gil(a);
  EXPECT_EQ(reads, 2);
}

TEST(ProcessImages, AFailedReadIsNotRepeatedForTheSameProcess) {
  ExeRoot fx;
  fx.exe(100, "/bin/true");
  int reads = 0;
  ProcessImages images(fx.root(), [&](const std::string&, int) -> ProcessImages::GilResult {
    ++reads;
    return Error{"cannot open the file mapped as /usr/bin/python3"};
  });
  for (int i = 0; i < 3; ++i) {
    auto gil = images.gil(ProcessKey{100, 5000});
    ASSERT_FALSE(gil);
    EXPECT_EQ(gil.error().message, "cannot open the file mapped as /usr/bin/python3");
  }
  EXPECT_EQ(reads, 1);
}

ProcessKey self_key() {
  std::ifstream in("/proc/self/stat");
  std::ostringstream s;
  s << in.rdbuf();
  auto stat = procfs::parse_stat(s.str());
  return ProcessKey{::getpid(), stat ? stat->start_time_ticks : 0};
}

// The daemon's wiring: collectors given one cache read a new process's ELF once
// between them, and forget it when it is no longer a target.
TEST(ProcessImages, CollectorsSharingTheCacheReadANewProcessOnce) {
  int reads = 0;
  CollectorSettings settings;
  settings.process_images =
      std::make_shared<ProcessImages>(settings.proc_root, [&](const std::string& root, int pid) {
        ++reads;
        return locate_gil(root, pid);
      });
  auto procfs = make_procfs_collector(settings);
  auto python = make_python_collector(settings);
  ASSERT_TRUE(procfs->start().ok());
  ASSERT_TRUE(python->start().ok());
  TargetSet targets;
  targets.workloads.push_back({"self", {self_key()}, std::nullopt});
  procfs->set_targets(targets);
  python->set_targets(targets);
  procfs->set_targets(targets);
  EXPECT_EQ(reads, 1);
  EXPECT_EQ(settings.process_images->size(), 1u);
  procfs->set_targets(TargetSet{});
  python->set_targets(TargetSet{});
  EXPECT_EQ(settings.process_images->size(), 0u);
}

TEST(ProcessImages, SettingsWithoutACacheGetTheirOwn) {
  CollectorSettings settings;
  settings.proc_root = "/fixture/proc";
  auto own = with_process_images(settings);
  ASSERT_TRUE(own.process_images);
  EXPECT_EQ(own.process_images->proc_root(), "/fixture/proc");
  settings.process_images = own.process_images;
  EXPECT_EQ(with_process_images(settings).process_images, own.process_images);
}

}  // namespace
}  // namespace boundwise::process
