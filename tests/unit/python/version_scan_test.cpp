// Finding the exact version in an interpreter's data when the ELF has no Py_Version.
#include "collectors/python/version_scan.hpp"

#include <gtest/gtest.h>

namespace boundwise::python {
namespace {

using namespace std::string_literals;

TEST(FindVersionString, TheStartOfPyGetVersionsBuffer) {
  std::string data = "\0\0abc\0"s + "3.8.18 (default, May  9 2026, 10:00:00) \n[GCC 12.2.0]\0"s;
  EXPECT_EQ(find_version_string(data, 8), "3.8.18");
  EXPECT_FALSE(find_version_string(data, 9));
  // Not at a string start, or not followed by " (": a path, not the version.
  EXPECT_FALSE(find_version_string("/versions/3.8.18 (x\0"s, 8));
  EXPECT_FALSE(
      find_version_string("\0"
                          "3.8.18\0"s,
                          8));
  EXPECT_FALSE(
      find_version_string("\0"
                          "3.8. (\0"s,
                          8));
  EXPECT_EQ(find_version_string("\0"
                                "3.14.0rc1 (main)"s,
                                14),
            "3.14.0");
  EXPECT_EQ(find_version_string("3.7.16+ (heads"s, 7), "3.7.16");
}

TEST(ScanVersion, ReadsTheObjectsWritableMappingsAndItsBss) {
  FakeMemory m;
  std::string buf(4096, '\0');
  std::string version = "3.8.18 (default) [GCC]";
  buf.replace(1000, version.size(), version);
  m.add(0x3000, std::vector<std::uint8_t>(4096));
  m.add(0x4000, std::vector<std::uint8_t>(buf.begin(), buf.end()));  // .bss, anonymous
  const std::string maps =
      "1000-2000 r--p 00000000 fe:00 1 /lib/libpython3.8.so.1.0\n"
      "2000-3000 r-xp 00001000 fe:00 1 /lib/libpython3.8.so.1.0\n"
      "3000-4000 rw-p 00002000 fe:00 1 /lib/libpython3.8.so.1.0\n"
      "4000-5000 rw-p 00000000 00:00 0 \n"
      "5000-6000 rw-p 00000000 00:00 0 \n";
  EXPECT_EQ(scan_version(m, maps, "/lib/libpython3.8.so.1.0", 8), "3.8.18");
  EXPECT_FALSE(scan_version(m, maps, "/usr/bin/python3.8", 8));  // another object
  m.vanish();
  EXPECT_FALSE(scan_version(m, maps, "/lib/libpython3.8.so.1.0", 8));  // exited: nothing
}

}  // namespace
}  // namespace boundwise::python
