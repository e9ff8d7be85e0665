// The GIL locator (collectors/process/gil_locator.hpp) on fixture proc roots: a maps
// file, an exe link and a root/ tree holding copies of real interpreter libraries
// (pyenv's, when installed) cover the load bias, version-from-name, free-threaded and
// bad-input paths, and the safe opening of the mapped file. Against live interpreters
// (threads seen waiting for the GIL inside the located range):
// tests/integration/native/collectors/gil_locator_test.cpp.
#include "collectors/process/gil_locator.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/lib/interpreters.hpp"

namespace boundwise::process {
namespace {

TEST(GilOffset, MeasuredVersionsOnly) {
  EXPECT_EQ(gil_offset_from_runtime(3, 9), 352u);
  EXPECT_EQ(gil_offset_from_runtime(3, 10), 352u);
  EXPECT_EQ(gil_offset_from_runtime(3, 11), 360u);
  EXPECT_EQ(gil_offset_from_runtime(3, 12), 77432u);
  EXPECT_EQ(gil_offset_from_runtime(3, 13), 96104u);
  EXPECT_EQ(gil_offset_from_runtime(3, 8), 1152u);
  EXPECT_FALSE(gil_offset_from_runtime(3, 7));
  EXPECT_FALSE(gil_offset_from_runtime(3, 14));
  EXPECT_FALSE(gil_offset_from_runtime(2, 7));
}

TEST(LocateGil, NotPythonAndVanished) {
  auto self = locate_gil("/proc", ::getpid());
  ASSERT_TRUE(self) << self.error().message;
  EXPECT_FALSE(self->has_value());
  EXPECT_FALSE(locate_gil("/proc", 0x3fffffff));  // no such process: an Error, not a crash
}

using test::libpython;
using test::pyenv_root;

// A fake proc root holding one process (pid 4242): its maps text, an exe link and a
// root/ tree in which `links` maps target paths to real files.
class FixtureRoot {
 public:
  static constexpr int kPid = 4242;
  FixtureRoot() {
    char tmpl[] = "/tmp/gil_locator_test_XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    std::filesystem::create_directories(dir_ / std::to_string(kPid) / "root");
  }
  ~FixtureRoot() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  FixtureRoot(const FixtureRoot&) = delete;
  FixtureRoot& operator=(const FixtureRoot&) = delete;
  void maps(const std::string& text) { std::ofstream(proc() / "maps") << text; }
  void exe(const std::string& path) { std::filesystem::create_symlink(path, proc() / "exe"); }
  // Makes `path` inside the process's root a copy of the real file `target`.
  void file(const std::string& path, const std::string& target) {
    auto at = in_root(path);
    std::filesystem::create_directories(at.parent_path());
    std::filesystem::copy_file(target, at);
  }
  // Writes `bytes` as the file `path` inside the process's root.
  void write(const std::string& path, const std::string& bytes) {
    auto at = in_root(path);
    std::filesystem::create_directories(at.parent_path());
    std::ofstream(at, std::ios::binary) << bytes;
  }
  std::filesystem::path in_root(const std::string& path) const {
    return proc() / "root" / std::filesystem::path(path).relative_path();
  }
  // A maps line for `path` mapped at `start`, with the device and inode of the file
  // at that name in the root (as the kernel would show for the mapped file), or of
  // `mapped_as` when given.
  std::string line(std::uint64_t start, const std::string& path,
                   const std::string& mapped_as = "") const {
    struct stat st {};
    auto file = in_root(mapped_as.empty() ? path : mapped_as);
    if (::lstat(file.c_str(), &st) != 0) st = {};
    char text[512];
    std::snprintf(text, sizeof text, "%lx-%lx r--p 00000000 %x:%02x %lu %s\n",
                  static_cast<unsigned long>(start), static_cast<unsigned long>(start + 0x1000),
                  major(st.st_dev), minor(st.st_dev), static_cast<unsigned long>(st.st_ino),
                  path.c_str());
    return text;
  }
  std::string root() const { return dir_.string(); }

 private:
  std::filesystem::path proc() const { return dir_ / std::to_string(kPid); }
  std::filesystem::path dir_;
};

TEST(LocateGilFixture, BiasFollowsTheMappingAndVersionComesFromTheName) {
  auto lib = libpython(10);  // 3.10 has no Py_Version: the version comes from the name
  if (lib.empty()) GTEST_SKIP() << "no pyenv libpython3.10.so.1.0 on this machine";
  const std::string path = "/opt/py/lib/libpython3.10.so.1.0";
  std::optional<GilLocation> at[2];
  const std::uint64_t starts[2] = {0x7f0000000000, 0x7f0012340000};
  for (int i = 0; i < 2; ++i) {
    FixtureRoot fx;
    fx.exe("/opt/py/bin/python3.10");
    fx.file(path, lib);
    fx.maps("55d000000000-55d000001000 r--p 00000000 08:01 1 /opt/py/bin/python3.10\n" +
            fx.line(starts[i], path));
    auto r = locate_gil(fx.root(), FixtureRoot::kPid);
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_TRUE(r->has_value());
    at[i] = **r;
  }
  EXPECT_EQ(at[0]->version, "3.10");
  EXPECT_FALSE(at[0]->free_threaded);
  EXPECT_EQ(at[0]->end - at[0]->begin, 208u);
  EXPECT_GT(at[0]->begin, starts[0]);
  // Moving the mapping moves the GIL by the same amount: the bias is the mapping start.
  EXPECT_EQ(at[1]->begin - at[0]->begin, starts[1] - starts[0]);
}

TEST(LocateGilFixture, FreeThreadedNameGivesAnEmptyRange) {
  auto lib = libpython(13);
  if (lib.empty()) GTEST_SKIP() << "no pyenv libpython3.13.so.1.0 on this machine";
  FixtureRoot fx;
  fx.exe("/usr/bin/python3.13t");
  fx.file("/usr/lib/libpython3.13t.so.1.0", lib);
  fx.maps(fx.line(0x7f0000000000, "/usr/lib/libpython3.13t.so.1.0"));
  auto r = locate_gil(fx.root(), FixtureRoot::kPid);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_TRUE(r->has_value());
  EXPECT_TRUE((*r)->free_threaded);
  EXPECT_EQ((*r)->begin, (*r)->end);
  EXPECT_FALSE((*r)->contains(0x7f0000000000 + 96104 + 72));
  EXPECT_EQ((*r)->version.rfind("3.13", 0), 0u) << (*r)->version;  // from Py_Version
}

TEST(LocateGilFixture, UnmeasuredVersionIsPythonWithAnEmptyRange) {
  std::string lib;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(pyenv_root() / "versions", ec)) {
    auto candidate = e.path() / "lib" / "libpython3.7m.so.1.0";
    if (std::filesystem::exists(candidate)) lib = candidate.string();
  }
  if (lib.empty()) GTEST_SKIP() << "no pyenv libpython3.7m.so.1.0 on this machine";
  FixtureRoot fx;
  fx.exe("/usr/bin/python3.7");
  fx.file("/usr/lib/libpython3.7m.so.1.0", lib);
  fx.maps(fx.line(0x7f0000000000, "/usr/lib/libpython3.7m.so.1.0"));
  auto r = locate_gil(fx.root(), FixtureRoot::kPid);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ((*r)->version, "3.7");  // no Py_Version before 3.11: the minor from the name
  EXPECT_EQ((*r)->minor, 7);
  EXPECT_EQ((*r)->begin, (*r)->end);  // no GIL offset known for 3.7
  EXPECT_GT((*r)->runtime_address, 0x7f0000000000u);
}

TEST(LocateGilFixture, BadInputIsAnErrorOrNothingNeverACrash) {
  {  // garbage and overflowing numbers in maps; the exe is not Python
    FixtureRoot fx;
    fx.exe("/bin/sh");
    fx.file("/bin/sh", "/bin/sh");
    fx.maps(
        "garbage\n"
        "zzzz-yyyy r--p 00000000 08:01 1 /usr/lib/libpython3.11.so.1.0\n"
        "fffffffffffffffffffffffff-1 r--p 00000000 08:01 1 /usr/lib/libpython3.11.so.1.0\n"
        "1000-2000 r--p 99999999999999999999999 08:01 1 /usr/lib/libpython3.11.so.1.0\n"
        "1000-2000 r--p\n" +
        fx.line(0x400000, "/bin/sh"));
    auto r = locate_gil(fx.root(), FixtureRoot::kPid);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_FALSE(r->has_value());
  }
  {  // the mapped interpreter is not an ELF file
    FixtureRoot fx;
    fx.exe("/usr/bin/python3.11");
    fx.write("/usr/bin/python3.11", "#!/bin/sh\necho not an interpreter\n");
    fx.maps(fx.line(0x400000, "/usr/bin/python3.11"));
    EXPECT_FALSE(locate_gil(fx.root(), FixtureRoot::kPid));
  }
  {  // a truncated ELF: a real header whose section table lies past the end
    std::ifstream in("/bin/sh", std::ios::binary);
    std::string head(64, '\0');
    in.read(head.data(), 64);
    FixtureRoot fx;
    fx.exe("/usr/bin/python3.11");
    fx.write("/usr/bin/python3.11", head);
    fx.maps(fx.line(0x400000, "/usr/bin/python3.11"));
    EXPECT_FALSE(locate_gil(fx.root(), FixtureRoot::kPid));
  }
  {  // a minor version too large for any integer in the file name
    auto lib = libpython(12);
    if (!lib.empty()) {
      const std::string path = "/usr/lib/libpython3.99999999999999999999999.so";
      FixtureRoot fx;
      fx.exe("/usr/bin/python3");
      fx.file(path, lib);
      fx.maps(fx.line(0x7f0000000000, path));
      auto r = locate_gil(fx.root(), FixtureRoot::kPid);
      ASSERT_TRUE(r) << r.error().message;
      ASSERT_TRUE(r->has_value());  // Py_Version in the file wins over the name
      EXPECT_EQ((*r)->version.rfind("3.12", 0), 0u) << (*r)->version;
    }
  }
  {  // the maps file cannot be read
    FixtureRoot fx;
    EXPECT_FALSE(locate_gil(fx.root(), FixtureRoot::kPid));
  }
}

// What a target's owner can put at the name maps shows: each is refused with an error
// at once, never read, never waited on.
TEST(LocateGilFixture, NameControlledByTheTargetIsNeverTrusted) {
  auto lib = libpython(11);
  if (lib.empty()) lib = "/bin/sh";  // an ELF without _PyRuntime still exercises the checks
  const std::string exe = "/opt/py/bin/python3.11";
  const std::string deleted = exe + " (deleted)";
  {  // a FIFO at "<path> (deleted)": an open without O_NONBLOCK would block for good
    FixtureRoot fx;
    fx.exe(deleted);
    std::filesystem::create_directories(fx.in_root(deleted).parent_path());
    ASSERT_EQ(::mkfifo(fx.in_root(deleted).c_str(), 0600), 0);
    fx.maps(fx.line(0x400000, deleted));
    auto r = locate_gil(fx.root(), FixtureRoot::kPid);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("not a regular file"), std::string::npos) << r.error().message;
  }
  {  // a symlink at the name, even to the right file
    FixtureRoot fx;
    fx.exe(exe);
    fx.file("/real/python", lib);
    std::filesystem::create_directories(fx.in_root(exe).parent_path());
    std::filesystem::create_symlink(fx.in_root("/real/python"), fx.in_root(exe));
    fx.maps(fx.line(0x400000, exe, "/real/python"));
    auto r = locate_gil(fx.root(), FixtureRoot::kPid);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("Too many levels of symbolic links"), std::string::npos)
        << r.error().message;
  }
  {  // another ELF file put at the name: not the mapped device and inode
    FixtureRoot fx;
    fx.exe(exe);
    fx.file("/mapped/python", lib);
    fx.file(exe, "/bin/true");
    fx.maps(fx.line(0x400000, exe, "/mapped/python"));
    auto r = locate_gil(fx.root(), FixtureRoot::kPid);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("not the mapped file"), std::string::npos)
        << r.error().message;
  }
  {  // a sparse 100 GiB file: refused by size before any read
    FixtureRoot fx;
    fx.exe(exe);
    fx.file(exe, lib);
    ASSERT_EQ(::truncate(fx.in_root(exe).c_str(), off_t{100} << 30), 0);
    fx.maps(fx.line(0x400000, exe));
    auto r = locate_gil(fx.root(), FixtureRoot::kPid);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("larger than"), std::string::npos) << r.error().message;
  }
}

}  // namespace
}  // namespace boundwise::process
