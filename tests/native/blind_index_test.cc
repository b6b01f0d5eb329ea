// HMAC-SHA256 / HKDF-SHA256 against Wycheproof, and the blind index built on
// them.
#include "tipline/blind_index.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "internal/hmac_hkdf.h"
#include "tipline/master_key.h"
#include "wycheproof.h"

namespace tipline {
namespace {

using testing::Hex;

std::string Hmac(const std::string& key, const std::string& message) {
  std::string out(internal::kSha256Size, '\0');
  EXPECT_TRUE(internal::HmacSha256(key, {message},
                                   reinterpret_cast<uint8_t*>(out.data()))
                  .ok());
  return out;
}

TEST(HmacSha256Test, Rfc4231Case2) {
  EXPECT_EQ(Hmac("Jefe", "what do ya want for nothing?"),
            Hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec"
                "3843"));
}

TEST(HmacSha256Test, MessagePartsAreConcatenated) {
  std::string joined(internal::kSha256Size, '\0');
  ASSERT_TRUE(internal::HmacSha256("k", {"ab", "", "c"},
                                   reinterpret_cast<uint8_t*>(joined.data()))
                  .ok());
  EXPECT_EQ(joined, Hmac("k", "abc"));
  EXPECT_EQ(Hmac("", "x").size(), 32u);  // empty keys work
}

TEST(HmacSha256Test, Wycheproof) {
  const testing::Json doc = testing::LoadWycheproof("hmac_sha256_test.json");
  size_t valid = 0, invalid = 0;
  for (const testing::Json& group : doc["testGroups"].array) {
    const size_t tag_bytes = static_cast<size_t>(group["tagSize"].Int()) / 8;
    for (const testing::Json& test : group["tests"].array) {
      SCOPED_TRACE("tcId " + std::to_string(test["tcId"].Int()));
      const std::string tag =
          Hmac(Hex(test["key"].Str()), Hex(test["msg"].Str()))
              .substr(0, tag_bytes);
      const bool matches =
          internal::ConstantTimeEquals(tag, Hex(test["tag"].Str()));
      if (test["result"].Str() == "valid") {
        ++valid;
        EXPECT_TRUE(matches);
      } else {
        ++invalid;
        EXPECT_FALSE(matches);
      }
    }
  }
  EXPECT_EQ(valid + invalid, static_cast<size_t>(doc["numberOfTests"].Int()));
  EXPECT_GT(invalid, 0u);
}

TEST(HkdfSha256Test, Wycheproof) {
  const testing::Json doc = testing::LoadWycheproof("hkdf_sha256_test.json");
  size_t valid = 0, invalid = 0;
  for (const testing::Json& group : doc["testGroups"].array) {
    for (const testing::Json& test : group["tests"].array) {
      SCOPED_TRACE("tcId " + std::to_string(test["tcId"].Int()));
      const size_t size = static_cast<size_t>(test["size"].Int());
      std::string okm(size, '\0');
      const Status status = internal::HkdfSha256(
          Hex(test["ikm"].Str()), Hex(test["salt"].Str()),
          Hex(test["info"].Str()), reinterpret_cast<uint8_t*>(okm.data()),
          okm.size());
      if (test["result"].Str() == "valid") {
        ++valid;
        ASSERT_TRUE(status.ok()) << status.ToString();
        EXPECT_EQ(okm, Hex(test["okm"].Str()));
      } else {
        ++invalid;  // output size above 255 * 32
        EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
      }
    }
  }
  EXPECT_EQ(valid + invalid, static_cast<size_t>(doc["numberOfTests"].Int()));
  EXPECT_GT(invalid, 0u);
}

TEST(ConstantTimeEqualsTest, ComparesContentAndSize) {
  EXPECT_TRUE(internal::ConstantTimeEquals("", ""));
  EXPECT_TRUE(internal::ConstantTimeEquals("abc", "abc"));
  EXPECT_FALSE(internal::ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(internal::ConstantTimeEquals("abc", "ab"));
}

class BlindIndexTest : public ::testing::Test {
 protected:
  SecretBytes master_ = ParseMasterKey(std::string(64, '7')).value();
  BlindIndexer indexer_ = BlindIndexer::Create(master_).value();
};

TEST_F(BlindIndexTest, IsTheDocumentedConstruction) {
  std::string key(32, '\0');
  ASSERT_TRUE(internal::HkdfSha256(
                  std::string(reinterpret_cast<const char*>(
                                  master_.RevealSecretBytes()),
                              32),
                  "", "tipline blind index v1",
                  reinterpret_cast<uint8_t*>(key.data()), key.size())
                  .ok());
  EXPECT_EQ(indexer_.Index("reporter", "alice@example.org").value(),
            Hmac(key, std::string("\0\0\0\x08", 4) + "reporter" +
                          "alice@example.org"));
}

TEST_F(BlindIndexTest, DeterministicKeyedAndDomainSeparated) {
  const std::string a = indexer_.Index("reporter", "alice").value();
  EXPECT_EQ(a.size(), kBlindIndexSize);
  EXPECT_EQ(indexer_.Index("reporter", "alice").value(), a);
  EXPECT_NE(indexer_.Index("reporter", "alicf").value(), a);
  EXPECT_NE(indexer_.Index("subject", "alice").value(), a);
  // The length prefix keeps purpose and value apart.
  EXPECT_NE(indexer_.Index("ab", "c").value(), indexer_.Index("a", "bc").value());
  const SecretBytes other_master = NewMasterKey().value();
  EXPECT_NE(BlindIndexer::Create(other_master).value().Index("reporter", "alice").value(),
            a);
  EXPECT_TRUE(indexer_.Index("reporter", "").ok());
}

TEST_F(BlindIndexTest, RejectsBadPurposeAndMasterKey) {
  EXPECT_EQ(indexer_.Index("", "x").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(indexer_.Index(std::string(257, 'p'), "x").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(indexer_.Index(std::string(256, 'p'), "x").ok());
  EXPECT_EQ(BlindIndexer::Create(SecretBytes(16)).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(BlindIndexTest, AKeptIndexKeyIndexesAsTheMasterKeyDid) {
  // What survives a master-key epoch: the derived key, not the master key.
  BlindIndexer kept =
      BlindIndexer::FromKey(BlindIndexer::DeriveKey(master_).value()).value();
  EXPECT_EQ(kept.Index("reporter", "alice").value(),
            indexer_.Index("reporter", "alice").value());
  EXPECT_EQ(BlindIndexer::FromKey(SecretBytes(31)).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(BlindIndexer::DeriveKey(SecretBytes(16)).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tipline
