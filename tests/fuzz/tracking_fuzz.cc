// Fuzzes tracking-number parsing: it must never crash or read out of bounds,
// and whatever it accepts must be canonical and stable.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tipline/tracking.h"

namespace {

void Require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "tracking_fuzz: invariant violated: %s\n", what);
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const tipline::Result<std::string> parsed = tipline::ParseTrackingNumber(text);
  Require(parsed.ok() == tipline::IsValidTrackingNumber(text),
          "Parse and IsValid agree");
  if (!parsed.ok()) {
    Require(parsed.status().code() == tipline::StatusCode::kInvalidArgument,
            "errors are kInvalidArgument");
    Require(!parsed.status().message().empty(), "errors have a message");
    return 0;
  }
  const std::string& canonical = parsed.value();
  Require(canonical.size() == 22 && canonical.compare(0, 3, "TL-") == 0,
          "canonical shape");
  const tipline::Result<std::string> again =
      tipline::ParseTrackingNumber(canonical);
  Require(again.ok() && again.value() == canonical, "canonical is a fixpoint");
  return 0;
}
