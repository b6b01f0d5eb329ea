// Keyset life cycle, rotation seen through FieldCipher, wrapped form.
#include "tipline/keyset.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tipline/field_cipher.h"
#include "tipline/master_key.h"

namespace tipline {
namespace {

const std::string kAad = "tipline.report|reporter_email|7";

std::shared_ptr<Keyset> NewKeyset() {
  Result<std::shared_ptr<Keyset>> keyset = Keyset::Generate();
  EXPECT_TRUE(keyset.ok());
  return keyset.value();
}

SecretBytes NewMaster() { return NewMasterKey().value(); }

TEST(KeysetTest, GenerateHasOnePrimaryKey) {
  auto keyset = NewKeyset();
  EXPECT_EQ(keyset->key_ids(), std::vector<uint32_t>{1});
  EXPECT_EQ(keyset->primary_id(), 1u);
  EXPECT_EQ(keyset->key_status(1).value(), KeyStatus::kEnabled);
}

TEST(KeysetTest, RotateAddsAPrimaryAndOldCiphertextsStillDecrypt) {
  auto keyset = NewKeyset();
  FieldCipher cipher(keyset);
  const std::string old_ciphertext = cipher.Encrypt("old", kAad).value();
  Result<uint32_t> id = keyset->Rotate();
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id.value(), 2u);
  EXPECT_EQ(keyset->primary_id(), 2u);
  EXPECT_EQ(keyset->key_ids(), (std::vector<uint32_t>{1, 2}));
  const std::string new_ciphertext = cipher.Encrypt("new", kAad).value();
  EXPECT_EQ(new_ciphertext[4], '\2');
  EXPECT_EQ(cipher.Decrypt(old_ciphertext, kAad).value(), "old");
  EXPECT_EQ(cipher.Decrypt(new_ciphertext, kAad).value(), "new");
}

TEST(KeysetTest, AddKeyThenSetPrimary) {
  auto keyset = NewKeyset();
  const uint32_t id = keyset->AddKey().value();
  EXPECT_EQ(keyset->primary_id(), 1u);
  ASSERT_TRUE(keyset->SetPrimary(id).ok());
  EXPECT_EQ(keyset->primary_id(), id);
  EXPECT_EQ(keyset->SetPrimary(99).code(), StatusCode::kNotFound);
}

TEST(KeysetTest, PrimaryCannotBeDisabledOrDestroyed) {
  auto keyset = NewKeyset();
  EXPECT_EQ(keyset->Disable(1).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(keyset->Destroy(1).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(keyset->key_status(1).value(), KeyStatus::kEnabled);
}

TEST(KeysetTest, DestroyRequiresDisableFirst) {
  auto keyset = NewKeyset();
  ASSERT_TRUE(keyset->Rotate().ok());
  EXPECT_EQ(keyset->Destroy(1).code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(keyset->Disable(1).ok());
  ASSERT_TRUE(keyset->Disable(1).ok());  // idempotent
  ASSERT_TRUE(keyset->Destroy(1).ok());
  EXPECT_EQ(keyset->key_ids(), std::vector<uint32_t>{2});
  EXPECT_EQ(keyset->key_status(1).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(keyset->Destroy(1).code(), StatusCode::kNotFound);
  EXPECT_EQ(keyset->Enable(1).code(), StatusCode::kNotFound);
}

TEST(KeysetTest, DisabledKeyNeitherDecryptsNorBecomesPrimaryUntilEnabled) {
  auto keyset = NewKeyset();
  FieldCipher cipher(keyset);
  const std::string ciphertext = cipher.Encrypt("x", kAad).value();
  ASSERT_TRUE(keyset->Rotate().ok());
  ASSERT_TRUE(keyset->Disable(1).ok());
  EXPECT_EQ(cipher.Decrypt(ciphertext, kAad).status().code(),
            StatusCode::kDecryptionFailed);
  EXPECT_EQ(keyset->SetPrimary(1).code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(keyset->Enable(1).ok());
  EXPECT_EQ(cipher.Decrypt(ciphertext, kAad).value(), "x");
  ASSERT_TRUE(keyset->SetPrimary(1).ok());
}

TEST(KeysetTest, DestroyedKeyGivesDecryptionFailedForever) {
  auto keyset = NewKeyset();
  FieldCipher cipher(keyset);
  const std::string ciphertext = cipher.Encrypt("gone", kAad).value();
  ASSERT_TRUE(keyset->Rotate().ok());
  ASSERT_TRUE(keyset->Disable(1).ok());
  ASSERT_TRUE(keyset->Destroy(1).ok());
  Result<std::string> result = cipher.Decrypt(ciphertext, kAad);
  EXPECT_EQ(result.status().code(), StatusCode::kDecryptionFailed);
  EXPECT_EQ(result.status().message(), "decryption failed");
}

TEST(KeysetTest, IdsAreNeverReused) {
  auto keyset = NewKeyset();
  ASSERT_EQ(keyset->Rotate().value(), 2u);
  ASSERT_TRUE(keyset->Disable(1).ok());
  ASSERT_TRUE(keyset->Destroy(1).ok());
  EXPECT_EQ(keyset->AddKey().value(), 3u);
  const uint32_t added = keyset->AddKey().value();
  ASSERT_TRUE(keyset->Disable(added).ok());
  ASSERT_TRUE(keyset->Destroy(added).ok());
  EXPECT_EQ(keyset->Rotate().value(), added + 1);
}

TEST(KeysetTest, WrappedRoundTripKeepsKeysStatusesAndIds) {
  auto keyset = NewKeyset();
  FieldCipher cipher(keyset);
  const std::string c1 = cipher.Encrypt("one", kAad).value();
  ASSERT_TRUE(keyset->Rotate().ok());
  const std::string c2 = cipher.Encrypt("two", kAad).value();
  ASSERT_TRUE(keyset->Rotate().ok());
  ASSERT_TRUE(keyset->Disable(2).ok());
  const SecretBytes master = NewMaster();
  const std::string wrapped = keyset->ToWrapped(master).value();
  EXPECT_EQ(wrapped.substr(0, 5), std::string("TLKS\x01", 5));
  EXPECT_EQ(wrapped.size(), 5u + 12 + 12 + 3 * 38 + 16);

  auto restored = Keyset::FromWrapped(wrapped, master);
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(restored.value()->key_ids(), (std::vector<uint32_t>{1, 2, 3}));
  EXPECT_EQ(restored.value()->primary_id(), 3u);
  EXPECT_EQ(restored.value()->key_status(2).value(), KeyStatus::kDisabled);
  FieldCipher restored_cipher(restored.value());
  EXPECT_EQ(restored_cipher.Decrypt(c1, kAad).value(), "one");
  EXPECT_EQ(restored_cipher.Decrypt(c2, kAad).status().code(),
            StatusCode::kDecryptionFailed);  // key 2 is disabled
  EXPECT_EQ(restored.value()->AddKey().value(), 4u);
  // Wrapping uses a fresh IV: two wraps differ.
  EXPECT_NE(keyset->ToWrapped(master).value(), wrapped);
}

TEST(KeysetTest, WrongMasterKeyFails) {
  auto keyset = NewKeyset();
  const std::string wrapped = keyset->ToWrapped(NewMaster()).value();
  auto restored = Keyset::FromWrapped(wrapped, NewMaster());
  EXPECT_EQ(restored.status().code(), StatusCode::kDecryptionFailed);
  EXPECT_EQ(Keyset::FromWrapped(wrapped, SecretBytes(16)).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(keyset->ToWrapped(SecretBytes(31)).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(KeysetTest, WrappedTamperLoop) {
  auto keyset = NewKeyset();
  const SecretBytes master = NewMaster();
  const std::string wrapped = keyset->ToWrapped(master).value();
  for (size_t bit = 0; bit < wrapped.size() * 8; ++bit) {
    std::string tampered = wrapped;
    tampered[bit / 8] = static_cast<char>(tampered[bit / 8] ^ (1 << (bit % 8)));
    EXPECT_EQ(Keyset::FromWrapped(tampered, master).status().code(),
              StatusCode::kDecryptionFailed)
        << "bit " << bit;
  }
  for (size_t length = 0; length < wrapped.size(); ++length) {
    EXPECT_FALSE(Keyset::FromWrapped(wrapped.substr(0, length), master).ok())
        << "length " << length;
  }
}

TEST(KeysetTest, KeyStatusNames) {
  EXPECT_STREQ(KeyStatusName(KeyStatus::kEnabled), "enabled");
  EXPECT_STREQ(KeyStatusName(KeyStatus::kDisabled), "disabled");
}

}  // namespace
}  // namespace tipline
