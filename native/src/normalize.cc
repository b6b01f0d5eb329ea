#include "tipline/normalize.h"

#include <opencc/opencc.h>
#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/uscript.h>
#include <unicode/utypes.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>
#include <sys/stat.h>

#include "internal/unicode_text.h"

#ifndef TIPLINE_OPENCC_T2S_DEFAULT
#define TIPLINE_OPENCC_T2S_DEFAULT "/usr/share/opencc/t2s.json"
#endif
#ifndef TIPLINE_OPENCC_TW2SP_DEFAULT
#define TIPLINE_OPENCC_TW2SP_DEFAULT "/usr/share/opencc/tw2sp.json"
#endif

namespace tipline {
namespace internal {
namespace {

uint8_t ClassifyWithIcu(UChar32 c) {
  uint8_t cls = kWordChar;
  const int8_t type = u_charType(c);
  if (u_ispunct(c) || u_isUWhiteSpace(c) || type == U_CONTROL_CHAR ||
      type == U_FORMAT_CHAR || type == U_SPACE_SEPARATOR ||
      type == U_LINE_SEPARATOR || type == U_PARAGRAPH_SEPARATOR) {
    cls |= kSeparator;
  }
  UErrorCode error = U_ZERO_ERROR;
  const UScriptCode script = uscript_getScript(c, &error);
  if (U_SUCCESS(error)) {
    switch (script) {
      case USCRIPT_HAN:
        cls |= kHan | kCharToken;
        break;
      case USCRIPT_HIRAGANA:
      case USCRIPT_KATAKANA:
      case USCRIPT_KATAKANA_OR_HIRAGANA:
      case USCRIPT_THAI:
      case USCRIPT_LAO:
      case USCRIPT_KHMER:
      case USCRIPT_MYANMAR:
        cls |= kCharToken;
        break;
      default:
        break;
    }
  }
  // The prolonged sound mark and iteration marks are script Common but are
  // written inside kana/Han words.
  if ((cls & kSeparator) == 0 &&
      (u_hasBinaryProperty(c, UCHAR_IDEOGRAPHIC) ||
       u_hasBinaryProperty(c, UCHAR_EXTENDER)) &&
      c >= 0x3000) {
    cls |= kCharToken;
  }
  return cls;
}

const std::array<uint8_t, 0x10000>& BmpClasses() {
  static const auto* table = [] {
    auto* t = new std::array<uint8_t, 0x10000>();
    for (UChar32 c = 0; c < 0x10000; ++c) (*t)[c] = ClassifyWithIcu(c);
    return t;
  }();
  return *table;
}

}  // namespace

const uint8_t* BmpClassTable() noexcept { return BmpClasses().data(); }

uint8_t ClassifyCodePoint(int32_t c) noexcept {
  if (c >= 0 && c < 0x10000) return BmpClasses()[static_cast<size_t>(c)];
  return ClassifyWithIcu(c);
}

}  // namespace internal

namespace {

using internal::ClassifyCodePoint;
using internal::NextCodePoint;

// ICU takes int32_t lengths; no report comes near this.
constexpr size_t kMaxNormalizeInputBytes = size_t{1} << 30;

size_t EncodeUtf8(int32_t c, char* out) {
  if (c < 0x80) {
    out[0] = static_cast<char>(c);
    return 1;
  }
  if (c < 0x800) {
    out[0] = static_cast<char>(0xC0 | (c >> 6));
    out[1] = static_cast<char>(0x80 | (c & 0x3F));
    return 2;
  }
  out[0] = static_cast<char>(0xE0 | (c >> 12));
  out[1] = static_cast<char>(0x80 | ((c >> 6) & 0x3F));
  out[2] = static_cast<char>(0x80 | (c & 0x3F));
  return 3;  // BMP only
}

bool FileExists(const std::string& path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

// Collapses separators into single spaces and trims; valid UTF-8 in and out.
// *has_han is set if a Han character remains.
std::string FoldSeparators(std::string_view text, bool* has_han) {
  std::string out;
  out.reserve(text.size());
  bool pending_space = false;
  *has_han = false;
  const uint8_t* const bmp = internal::BmpClassTable();
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t start = pos;
    const int32_t c = NextCodePoint(text, &pos);
    const uint8_t cls = c < 0x10000 ? bmp[c] : ClassifyCodePoint(c);
    if (cls & internal::kSeparator) {
      pending_space = !out.empty();
      continue;
    }
    if (cls & internal::kHan) *has_han = true;
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.append(text.data() + start, pos - start);
  }
  return out;
}

// The exact NFKC_Casefold + separator fold of ASCII text, without ICU: ASCII
// has no compatibility mappings, case folds to lower case, and the separator
// table is the same one built from ICU properties.
void NormalizeAsciiInto(std::string_view text, std::string* out) {
  out->clear();
  out->reserve(text.size());
  bool pending_space = false;
  const uint8_t* const bmp = internal::BmpClassTable();
  for (const char ch : text) {
    const auto byte = static_cast<uint8_t>(ch);
    if (bmp[byte] & internal::kSeparator) {
      pending_space = !out->empty();
      continue;
    }
    if (pending_space) out->push_back(' ');
    pending_space = false;
    out->push_back(byte >= 'A' && byte <= 'Z' ? static_cast<char>(byte + 32)
                                              : ch);
  }
}


// BMP Han characters that the converter changes when converted on their own, found by
// asking OpenCC once (one call over all of them, newline-separated so that no
// phrase spans two). Text whose Han characters are all outside this set (the
// usual simplified-Chinese report) skips the comparatively slow OpenCC call.
// The cost of the shortcut: a t2s phrase made only of characters that t2s
// keeps on their own is left as written unless the text also contains a
// character that does change (a traditional text almost always does).
std::vector<bool>* HanChangedBy(const ChineseConverter& converter) {
  {
    auto* table = new std::vector<bool>(0x10000, false);
    const uint8_t* const bmp = internal::BmpClassTable();
    std::string all;
    std::vector<int32_t> han;
    for (int32_t c = 0x2E80; c < 0x10000; ++c) {
      if (!(bmp[c] & internal::kHan)) continue;
      han.push_back(c);
      char buf[4];
      const size_t n = EncodeUtf8(c, buf);
      all.append(buf, n);
      all.push_back('\n');
    }
    Result<std::string> converted = converter.Convert(all);
    if (!converted.ok()) {  // be safe: convert every Han text
      table->assign(0x10000, true);
      return table;
    }
    size_t start = 0, i = 0;
    const std::string& text = converted.value();
    for (size_t pos = 0; pos <= text.size() && i < han.size(); ++pos) {
      if (pos == text.size() || text[pos] == '\n') {
        char buf[4];
        const size_t n = EncodeUtf8(han[i], buf);
        (*table)[static_cast<size_t>(han[i])] =
            std::string_view(text).substr(start, pos - start) != std::string_view(buf, n);
        start = pos + 1;
        ++i;
      }
    }
    if (i != han.size()) table->assign(0x10000, true);  // unexpected shape
    return table;
  }
}

// The table of each process-wide converter, built once.
const std::vector<bool>& HanChanged(const ChineseConverter& converter, int version) {
  if (version == 1) {
    static const std::vector<bool>* t2s = HanChangedBy(converter);
    return *t2s;
  }
  static const std::vector<bool>* tw2sp = HanChangedBy(converter);
  return *tw2sp;
}

bool NeedsConversion(std::string_view text, const ChineseConverter& converter,
                     int version) {
  const std::vector<bool>& changed = HanChanged(converter, version);
  size_t pos = 0;
  while (pos < text.size()) {
    const int32_t c = NextCodePoint(text, &pos);
    if (c >= 0x10000) {
      if (ClassifyCodePoint(c) & internal::kHan) return true;  // not tabulated
    } else if (changed[static_cast<size_t>(c)]) {
      return true;
    }
  }
  return false;
}

}  // namespace

bool IsAsciiText(std::string_view text) noexcept {
  uint64_t any = 0;
  size_t i = 0;
  for (; i + 8 <= text.size(); i += 8) {
    uint64_t word;
    std::memcpy(&word, text.data() + i, 8);
    any |= word;
  }
  for (; i < text.size(); ++i) any |= static_cast<uint8_t>(text[i]);
  return (any & 0x8080808080808080ULL) == 0;
}

std::string DefaultTraditionalToSimplifiedConfig() {
  const char* from_env = std::getenv("TIPLINE_OPENCC_T2S");
  if (from_env != nullptr && *from_env != '\0') return from_env;
  return TIPLINE_OPENCC_T2S_DEFAULT;
}

std::string DefaultTaiwanToSimplifiedConfig() {
  const char* from_env = std::getenv("TIPLINE_OPENCC_TW2SP");
  if (from_env != nullptr && *from_env != '\0') return from_env;
  return TIPLINE_OPENCC_TW2SP_DEFAULT;
}

Result<std::unique_ptr<ChineseConverter>> ChineseConverter::Open(
    const std::string& config_path) {
  const std::string hint =
      " (install the Debian package libopencc-data, or set TIPLINE_OPENCC_T2S "
      "or TIPLINE_OPENCC_TW2SP to its t2s.json or tw2sp.json)";
  if (!FileExists(config_path)) {
    return FailedPreconditionError("OpenCC configuration not found: " +
                                   config_path + hint);
  }
  // opencc_open reports failure as (opencc_t)-1 and catches its own
  // exceptions (e.g. a dictionary named by the config is missing).
  opencc_t handle = opencc_open(config_path.c_str());
  if (handle == reinterpret_cast<opencc_t>(-1) || handle == nullptr) {
    const char* detail = opencc_error();
    return FailedPreconditionError(
        "OpenCC could not load " + config_path + ": " +
        (detail != nullptr ? detail : "unknown error") + hint);
  }
  return std::unique_ptr<ChineseConverter>(new ChineseConverter(handle));
}

ChineseConverter::~ChineseConverter() {
  opencc_close(static_cast<opencc_t>(handle_));
}

Result<std::string> ChineseConverter::Convert(std::string_view utf8) const {
  char* converted =
      opencc_convert_utf8(static_cast<opencc_t>(handle_), utf8.data(),
                          utf8.size());
  if (converted == nullptr) {
    return InternalError("OpenCC conversion failed");
  }
  std::string out(converted);
  opencc_convert_utf8_free(converted);
  return out;
}

Result<const ChineseConverter*> TraditionalToSimplified() {
  // Loaded once; the Status of a failed load is kept so that every caller
  // gets the same clear error instead of retrying a missing file per text.
  static const auto* loaded =
      new Result<std::unique_ptr<ChineseConverter>>(
          ChineseConverter::Open(DefaultTraditionalToSimplifiedConfig()));
  if (!loaded->ok()) return loaded->status();
  return static_cast<const ChineseConverter*>(loaded->value().get());
}

Result<const ChineseConverter*> TaiwanToSimplified() {
  static const auto* loaded =
      new Result<std::unique_ptr<ChineseConverter>>(
          ChineseConverter::Open(DefaultTaiwanToSimplifiedConfig()));
  if (!loaded->ok()) return loaded->status();
  return static_cast<const ChineseConverter*>(loaded->value().get());
}

Status NormalizeForDedupReadings(std::string_view utf8, std::string* primary,
                                 std::string* taiwan) {
  if (taiwan != nullptr) taiwan->clear();
  if (!IsValidUtf8(utf8)) {
    return InvalidArgumentError("text is not valid UTF-8");
  }
  if (utf8.size() > kMaxNormalizeInputBytes) {
    return InvalidArgumentError("text is too long to normalise");
  }
  if (IsAsciiText(utf8)) {
    NormalizeAsciiInto(utf8, primary);  // reuses the caller's buffer
    return Status::Ok();
  }

  UErrorCode error = U_ZERO_ERROR;
  const icu::Normalizer2* nfkc_cf = icu::Normalizer2::getNFKCCasefoldInstance(error);
  if (U_FAILURE(error) || nfkc_cf == nullptr) {
    return InternalError(std::string("ICU NFKC_Casefold unavailable: ") +
                         u_errorName(error));
  }
  std::string folded;
  folded.reserve(utf8.size());
  icu::StringByteSink<std::string> sink(&folded);
  nfkc_cf->normalizeUTF8(0, icu::StringPiece(utf8.data(),
                                             static_cast<int32_t>(utf8.size())),
                         sink, nullptr, error);
  if (U_FAILURE(error)) {
    return InternalError(std::string("ICU normalisation failed: ") +
                         u_errorName(error));
  }
  bool has_han = false;
  std::string out = FoldSeparators(folded, &has_han);
  if (!has_han) {
    *primary = std::move(out);
    return Status::Ok();
  }
  // OpenCC maps Han to Han, but each reading is folded again so that it is
  // canonical whatever the dictionaries contain.
  const auto convert = [&](Result<const ChineseConverter*> converter, int version,
                           std::string* reading) -> Status {
    if (!converter.ok()) return converter.status();
    if (!NeedsConversion(out, *converter.value(), version)) {
      *reading = out;
      return Status::Ok();
    }
    Result<std::string> converted = converter.value()->Convert(out);
    if (!converted.ok()) return converted.status();
    bool unused = false;
    *reading = FoldSeparators(converted.value(), &unused);
    return Status::Ok();
  };
  Status status = convert(TraditionalToSimplified(), 1, primary);
  if (!status.ok() || taiwan == nullptr) return status;
  status = convert(TaiwanToSimplified(), 2, taiwan);
  if (!status.ok()) return status;
  if (*taiwan == *primary) taiwan->clear();
  return Status::Ok();
}

Result<std::string> NormalizeForDedup(std::string_view utf8, int version) {
  if (version < 1 || version > 3) {
    return InvalidArgumentError("unsupported signature version " +
                                std::to_string(version));
  }
  std::string primary;
  const Status status = NormalizeForDedupReadings(utf8, &primary, nullptr);
  if (!status.ok()) return status;
  return primary;
}

}  // namespace tipline
