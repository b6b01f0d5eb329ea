#include "tipline/status.h"

#include <gtest/gtest.h>

#include <string>

namespace tipline {
namespace {

TEST(StatusTest, DefaultIsOk) {
  const Status status;
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(status.code(), StatusCode::kOk);
  EXPECT_EQ(status.ToString(), "ok");
}

TEST(StatusTest, ErrorCarriesCodeAndMessage) {
  const Status status = NotFoundError("no key 7");
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_EQ(status.message(), "no key 7");
  EXPECT_EQ(status.ToString(), "not_found: no key 7");
  EXPECT_STREQ(StatusCodeName(StatusCode::kDecryptionFailed),
               "decryption_failed");
}

TEST(ResultTest, HoldsValueOrStatus) {
  Result<std::string> good(std::string("x"));
  ASSERT_TRUE(good.ok());
  EXPECT_TRUE(good.status().ok());
  EXPECT_EQ(good.value(), "x");
  const Result<std::string> bad = InvalidArgumentError("nope");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
}

TEST(ResultTest, OkStatusWithoutValueBecomesInternal) {
  const Result<int> result = Status::Ok();
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInternal);
}

TEST(ResultDeathTest, ValueOnErrorAborts) {
  const Result<int> result = InternalError("boom");
  EXPECT_DEATH((void)result.value(), "boom");
}

}  // namespace
}  // namespace tipline
