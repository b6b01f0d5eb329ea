#include "tipline/burst.h"

#include <algorithm>
#include <cmath>

namespace tipline {

Status ValidateBurstParams(const BurstParams& params) {
  if (!(params.window_seconds > 0) || !std::isfinite(params.window_seconds)) {
    return InvalidArgumentError("window_seconds must be a positive number");
  }
  if (params.min_reports == 0) {
    return InvalidArgumentError("min_reports must be at least 1");
  }
  if (std::isnan(params.new_account_age_seconds) || std::isnan(params.min_accuracy)) {
    return InvalidArgumentError("burst parameters must be numbers");
  }
  return Status::Ok();
}

Result<BurstResult> DetectReportBurst(const std::vector<TargetReport>& reports,
                                      const BurstParams& params) {
  if (Status status = ValidateBurstParams(params); !status.ok()) return status;
  std::vector<size_t> suspects;  // input indices, then sorted by time
  for (size_t i = 0; i < reports.size(); ++i) {
    const TargetReport& r = reports[i];
    if (!std::isfinite(r.timestamp)) {
      return InvalidArgumentError("report " + std::to_string(i) +
                                  " has no valid timestamp");
    }
    const bool new_account = r.account_age_seconds < params.new_account_age_seconds;
    const bool low_accuracy = r.accuracy >= 0 && r.accuracy < params.min_accuracy;
    if (new_account || low_accuracy) suspects.push_back(i);
  }
  std::stable_sort(suspects.begin(), suspects.end(), [&](size_t a, size_t b) {
    return reports[a].timestamp < reports[b].timestamp;
  });

  BurstResult result;
  // Two pointers: [left, right] is the longest window ending at `right`;
  // when it holds enough suspects, all of them are members. `marked` is the
  // first position not yet added, so each member is added once.
  size_t left = 0, marked = 0;
  for (size_t right = 0; right < suspects.size(); ++right) {
    const double end_time = reports[suspects[right]].timestamp;
    while (end_time - reports[suspects[left]].timestamp > params.window_seconds) {
      ++left;
    }
    if (right - left + 1 >= params.min_reports) {
      result.is_burst = true;
      for (size_t p = std::max(left, marked); p <= right; ++p) {
        result.members.push_back(suspects[p]);
      }
      marked = right + 1;
    }
  }
  std::sort(result.members.begin(), result.members.end());
  return result;
}

}  // namespace tipline
