// The cgroup collector's parsers, on the texts cgroup v1 and v2 kernels write (v1 lines
// taken from this project's CI machines, v2 from a systemd host and a Kubernetes node);
// and the agent's own memory limit read from a fixture proc root and cgroup tree.
#include "collectors/cgroup/cgroup_files.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "collectors/cgroup/memory_limit.hpp"

namespace boundwise::cgroup {
namespace {

TEST(CgroupFiles, ProcCgroupPrefersTheV1CpuController) {
  auto v1 = parse_proc_cgroup(
      "9:name=systemd:/\n8:pids:/\n4:memory:/x\n2:cpu,cpuacct:/kubepods/burstable/pod1/c1\n"
      "0::/\n");
  ASSERT_TRUE(v1);
  EXPECT_EQ(v1->path, "/kubepods/burstable/pod1/c1");
  EXPECT_FALSE(v1->v2);
  auto v2 = parse_proc_cgroup("0::/system.slice/postgresql.service\n");
  ASSERT_TRUE(v2);
  EXPECT_EQ(v2->path, "/system.slice/postgresql.service");
  EXPECT_TRUE(v2->v2);
  // cpuacct alone is not the cpu controller; a path may hold ':'.
  EXPECT_FALSE(parse_proc_cgroup("2:cpuacct:/a\n"));
  EXPECT_EQ(parse_proc_cgroup("1:cpu:/a:b\n")->path, "/a:b");
  EXPECT_FALSE(parse_proc_cgroup(""));
  EXPECT_FALSE(parse_proc_cgroup("garbage\n::\n3:cpu:relative\n"));
}

TEST(CgroupFiles, MountsWithTheCpuController) {
  auto mounts = parse_cpu_mounts(
      "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
      "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
      "32 30 0:29 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
      "40 30 0:35 /kubepods/pod1 /sys/fs/cgroup/cpu\\040x rw shared:9 - cgroup cgroup "
      "rw,cpu,cpuacct\n"
      "50 22 0:40 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n");
  ASSERT_EQ(mounts.size(), 3u);
  EXPECT_EQ(mounts[0].mount_point, "/sys/fs/cgroup/cpu");
  EXPECT_FALSE(mounts[0].v2);
  EXPECT_EQ(mounts[1].mount_point, "/sys/fs/cgroup/cpu x");  // \040 unescaped
  EXPECT_EQ(mounts[1].root, "/kubepods/pod1");
  EXPECT_TRUE(mounts[2].v2);
}

TEST(CgroupFiles, DirectoryUnderTheMountThatShowsThePath) {
  std::vector<CpuMount> mounts = {{"/sys/fs/cgroup/cpu", "/", false},
                                  {"/sys/fs/cgroup", "/", true}};
  EXPECT_EQ(cgroup_dir(mounts, {"/a/b", false}), "/sys/fs/cgroup/cpu/a/b");
  EXPECT_EQ(cgroup_dir(mounts, {"/", false}), "/sys/fs/cgroup/cpu");
  EXPECT_EQ(cgroup_dir(mounts, {"/system.slice/x.service", true}),
            "/sys/fs/cgroup/system.slice/x.service");
  // A container's view: the mount shows the hierarchy from /kubepods/pod1 down.
  std::vector<CpuMount> nested = {{"/sys/fs/cgroup/cpu", "/kubepods/pod1", false}};
  EXPECT_EQ(cgroup_dir(nested, {"/kubepods/pod1/c1", false}), "/sys/fs/cgroup/cpu/c1");
  EXPECT_EQ(cgroup_dir(nested, {"/kubepods/pod1", false}), "/sys/fs/cgroup/cpu");
  EXPECT_FALSE(cgroup_dir(nested, {"/kubepods/pod10/c1", false}));  // prefix, not parent
  EXPECT_FALSE(cgroup_dir(nested, {"/other", false}));
  EXPECT_FALSE(cgroup_dir(mounts, {"/a/../../etc", false}));
}

TEST(CgroupFiles, QuotaAsCores) {
  EXPECT_DOUBLE_EQ(*parse_cpu_max("50000 100000\n"), 0.5);
  EXPECT_DOUBLE_EQ(*parse_cpu_max("250000 100000"), 2.5);
  EXPECT_FALSE(parse_cpu_max("max 100000\n"));
  EXPECT_FALSE(parse_cpu_max("50000 0\n"));
  EXPECT_FALSE(parse_cpu_max("lots\n"));
  EXPECT_DOUBLE_EQ(*parse_cfs_quota("50000\n", "100000\n"), 0.5);
  EXPECT_FALSE(parse_cfs_quota("-1\n", "100000\n"));
  EXPECT_FALSE(parse_cfs_quota("", "100000"));
}

TEST(CgroupFiles, ThrottlingCountersOfBothVersions) {
  auto v1 = parse_cpu_stat(
      "nr_periods 21\nnr_throttled 16\nthrottled_time 81011230\n"
      "nr_bursts 0\nburst_time 0\n");
  ASSERT_TRUE(v1);
  EXPECT_EQ(v1->periods, 21u);
  EXPECT_EQ(v1->throttled_periods, 16u);
  EXPECT_EQ(v1->throttled_ns, 81011230u);
  auto v2 = parse_cpu_stat(
      "usage_usec 100\nuser_usec 60\nsystem_usec 40\nnr_periods 10\n"
      "nr_throttled 3\nthrottled_usec 1500\n");
  ASSERT_TRUE(v2);
  EXPECT_EQ(v2->throttled_ns, 1'500'000u);
  // A v2 cgroup without a limit has no nr_periods line: no counters.
  EXPECT_FALSE(parse_cpu_stat("usage_usec 100\nuser_usec 60\nsystem_usec 40\n"));
}

TEST(CgroupFiles, TheMemoryControllersPathAndMount) {
  const char* cgroups = "9:name=systemd:/\n4:memory:/agent\n2:cpu,cpuacct:/other\n0::/\n";
  EXPECT_EQ(parse_proc_cgroup(cgroups, "memory")->path, "/agent");
  EXPECT_EQ(parse_proc_cgroup(cgroups)->path, "/other");  // cpu by default
  EXPECT_EQ(parse_proc_cgroup("0::/x.service\n", "memory")->path, "/x.service");
  auto mounts = parse_cpu_mounts(
      "31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
      "33 30 0:30 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n",
      "memory");
  ASSERT_EQ(mounts.size(), 1u);
  EXPECT_EQ(mounts[0].mount_point, "/sys/fs/cgroup/memory");
}

TEST(CgroupFiles, MemoryLimit) {
  EXPECT_EQ(parse_memory_limit("67108864\n"), 67108864u);     // v1 and v2 alike
  EXPECT_FALSE(parse_memory_limit("max\n"));                  // v2: none
  EXPECT_FALSE(parse_memory_limit("9223372036854771712\n"));  // v1: none (x86-64)
  EXPECT_FALSE(parse_memory_limit(""));
  EXPECT_FALSE(parse_memory_limit("-1\n"));
  EXPECT_FALSE(parse_memory_limit("64M\n"));
}

namespace fs = std::filesystem;

void write_file(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path) << text;
}

TEST(OwnMemoryLimit, TheSmallestLimitOnThePathUp) {
  const fs::path root = fs::temp_directory_path() / ("own-memory-" + std::to_string(::getpid()));
  fs::remove_all(root);
  const fs::path v1 = root / "cgroup" / "memory";
  write_file(root / "proc" / "self" / "cgroup", "4:memory:/a/b\n2:cpu:/x\n");
  write_file(root / "proc" / "self" / "mountinfo",
             "33 30 0:30 / " + v1.string() + " rw - cgroup cgroup rw,memory\n");
  const std::string proc = (root / "proc").string();
  EXPECT_FALSE(cgroup::own_memory_limit(proc));  // no limit files: none
  write_file(v1 / "memory.limit_in_bytes", "9223372036854771712\n");
  write_file(v1 / "a" / "memory.limit_in_bytes", "134217728\n");
  write_file(v1 / "a" / "b" / "memory.limit_in_bytes", "9223372036854771712\n");
  auto limit = cgroup::own_memory_limit(proc);
  ASSERT_TRUE(limit);  // the parent's limit binds the child
  EXPECT_EQ(limit->bytes, 134217728u);
  EXPECT_EQ(limit->dir, (v1 / "a").string());
  write_file(v1 / "a" / "b" / "memory.limit_in_bytes", "67108864\n");
  EXPECT_EQ(cgroup::own_memory_limit(proc)->bytes, 67108864u);

  // v2: memory.max, "max" for none.
  const fs::path v2 = root / "cgroup2";
  write_file(root / "proc" / "self" / "cgroup", "0::/s.service\n");
  write_file(root / "proc" / "self" / "mountinfo",
             "50 22 0:40 / " + v2.string() + " rw - cgroup2 cgroup2 rw\n");
  write_file(v2 / "s.service" / "memory.max", "max\n");
  EXPECT_FALSE(cgroup::own_memory_limit(proc));
  write_file(v2 / "s.service" / "memory.max", "100000000\n");
  EXPECT_EQ(cgroup::own_memory_limit(proc)->bytes, 100000000u);
  EXPECT_FALSE(cgroup::own_memory_limit((root / "nowhere").string()));
  fs::remove_all(root);
}

}  // namespace
}  // namespace boundwise::cgroup
