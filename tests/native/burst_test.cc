#include "tipline/burst.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace tipline {
namespace {

constexpr double kDay = 86400;

TEST(BurstTest, FlagsManyNewAccountsInAWindow) {
  std::vector<TargetReport> reports;
  for (int i = 0; i < 6; ++i) reports.push_back({1000.0 + 60 * i, 3600, -1});
  reports.push_back({1000.0 + 30, 400 * kDay, 0.9});  // an established reporter
  const BurstResult r = DetectReportBurst(reports, BurstParams()).value();
  EXPECT_TRUE(r.is_burst);
  EXPECT_EQ(r.members, (std::vector<size_t>{0, 1, 2, 3, 4, 5}));
}

TEST(BurstTest, SpreadOutReportsAreNotABurst) {
  std::vector<TargetReport> reports;
  for (int i = 0; i < 10; ++i) reports.push_back({i * 2 * 3600.0, 3600, -1});
  const BurstResult r = DetectReportBurst(reports, BurstParams()).value();
  EXPECT_FALSE(r.is_burst);
  EXPECT_TRUE(r.members.empty());
}

TEST(BurstTest, TrustedReportersAreNotABurst) {
  std::vector<TargetReport> reports;
  for (int i = 0; i < 20; ++i) reports.push_back({100.0 + i, 365 * kDay, 0.8});
  EXPECT_FALSE(DetectReportBurst(reports, BurstParams()).value().is_burst);
}

TEST(BurstTest, LowAccuracyReportersCount) {
  std::vector<TargetReport> reports;
  for (int i = 0; i < 5; ++i) reports.push_back({100.0 * i, 365 * kDay, 0.1});
  EXPECT_TRUE(DetectReportBurst(reports, BurstParams()).value().is_burst);
}

TEST(BurstTest, ParametersAreEditable) {
  std::vector<TargetReport> reports;
  for (int i = 0; i < 4; ++i) reports.push_back({i * 600.0, 3600, -1});
  BurstParams params;
  EXPECT_FALSE(DetectReportBurst(reports, params).value().is_burst);  // 4 < 5
  params.min_reports = 4;
  EXPECT_TRUE(DetectReportBurst(reports, params).value().is_burst);
  params.window_seconds = 600;  // now at most 2 fit in a window
  EXPECT_FALSE(DetectReportBurst(reports, params).value().is_burst);
  params.window_seconds = 3600;
  params.new_account_age_seconds = 60;  // a one-hour-old account is not new
  EXPECT_FALSE(DetectReportBurst(reports, params).value().is_burst);
}

TEST(BurstTest, UnsortedInputAndTwoSeparateBursts) {
  std::vector<TargetReport> reports;
  for (int i = 4; i >= 0; --i) reports.push_back({10.0 * i, 0, -1});          // 0..4
  for (int i = 0; i < 5; ++i) reports.push_back({100000.0 + i, 0, -1});      // 5..9
  reports.push_back({50000, 0, -1});                                        // 10: alone
  const BurstResult r = DetectReportBurst(reports, BurstParams()).value();
  EXPECT_TRUE(r.is_burst);
  EXPECT_EQ(r.members, (std::vector<size_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

TEST(BurstTest, RejectsBadInput) {
  BurstParams params;
  params.window_seconds = 0;
  EXPECT_EQ(DetectReportBurst({}, params).status().code(), StatusCode::kInvalidArgument);
  params = BurstParams();
  params.min_reports = 0;
  EXPECT_FALSE(DetectReportBurst({}, params).ok());
  EXPECT_FALSE(DetectReportBurst({{std::nan(""), 0, -1}}, BurstParams()).ok());
  EXPECT_FALSE(DetectReportBurst({}, BurstParams()).value().is_burst);
}

}  // namespace
}  // namespace tipline
