// A record's data key: wrapping under the keyset, its ciphertexts apart from
// the keyset's, rewrapping across rotation, and the tamper loop.
#include "tipline/data_key.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "tipline/field_cipher.h"
#include "tipline/keyset.h"

namespace tipline {
namespace {

using namespace std::string_literals;

const std::string kWrapAad = "tipline\0tipline.report\0data_key\0007"s;
const std::string kAad = "tipline\0tipline.report\0description\0007"s;

struct Fixture {
  std::shared_ptr<Keyset> keyset = Keyset::Generate().value();
  FieldCipher cipher{keyset};
  std::unique_ptr<DataKey> key = DataKey::Generate().value();
};

TEST(DataKeyTest, RoundTripThroughTheWrappedForm) {
  Fixture f;
  const std::string wrapped = f.key->Wrap(f.cipher, kWrapAad).value();
  EXPECT_EQ(wrapped.size(), DataKey::kWrappedSize);
  const std::string ciphertext = f.key->Encrypt("the report", kAad).value();
  auto unwrapped = DataKey::Unwrap(f.cipher, wrapped, kWrapAad);
  ASSERT_TRUE(unwrapped.ok());
  EXPECT_EQ(unwrapped.value()->Decrypt(ciphertext, kAad).value(),
            "the report");
}

TEST(DataKeyTest, CiphertextsCarryKeyIdZero) {
  Fixture f;
  const std::string ciphertext = f.key->Encrypt("x", kAad).value();
  ASSERT_EQ(ciphertext.size(), 1 + kCiphertextOverhead);
  uint32_t key_id = 99;
  ASSERT_TRUE(ParseCiphertextPrefix(
      reinterpret_cast<const uint8_t*>(ciphertext.data()), ciphertext.size(),
      &key_id));
  EXPECT_EQ(key_id, kDataKeyId);
}

TEST(DataKeyTest, NeverDecryptsUnderTheKeysetNorTheOtherWay) {
  Fixture f;
  const std::string under_data_key = f.key->Encrypt("x", kAad).value();
  const std::string under_keyset = f.cipher.Encrypt("x", kAad).value();
  EXPECT_EQ(f.cipher.Decrypt(under_data_key, kAad).status().code(),
            StatusCode::kDecryptionFailed);
  EXPECT_EQ(f.key->Decrypt(under_keyset, kAad).status().code(),
            StatusCode::kDecryptionFailed);
}

TEST(DataKeyTest, AnotherRecordsKeyDoesNotDecrypt) {
  Fixture f;
  auto other = DataKey::Generate().value();
  const std::string ciphertext = f.key->Encrypt("x", kAad).value();
  EXPECT_EQ(other->Decrypt(ciphertext, kAad).status().code(),
            StatusCode::kDecryptionFailed);
}

TEST(DataKeyTest, UnwrapFailsForAnotherRecordOrADestroyedKeysetKey) {
  Fixture f;
  const std::string wrapped = f.key->Wrap(f.cipher, kWrapAad).value();
  EXPECT_EQ(DataKey::Unwrap(f.cipher, wrapped, kWrapAad + "8")
                .status()
                .code(),
            StatusCode::kDecryptionFailed);
  ASSERT_TRUE(f.keyset->Rotate().ok());
  ASSERT_TRUE(f.keyset->Disable(1).ok());
  ASSERT_TRUE(f.keyset->Destroy(1).ok());
  EXPECT_EQ(DataKey::Unwrap(f.cipher, wrapped, kWrapAad).status().code(),
            StatusCode::kDecryptionFailed);
}

TEST(DataKeyTest, RewrapMovesTheKeyToTheNewPrimary) {
  Fixture f;
  const std::string wrapped = f.key->Wrap(f.cipher, kWrapAad).value();
  const std::string ciphertext = f.key->Encrypt("kept", kAad).value();
  ASSERT_TRUE(f.keyset->Rotate().ok());
  const std::string rewrapped =
      DataKey::Rewrap(f.cipher, wrapped, kWrapAad).value();
  EXPECT_EQ(rewrapped[4], '\2');  // key id 2 in the prefix
  ASSERT_TRUE(f.keyset->Disable(1).ok());
  ASSERT_TRUE(f.keyset->Destroy(1).ok());
  auto key = DataKey::Unwrap(f.cipher, rewrapped, kWrapAad).value();
  // The values are untouched, and still read.
  EXPECT_EQ(key->Decrypt(ciphertext, kAad).value(), "kept");
}

TEST(DataKeyTest, TamperLoop) {
  Fixture f;
  const std::string ciphertext = f.key->Encrypt("tamper me", kAad).value();
  for (size_t i = 0; i < ciphertext.size() * 8; ++i) {
    std::string changed = ciphertext;
    changed[i / 8] = static_cast<char>(changed[i / 8] ^ (1 << (i % 8)));
    EXPECT_FALSE(f.key->Decrypt(changed, kAad).ok()) << "bit " << i;
  }
  for (size_t i = 0; i < kAad.size() * 8; ++i) {
    std::string aad = kAad;
    aad[i / 8] = static_cast<char>(aad[i / 8] ^ (1 << (i % 8)));
    EXPECT_FALSE(f.key->Decrypt(ciphertext, aad).ok()) << "aad bit " << i;
  }
  for (size_t size = 0; size < ciphertext.size(); ++size) {
    EXPECT_FALSE(f.key->Decrypt(ciphertext.substr(0, size), kAad).ok());
  }
  const std::string wrapped = f.key->Wrap(f.cipher, kWrapAad).value();
  for (size_t i = 0; i < wrapped.size() * 8; ++i) {
    std::string changed = wrapped;
    changed[i / 8] = static_cast<char>(changed[i / 8] ^ (1 << (i % 8)));
    EXPECT_FALSE(DataKey::Unwrap(f.cipher, changed, kWrapAad).ok())
        << "wrapped bit " << i;
  }
}

TEST(DataKeyTest, EmptyAssociatedDataIsRefused) {
  Fixture f;
  EXPECT_EQ(f.key->Encrypt("x", "").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(f.key->Wrap(f.cipher, "").status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tipline
