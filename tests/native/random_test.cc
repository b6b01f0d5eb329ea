#include "tipline/random.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdint>
#include <set>
#include <vector>

namespace tipline {
namespace {

TEST(RandomTest, RandomBytesFillsAndDiffers) {
  std::array<uint8_t, 32> a{}, b{};
  ASSERT_TRUE(RandomBytes(a.data(), a.size()).ok());
  ASSERT_TRUE(RandomBytes(b.data(), b.size()).ok());
  EXPECT_NE(a, b);
  EXPECT_TRUE(RandomBytes(nullptr, 0).ok());
  EXPECT_EQ(RandomBytes(nullptr, 1).code(), StatusCode::kInvalidArgument);
}

TEST(RandomTest, BufferedDrawsAreDistinctAcrossRefills) {
  // 12-byte IVs across several 4 KiB refills: no repeats.
  std::set<std::array<uint8_t, 12>> seen;
  for (int i = 0; i < 5000; ++i) {
    std::array<uint8_t, 12> iv{};
    ASSERT_TRUE(BufferedRandomBytes(iv.data(), iv.size()).ok());
    EXPECT_TRUE(seen.insert(iv).second);
  }
}

TEST(RandomTest, LargeDrawsBypassTheBuffer) {
  std::vector<uint8_t> big(RandomBuffer::kCapacity * 3, 0);
  ASSERT_TRUE(BufferedRandomBytes(big.data(), big.size()).ok());
  size_t zeros = 0;
  for (uint8_t byte : big) zeros += byte == 0;
  EXPECT_LT(zeros, big.size() / 64);  // about 1/256 expected
}

TEST(RandomTest, ForkedChildDoesNotReuseParentBytes) {
  std::array<uint8_t, 16> warm{};
  ASSERT_TRUE(BufferedRandomBytes(warm.data(), warm.size()).ok());
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::array<uint8_t, 16> drawn{};
    const bool ok = BufferedRandomBytes(drawn.data(), drawn.size()).ok();
    const ssize_t written = write(fds[1], drawn.data(), drawn.size());
    _exit(ok && written == static_cast<ssize_t>(drawn.size()) ? 0 : 1);
  }
  close(fds[1]);
  std::array<uint8_t, 16> parent{}, from_child{};
  ASSERT_TRUE(BufferedRandomBytes(parent.data(), parent.size()).ok());
  ASSERT_EQ(read(fds[0], from_child.data(), from_child.size()),
            static_cast<ssize_t>(from_child.size()));
  close(fds[0]);
  int wstatus = 0;
  ASSERT_EQ(waitpid(child, &wstatus, 0), child);
  EXPECT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
  EXPECT_NE(parent, from_child);
}

}  // namespace
}  // namespace tipline
