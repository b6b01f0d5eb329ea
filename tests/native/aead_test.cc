// AES-256-GCM (internal seam with explicit IVs) and FieldCipher (the public
// AEAD): known answers, Wycheproof, format, and the tamper loop.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "internal/aes_gcm.h"
#include "tipline/ciphertext_format.h"
#include "tipline/field_cipher.h"
#include "tipline/keyset.h"
#include "wycheproof.h"

namespace tipline {
namespace {

using internal::AesGcm256;
using testing::Hex;

std::unique_ptr<AesGcm256> MakeAead(const std::string& key) {
  Result<std::unique_ptr<AesGcm256>> aead =
      AesGcm256::Create(SecretBytes::CopyFrom(key));
  EXPECT_TRUE(aead.ok()) << aead.status().ToString();
  return aead.ok() ? std::move(aead).value() : nullptr;
}

// ciphertext ‖ tag under an explicit IV.
std::string SealWithIv(const AesGcm256& aead, const std::string& iv,
                       const std::string& plaintext, const std::string& aad) {
  std::string out(plaintext.size() + internal::kAesGcmTagSize, '\0');
  auto* bytes = reinterpret_cast<uint8_t*>(out.data());
  EXPECT_TRUE(aead.Seal(reinterpret_cast<const uint8_t*>(iv.data()), plaintext,
                        aad, bytes, bytes + plaintext.size())
                  .ok());
  return out;
}

// The plaintext, or nullopt-like "failed" flag.
bool OpenWithIv(const AesGcm256& aead, const std::string& iv,
                const std::string& ciphertext, const std::string& tag,
                const std::string& aad, std::string* plaintext) {
  plaintext->assign(ciphertext.size(), '\0');
  const Status status =
      aead.Open(reinterpret_cast<const uint8_t*>(iv.data()), ciphertext,
                reinterpret_cast<const uint8_t*>(tag.data()), aad,
                reinterpret_cast<uint8_t*>(plaintext->data()));
  if (!status.ok()) {
    EXPECT_EQ(status.code(), StatusCode::kDecryptionFailed);
    EXPECT_EQ(*plaintext, std::string(ciphertext.size(), '\0'))
        << "output is zeroed on failure";
  }
  return status.ok();
}

struct KnownAnswer {
  const char* key;
  const char* iv;
  const char* plaintext;
  const char* aad;
  const char* ciphertext;
  const char* tag;
};

// The GCM specification (McGrew & Viega, "The Galois/Counter Mode of
// Operation"), test cases 13-16: the 256-bit-key, 96-bit-IV ones.
constexpr KnownAnswer kGcmSpecVectors[] = {
    {"0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "", "", "",
     "530f8afbc74536b9a963b4f1c4cb738b"},
    {"0000000000000000000000000000000000000000000000000000000000000000",
     "000000000000000000000000", "00000000000000000000000000000000", "",
     "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"},
    {"feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
     "",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
     "b094dac5d93471bdec1a502270e3cc6c"},
    {"feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
     "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
     "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b"},
};

TEST(AesGcmTest, GcmSpecKnownAnswers) {
  for (const KnownAnswer& v : kGcmSpecVectors) {
    auto aead = MakeAead(Hex(v.key));
    ASSERT_NE(aead, nullptr);
    const std::string sealed =
        SealWithIv(*aead, Hex(v.iv), Hex(v.plaintext), Hex(v.aad));
    EXPECT_EQ(sealed, Hex(v.ciphertext) + Hex(v.tag));
    std::string plaintext;
    EXPECT_TRUE(OpenWithIv(*aead, Hex(v.iv), Hex(v.ciphertext), Hex(v.tag),
                           Hex(v.aad), &plaintext));
    EXPECT_EQ(plaintext, Hex(v.plaintext));
  }
}

TEST(AesGcmTest, RejectsKeysThatAreNot32Bytes) {
  for (size_t size : {0, 16, 24, 31, 33}) {
    auto aead = AesGcm256::Create(SecretBytes(size));
    EXPECT_EQ(aead.status().code(), StatusCode::kInvalidArgument) << size;
  }
}

TEST(AesGcmTest, WycheproofAes256Iv96Tag128) {
  const testing::Json doc = testing::LoadWycheproof("aes_gcm_test.json");
  size_t valid = 0, invalid = 0;
  for (const testing::Json& group : doc["testGroups"].array) {
    if (group["keySize"].Int() != 256 || group["ivSize"].Int() != 96 ||
        group["tagSize"].Int() != 128) {
      continue;  // AES-128/192, other IV sizes: not this primitive
    }
    for (const testing::Json& test : group["tests"].array) {
      SCOPED_TRACE("tcId " + std::to_string(test["tcId"].Int()) + " " +
                   test["comment"].Str());
      auto aead = MakeAead(Hex(test["key"].Str()));
      ASSERT_NE(aead, nullptr);
      const std::string iv = Hex(test["iv"].Str());
      const std::string msg = Hex(test["msg"].Str());
      const std::string aad = Hex(test["aad"].Str());
      const std::string ct = Hex(test["ct"].Str());
      const std::string tag = Hex(test["tag"].Str());
      std::string opened;
      const bool open_ok = OpenWithIv(*aead, iv, ct, tag, aad, &opened);
      if (test["result"].Str() == "valid") {
        ++valid;
        EXPECT_EQ(SealWithIv(*aead, iv, msg, aad), ct + tag);
        EXPECT_TRUE(open_ok);
        EXPECT_EQ(opened, msg);
      } else {
        ++invalid;
        EXPECT_FALSE(open_ok);
      }
    }
  }
  // 66 in the pinned revision (40 valid, 26 invalid): all must have run.
  EXPECT_GE(valid, 30u);
  EXPECT_GE(invalid, 20u);
}

class FieldCipherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::shared_ptr<Keyset>> keyset = Keyset::Generate();
    ASSERT_TRUE(keyset.ok());
    keyset_ = std::move(keyset).value();
    cipher_ = std::make_unique<FieldCipher>(keyset_);
  }

  std::string Encrypt(const std::string& plaintext, const std::string& aad) {
    Result<std::string> ciphertext = cipher_->Encrypt(plaintext, aad);
    EXPECT_TRUE(ciphertext.ok()) << ciphertext.status().ToString();
    return ciphertext.ok() ? ciphertext.value() : std::string();
  }

  void ExpectDecryptionFails(const std::string& ciphertext,
                             const std::string& aad) {
    Result<std::string> plaintext = cipher_->Decrypt(ciphertext, aad);
    ASSERT_FALSE(plaintext.ok());
    EXPECT_EQ(plaintext.status().code(), StatusCode::kDecryptionFailed);
    EXPECT_EQ(plaintext.status().message(), "decryption failed");
  }

  std::shared_ptr<Keyset> keyset_;
  std::unique_ptr<FieldCipher> cipher_;
};

const std::string kAad = "tipline.report|description|42";

TEST_F(FieldCipherTest, RoundTrip) {
  for (size_t size : {0, 1, 15, 16, 17, 1024, 100000}) {
    const std::string plaintext(size, 'x');
    Result<std::string> decrypted =
        cipher_->Decrypt(Encrypt(plaintext, kAad), kAad);
    ASSERT_TRUE(decrypted.ok()) << size;
    EXPECT_EQ(decrypted.value(), plaintext);
  }
}

TEST_F(FieldCipherTest, CiphertextHasTheDocumentedFormat) {
  const std::string ciphertext = Encrypt("hello", kAad);
  ASSERT_EQ(ciphertext.size(), 5 + kCiphertextOverhead);
  EXPECT_EQ(kCiphertextOverhead, 33u);
  EXPECT_EQ(static_cast<uint8_t>(ciphertext[0]), 0x01);
  EXPECT_EQ(ciphertext.substr(1, 4), std::string("\0\0\0\1", 4));  // key 1
  ASSERT_TRUE(keyset_->Rotate().ok());
  const std::string rotated = Encrypt("hello", kAad);
  EXPECT_EQ(ReadCiphertextKeyId(reinterpret_cast<const uint8_t*>(
                rotated.data())),
            2u);
}

TEST_F(FieldCipherTest, FreshIvEveryTime) {
  std::set<std::string> ivs, ciphertexts;
  for (int i = 0; i < 1000; ++i) {
    const std::string ciphertext = Encrypt("same", kAad);
    EXPECT_TRUE(ivs.insert(ciphertext.substr(kCiphertextIvOffset,
                                             kCiphertextIvSize))
                    .second);
    EXPECT_TRUE(ciphertexts.insert(ciphertext).second);
  }
}

TEST_F(FieldCipherTest, AssociatedDataIsRequired) {
  Result<std::string> ciphertext = cipher_->Encrypt("x", "");
  EXPECT_EQ(ciphertext.status().code(), StatusCode::kInvalidArgument);
  // A ciphertext can never be opened with empty associated data either.
  ExpectDecryptionFails(Encrypt("x", kAad), "");
}

TEST_F(FieldCipherTest, DecryptFailsWhenAssociatedDataDiffers) {
  const std::string ciphertext = Encrypt("secret", kAad);
  ExpectDecryptionFails(ciphertext, "tipline.report|description|43");
  ExpectDecryptionFails(ciphertext, kAad + "x");
  ExpectDecryptionFails(ciphertext, kAad.substr(0, kAad.size() - 1));
}

TEST_F(FieldCipherTest, TamperLoopEveryBitAndEveryLength) {
  const std::string plaintext = "a report about someone, 42 bytes long....";
  const std::string ciphertext = Encrypt(plaintext, kAad);
  for (size_t bit = 0; bit < ciphertext.size() * 8; ++bit) {
    std::string tampered = ciphertext;
    tampered[bit / 8] = static_cast<char>(tampered[bit / 8] ^ (1 << (bit % 8)));
    SCOPED_TRACE("ciphertext bit " + std::to_string(bit));
    ExpectDecryptionFails(tampered, kAad);
  }
  for (size_t bit = 0; bit < kAad.size() * 8; ++bit) {
    std::string aad = kAad;
    aad[bit / 8] = static_cast<char>(aad[bit / 8] ^ (1 << (bit % 8)));
    SCOPED_TRACE("associated data bit " + std::to_string(bit));
    ExpectDecryptionFails(ciphertext, aad);
  }
  for (size_t length = 0; length < ciphertext.size(); ++length) {
    SCOPED_TRACE("truncated to " + std::to_string(length));
    ExpectDecryptionFails(ciphertext.substr(0, length), kAad);
  }
  ExpectDecryptionFails(ciphertext + '\0', kAad);
  // And the untouched one still decrypts.
  EXPECT_EQ(cipher_->Decrypt(ciphertext, kAad).value(), plaintext);
}

TEST_F(FieldCipherTest, DecryptIntoZeroesOutputOnFailure) {
  std::string ciphertext = Encrypt("sixteen bytes!!!", kAad);
  ciphertext.back() ^= 1;
  std::string out(16, '\x55');
  const Status status = cipher_->DecryptInto(
      ciphertext, kAad, reinterpret_cast<uint8_t*>(out.data()), out.size());
  EXPECT_EQ(status.code(), StatusCode::kDecryptionFailed);
  EXPECT_EQ(out, std::string(16, '\0'));
}

TEST_F(FieldCipherTest, IntoVariantsCheckBufferSizes) {
  std::string out(10, '\0');
  EXPECT_EQ(cipher_->EncryptInto("abc", kAad,
                                 reinterpret_cast<uint8_t*>(out.data()),
                                 out.size())
                .code(),
            StatusCode::kInvalidArgument);
  const std::string ciphertext = Encrypt("abc", kAad);
  EXPECT_EQ(cipher_->DecryptInto(ciphertext, kAad,
                                 reinterpret_cast<uint8_t*>(out.data()),
                                 out.size())
                .code(),
            StatusCode::kDecryptionFailed);
}

TEST_F(FieldCipherTest, OtherKeysetCannotDecrypt) {
  auto other = Keyset::Generate();
  ASSERT_TRUE(other.ok());
  FieldCipher other_cipher(other.value());
  // Same key id 1, different key material.
  Result<std::string> result =
      other_cipher.Decrypt(Encrypt("secret", kAad), kAad);
  EXPECT_EQ(result.status().code(), StatusCode::kDecryptionFailed);
}

TEST_F(FieldCipherTest, ConcurrentUseWhileRotating) {
  std::atomic<bool> failed{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const std::string aad = kAad + std::to_string(t);
      for (int i = 0; i < 2000; ++i) {
        const std::string plaintext(static_cast<size_t>(i % 300), 'a' + t);
        Result<std::string> ciphertext = cipher_->Encrypt(plaintext, aad);
        if (!ciphertext.ok()) {
          failed = true;
          return;
        }
        Result<std::string> decrypted = cipher_->Decrypt(ciphertext.value(), aad);
        if (!decrypted.ok() || decrypted.value() != plaintext) failed = true;
      }
    });
  }
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(keyset_->Rotate().ok());
  for (auto& thread : threads) thread.join();
  EXPECT_FALSE(failed);
}

}  // namespace
}  // namespace tipline
