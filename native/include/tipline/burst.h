// Burst guard: flags report bombing, i.e. many reports against one target in
// a short window from new or low-accuracy reporters.
//
// A report is suspect if its reporter's account is younger than
// new_account_age_seconds, or its reporter's accuracy (upheld / decided, in
// [0, 1]) is below min_accuracy; a negative or NaN accuracy means "no
// history" and is not low. Sorted by time, every window of window_seconds
// holding at least min_reports suspect reports is a burst; the members are
// the suspect reports of all such windows.
#ifndef TIPLINE_BURST_H_
#define TIPLINE_BURST_H_

#include <cstddef>
#include <vector>

#include "tipline/status.h"

namespace tipline {

struct BurstParams {
  double window_seconds = 3600.0;
  size_t min_reports = 5;
  double new_account_age_seconds = 7 * 86400.0;
  double min_accuracy = 0.5;
};

struct TargetReport {
  double timestamp;            // seconds (any epoch, the same for all)
  double account_age_seconds;  // reporter account age at report time
  double accuracy;             // reporter accuracy in [0, 1]; < 0 or NaN: unknown
};

struct BurstResult {
  bool is_burst = false;
  std::vector<size_t> members;  // indices into the input, ascending
};

// kInvalidArgument for a non-finite timestamp, a window that is not > 0 and
// finite, or min_reports == 0.
[[nodiscard]] Status ValidateBurstParams(const BurstParams& params);
[[nodiscard]] Result<BurstResult> DetectReportBurst(
    const std::vector<TargetReport>& reports, const BurstParams& params);

}  // namespace tipline

#endif  // TIPLINE_BURST_H_
