// Test helper: a tiny JSON reader (enough for Wycheproof's files: objects,
// arrays, strings with simple escapes, numbers, literals) and the location of
// the vendored vectors (tests/native/vectors). Header-only; included by the tests that need vectors.
#ifndef TIPLINE_TESTS_NATIVE_WYCHEPROOF_H_
#define TIPLINE_TESTS_NATIVE_WYCHEPROOF_H_

#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace tipline::testing {

struct Json {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  bool boolean = false;
  double number = 0;
  std::string string;
  std::vector<Json> array;
  std::map<std::string, Json> object;

  const Json& operator[](const std::string& key) const {
    auto it = object.find(key);
    if (kind != Kind::kObject || it == object.end()) {
      throw std::runtime_error("JSON: no member " + key);
    }
    return it->second;
  }
  bool Has(const std::string& key) const {
    return kind == Kind::kObject && object.count(key) != 0;
  }
  const std::string& Str() const {
    if (kind != Kind::kString) throw std::runtime_error("JSON: not a string");
    return string;
  }
  long Int() const {
    if (kind != Kind::kNumber) throw std::runtime_error("JSON: not a number");
    return static_cast<long>(number);
  }
};

class JsonReader {
 public:
  explicit JsonReader(const std::string& text) : text_(text) {}

  Json ReadDocument() {
    Json value = ReadValue();
    SkipSpace();
    if (pos_ != text_.size()) Fail("trailing data");
    return value;
  }

 private:
  [[noreturn]] void Fail(const std::string& what) {
    throw std::runtime_error("JSON: " + what + " at offset " +
                             std::to_string(pos_));
  }
  void SkipSpace() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\n' || text_[pos_] == '\r' ||
            text_[pos_] == '\t')) {
      ++pos_;
    }
  }
  char Peek() {
    SkipSpace();
    if (pos_ >= text_.size()) Fail("unexpected end");
    return text_[pos_];
  }
  void Expect(char c) {
    if (Peek() != c) Fail(std::string("expected ") + c);
    ++pos_;
  }
  bool Literal(const char* word) {
    const std::string w(word);
    if (text_.compare(pos_, w.size(), w) != 0) return false;
    pos_ += w.size();
    return true;
  }

  Json ReadValue() {
    Json value;
    const char c = Peek();
    if (c == '{') {
      value.kind = Json::Kind::kObject;
      ++pos_;
      if (Peek() == '}') {
        ++pos_;
        return value;
      }
      for (;;) {
        Json key = ReadValue();
        if (key.kind != Json::Kind::kString) Fail("object key");
        Expect(':');
        value.object[key.string] = ReadValue();
        if (Peek() == ',') {
          ++pos_;
          continue;
        }
        Expect('}');
        return value;
      }
    }
    if (c == '[') {
      value.kind = Json::Kind::kArray;
      ++pos_;
      if (Peek() == ']') {
        ++pos_;
        return value;
      }
      for (;;) {
        value.array.push_back(ReadValue());
        if (Peek() == ',') {
          ++pos_;
          continue;
        }
        Expect(']');
        return value;
      }
    }
    if (c == '"') {
      value.kind = Json::Kind::kString;
      ++pos_;
      for (;;) {
        if (pos_ >= text_.size()) Fail("unterminated string");
        const char ch = text_[pos_++];
        if (ch == '"') return value;
        if (ch != '\\') {
          value.string.push_back(ch);
          continue;
        }
        if (pos_ >= text_.size()) Fail("bad escape");
        const char esc = text_[pos_++];
        switch (esc) {
          case '"': case '\\': case '/': value.string.push_back(esc); break;
          case 'n': value.string.push_back('\n'); break;
          case 't': value.string.push_back('\t'); break;
          case 'r': value.string.push_back('\r'); break;
          case 'b': value.string.push_back('\b'); break;
          case 'f': value.string.push_back('\f'); break;
          case 'u': {  // ASCII only is enough here; others become '?'
            if (pos_ + 4 > text_.size()) Fail("bad \\u");
            const long code = std::strtol(text_.substr(pos_, 4).c_str(),
                                          nullptr, 16);
            pos_ += 4;
            value.string.push_back(code < 0x80 ? static_cast<char>(code) : '?');
            break;
          }
          default: Fail("bad escape");
        }
      }
    }
    if (Literal("true")) {
      value.kind = Json::Kind::kBool;
      value.boolean = true;
      return value;
    }
    if (Literal("false")) {
      value.kind = Json::Kind::kBool;
      return value;
    }
    if (Literal("null")) return value;
    const char* start = text_.c_str() + pos_;
    char* end = nullptr;
    value.number = std::strtod(start, &end);
    if (end == start) Fail("unexpected character");
    value.kind = Json::Kind::kNumber;
    pos_ += static_cast<size_t>(end - start);
    return value;
  }

  const std::string& text_;
  size_t pos_ = 0;
};

// $TIPLINE_VECTORS_DIR, else the folder CMake computed
// (<project>/tests/native/vectors).
inline std::string VectorsDir() {
  if (const char* env = std::getenv("TIPLINE_VECTORS_DIR"); env && *env) {
    return env;
  }
#ifdef TIPLINE_VECTORS_DIR
  return TIPLINE_VECTORS_DIR;
#else
  return "tests/native/vectors";
#endif
}

// Reads <vectors>/wycheproof/<name>. Throws (so the test fails, never
// skips) when the file is missing or malformed.
inline Json LoadWycheproof(const std::string& name) {
  const std::string path = VectorsDir() + "/wycheproof/" + name;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw std::runtime_error("missing test vectors: " + path +
                             " (set TIPLINE_VECTORS_DIR)");
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  return JsonReader(text).ReadDocument();
}

inline std::string Hex(const std::string& hex) {
  if (hex.size() % 2 != 0) throw std::runtime_error("odd hex length");
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    out.push_back(static_cast<char>(
        std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

}  // namespace tipline::testing

#endif  // TIPLINE_TESTS_NATIVE_WYCHEPROOF_H_
