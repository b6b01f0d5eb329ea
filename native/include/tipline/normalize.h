// Text normalisation for near-duplicate matching (not for display).
//
// NormalizeForDedup maps text that a reader would call "the same" to one
// string: Unicode NFKC_Casefold (ICU; folds full-width to half-width, case,
// compatibility forms, and drops default-ignorables such as zero-width
// spaces), traditional to simplified Chinese, and punctuation, whitespace
// and control characters to single spaces, trimmed. Traditional Chinese is
// read with OpenCC t2s. Version-2 signatures also shingle the tw2sp reading of
// a text when it differs (NormalizeForDedupReadings): tw2sp maps Taiwan
// vocabulary (軟體 -> 软件, 滑鼠 -> 鼠标) that t2s leaves alone, but it also
// maps words that are the same on both sides (資料 -> 数据), so a traditional
// text keeps both readings and matches a simplified text written either way.
#ifndef TIPLINE_NORMALIZE_H_
#define TIPLINE_NORMALIZE_H_

#include <memory>
#include <string>
#include <string_view>

#include "tipline/status.h"
#include "tipline/utf8.h"  // IsValidUtf8, for the callers of NormalizeForDedup

namespace tipline {

// Where the process-wide converter reads its configuration: the environment
// variable TIPLINE_OPENCC_T2S if set, else the libopencc-data path found at
// build time (normally /usr/share/opencc/t2s.json).
std::string DefaultTraditionalToSimplifiedConfig();
// The same for tw2sp: TIPLINE_OPENCC_TW2SP, else /usr/share/opencc/tw2sp.json.
std::string DefaultTaiwanToSimplifiedConfig();

// An OpenCC converter. Convert() is const and safe to call from many threads.
class ChineseConverter {
 public:
  // kFailedPrecondition, naming the file and the Debian package, when the
  // configuration or its dictionaries cannot be loaded.
  [[nodiscard]] static Result<std::unique_ptr<ChineseConverter>> Open(
      const std::string& config_path);

  ~ChineseConverter();
  ChineseConverter(const ChineseConverter&) = delete;
  ChineseConverter& operator=(const ChineseConverter&) = delete;

  // Converts valid UTF-8. kInternal if OpenCC fails.
  [[nodiscard]] Result<std::string> Convert(std::string_view utf8) const;

 private:
  explicit ChineseConverter(void* handle) : handle_(handle) {}
  void* handle_;  // opencc_t
};

// The process-wide traditional->simplified converter, loaded once (thread-safe)
// from DefaultTraditionalToSimplifiedConfig(). A load failure is remembered and
// returned to every caller.
[[nodiscard]] Result<const ChineseConverter*> TraditionalToSimplified();
// The same for tw2sp (Taiwan to simplified, with phrases).
[[nodiscard]] Result<const ChineseConverter*> TaiwanToSimplified();

// The matching form of `utf8` (see above) for signature `version` (1 to 3;
// the same for all).
// kInvalidArgument for ill-formed UTF-8 or an unknown version;
// kFailedPrecondition if the text contains Han characters and the OpenCC
// data is missing. Text without Han characters never needs OpenCC.
[[nodiscard]] Result<std::string> NormalizeForDedup(std::string_view utf8,
                                                    int version = 3);

// The t2s reading (*primary, as NormalizeForDedup) and, when taiwan is not
// null, the tw2sp reading (*taiwan, left empty when it equals *primary).
[[nodiscard]] Status NormalizeForDedupReadings(std::string_view utf8,
                                               std::string* primary,
                                               std::string* taiwan);

// Whether every byte of `text` is ASCII (then it is valid UTF-8, and its
// matching form needs neither ICU nor OpenCC).
[[nodiscard]] bool IsAsciiText(std::string_view text) noexcept;

}  // namespace tipline

#endif  // TIPLINE_NORMALIZE_H_
