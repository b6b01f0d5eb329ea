#include "tipline/audit_chain.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tipline {
namespace {

std::string Hex(const uint8_t* data, size_t size) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < size; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 0xF]);
  }
  return out;
}
std::string Hex(const AuditHash& hash) { return Hex(hash.data(), hash.size()); }
std::string Hex(const std::string& bytes) {
  return Hex(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

// The fixed two-event chain whose hashes are pinned below (and, identically,
// in tests/binding/test_audit_chain.py).
AuditEvent GoldenEvent1() {
  return {42, 1, 1767225600000000, "", "state",
          {{"to", "submitted"}, {"from", "draft"}}};
}
AuditEvent GoldenEvent2() {
  return {42,
          2,
          1767229200123456,
          "moderator.ana",
          "reveal",
          {{"reason", "Risque imminent \u2014 \u5371\u9669"},
           {"field", "reporter_email"}}};
}

struct Chain {
  std::vector<AuditEvent> events;
  std::vector<AuditHash> hashes;
};

// Re-links events[from..] after an edit, as a forger who can write the whole
// table would.
void Relink(Chain* chain, int64_t report_id, size_t from = 0) {
  chain->hashes.resize(chain->events.size());
  for (size_t i = from; i < chain->events.size(); ++i) {
    const AuditHash prev =
        i == 0 ? AuditGenesis(report_id).value() : chain->hashes[i - 1];
    chain->hashes[i] = LinkHash(prev, chain->events[i]).value();
  }
}

Chain MakeChain(int64_t report_id, size_t length) {
  static const char* const kKinds[] = {"state",  "assign", "message",
                                       "reveal", "export", "appeal"};
  Chain chain;
  for (size_t i = 0; i < length; ++i) {
    AuditEvent event;
    event.report_id = report_id;
    event.sequence = static_cast<int64_t>(i + 1);
    event.timestamp_us = 1767225600000000 + static_cast<int64_t>(i) * 1000003;
    event.actor = i % 3 == 0 ? "" : "user" + std::to_string(i);
    event.kind = kKinds[i % 6];
    event.details = {{"note", "event " + std::to_string(i)},
                     {"a", std::string(i, 'x')}};
    chain.events.push_back(std::move(event));
  }
  Relink(&chain, report_id);
  return chain;
}

std::optional<size_t> Verify(int64_t report_id, const Chain& chain) {
  Result<std::optional<size_t>> result =
      VerifyChain(report_id, chain.events, chain.hashes);
  EXPECT_TRUE(result.ok()) << result.status().ToString();
  return result.ok() ? result.value() : std::optional<size_t>(SIZE_MAX);
}

void ExpectInvalid(const AuditEvent& event) {
  Result<AuditHash> link = LinkHash(AuditHash{}, event);
  ASSERT_FALSE(link.ok());
  EXPECT_EQ(link.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(EncodeAuditEvent(event).ok());
}

TEST(AuditChainTest, GenesisIsTheDocumentedHash) {
  // SHA-256("tipline audit v1" || 00 00 00 00 00 00 00 2a)
  EXPECT_EQ(Hex(AuditGenesis(42).value()),
            "c463237763dffca061e262cb438a3f48db9bf9e9d77a6573efd9c5ab3f1124ec");
  EXPECT_NE(AuditGenesis(1).value(), AuditGenesis(2).value());
}

TEST(AuditChainTest, GoldenEncodingAndChain) {
  EXPECT_EQ(Hex(EncodeAuditEvent(GoldenEvent1()).value()),
            "01"                                // version
            "000000000000002a"                  // report id 42
            "0000000000000001"                  // sequence 1
            "0006474846204000"                  // 2026-01-01T00:00:00Z
            "00000000"                          // actor ""
            "00000005" "7374617465"             // kind "state"
            "00000002"                          // two details, sorted:
            "00000004" "66726f6d" "00000005" "6472616674"  // from: draft
            "00000002" "746f" "00000009" "7375626d6974746564");  // to
  const AuditHash link1 =
      LinkHash(AuditGenesis(42).value(), GoldenEvent1()).value();
  const AuditHash link2 = LinkHash(link1, GoldenEvent2()).value();
  EXPECT_EQ(Hex(link1),
            "d075318ba282fbb3d3669231039f31ef31e87ce439ade3aa2ebbd5d206f47483");
  EXPECT_EQ(Hex(link2),
            "d5ecedfe7f6aab6093b1a1f6e3dfd231167247a026d48b04da9e782b103c0f72");
  EXPECT_EQ(VerifyChain(42, {GoldenEvent1(), GoldenEvent2()}, {link1, link2})
                .value(),
            std::nullopt);
}

TEST(AuditChainTest, DetailOrderDoesNotMatter) {
  AuditEvent event = GoldenEvent2();
  const std::string encoding = EncodeAuditEvent(event).value();
  std::swap(event.details[0], event.details[1]);
  EXPECT_EQ(EncodeAuditEvent(event).value(), encoding);
}

TEST(AuditChainTest, TimestampIsTwosComplement) {
  AuditEvent event = GoldenEvent1();
  event.timestamp_us = -1;
  EXPECT_EQ(Hex(EncodeAuditEvent(event).value()).substr(34, 16),
            "ffffffffffffffff");
  event.timestamp_us = INT64_MIN;
  EXPECT_EQ(Hex(EncodeAuditEvent(event).value()).substr(34, 16),
            "8000000000000000");
}

TEST(AuditChainTest, LinkDependsOnThePreviousHash) {
  AuditHash other = AuditGenesis(42).value();
  other[31] ^= 1;
  EXPECT_NE(LinkHash(other, GoldenEvent1()).value(),
            LinkHash(AuditGenesis(42).value(), GoldenEvent1()).value());
}

TEST(AuditChainTest, EmptyChainIsIntact) {
  EXPECT_EQ(VerifyChain(1, {}, {}).value(), std::nullopt);
}

TEST(AuditChainTest, IntactChainVerifies) {
  for (size_t length : {1u, 2u, 7u, 100u}) {
    EXPECT_EQ(Verify(9, MakeChain(9, length)), std::nullopt) << length;
  }
}

TEST(AuditChainTest, EditingAnyFieldOfAnyEventBreaksThatLink) {
  const std::vector<std::pair<const char*, std::function<void(AuditEvent*)>>>
      kEdits = {
          {"report_id", [](AuditEvent* e) { e->report_id += 1; }},
          {"sequence", [](AuditEvent* e) { e->sequence += 1; }},
          {"timestamp", [](AuditEvent* e) { e->timestamp_us += 1; }},
          {"actor", [](AuditEvent* e) { e->actor += "x"; }},
          {"actor replaced", [](AuditEvent* e) { e->actor = "mallory"; }},
          {"kind",
           [](AuditEvent* e) {
             e->kind = e->kind == "export" ? "appeal" : "export";
           }},
          {"detail key", [](AuditEvent* e) { e->details[0].first = "nota"; }},
          {"detail value", [](AuditEvent* e) { e->details[0].second += " "; }},
          {"detail added", [](AuditEvent* e) { e->details.push_back({"z", ""}); }},
          {"detail removed", [](AuditEvent* e) { e->details.pop_back(); }},
          // Moving bytes between adjacent fields must not keep the hash.
          {"key/value boundary",
           [](AuditEvent* e) {
             std::string& value = e->details[0].second;  // "event <i>"
             e->details[0].first += value.substr(0, 1);
             value.erase(0, 1);
           }},
      };
  const Chain chain = MakeChain(5, 6);
  for (size_t i = 0; i < chain.events.size(); ++i) {
    for (const auto& [name, edit] : kEdits) {
      Chain tampered = chain;
      edit(&tampered.events[i]);
      EXPECT_EQ(Verify(5, tampered), std::optional<size_t>(i))
          << name << " of event " << i;
    }
  }
}

TEST(AuditChainTest, FlippingAnyBitOfAnyStoredHashBreaksThatLink) {
  const Chain chain = MakeChain(5, 4);
  for (size_t i = 0; i < chain.hashes.size(); ++i) {
    for (size_t bit = 0; bit < kAuditHashSize * 8; ++bit) {
      Chain tampered = chain;
      tampered.hashes[i][bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
      ASSERT_EQ(Verify(5, tampered), std::optional<size_t>(i))
          << "hash " << i << " bit " << bit;
    }
  }
}

TEST(AuditChainTest, RelinkedEditIsCaughtByTheNextStoredHash) {
  // A forger who rewrites one event and its hash, but not the rest.
  Chain chain = MakeChain(5, 5);
  chain.events[2].actor = "mallory";
  chain.hashes[2] = LinkHash(chain.hashes[1], chain.events[2]).value();
  EXPECT_EQ(Verify(5, chain), std::optional<size_t>(3));
}

TEST(AuditChainTest, ReorderGapAndDuplicateAreFound) {
  const Chain chain = MakeChain(5, 6);
  for (size_t i = 0; i + 1 < chain.events.size(); ++i) {
    Chain swapped = chain;
    std::swap(swapped.events[i], swapped.events[i + 1]);
    std::swap(swapped.hashes[i], swapped.hashes[i + 1]);
    EXPECT_EQ(Verify(5, swapped), std::optional<size_t>(i)) << "swap " << i;

    Chain gap = chain;
    gap.events.erase(gap.events.begin() + static_cast<ptrdiff_t>(i));
    gap.hashes.erase(gap.hashes.begin() + static_cast<ptrdiff_t>(i));
    EXPECT_EQ(Verify(5, gap), std::optional<size_t>(i)) << "gap " << i;

    Chain duplicate = chain;
    duplicate.events.insert(
        duplicate.events.begin() + static_cast<ptrdiff_t>(i + 1),
        chain.events[i]);
    duplicate.hashes.insert(
        duplicate.hashes.begin() + static_cast<ptrdiff_t>(i + 1),
        chain.hashes[i]);
    EXPECT_EQ(Verify(5, duplicate), std::optional<size_t>(i + 1))
        << "duplicate " << i;
  }
}

TEST(AuditChainTest, SequenceGapIsFoundEvenWhenRelinked) {
  Chain chain = MakeChain(5, 4);
  chain.events.erase(chain.events.begin() + 1);
  for (size_t i = 1; i < chain.events.size(); ++i) {
    chain.events[i].sequence = static_cast<int64_t>(i + 2);  // 1, 3, 4
  }
  Relink(&chain, 5);
  EXPECT_EQ(Verify(5, chain), std::optional<size_t>(1));
}

TEST(AuditChainTest, TruncationIsInvisibleWithoutAnAnchor) {
  // Documented limit: the caller compares the head with a stored anchor.
  Chain chain = MakeChain(5, 4);
  const AuditHash head = chain.hashes.back();
  chain.events.pop_back();
  chain.hashes.pop_back();
  EXPECT_EQ(Verify(5, chain), std::nullopt);
  EXPECT_NE(chain.hashes.back(), head);
}

TEST(AuditChainTest, ChainOfAnotherReportFailsAtItsFirstLink) {
  const Chain chain = MakeChain(7, 3);
  EXPECT_EQ(Verify(8, chain), std::optional<size_t>(0));

  // Even with every event's report id rewritten, the genesis differs.
  Chain moved = chain;
  for (AuditEvent& event : moved.events) event.report_id = 8;
  AuditHash prev = AuditGenesis(7).value();
  for (size_t i = 0; i < moved.events.size(); ++i) {
    moved.hashes[i] = LinkHash(prev, moved.events[i]).value();
    prev = moved.hashes[i];
  }
  EXPECT_EQ(Verify(8, moved), std::optional<size_t>(0));

  // An event of another report spliced in the middle.
  Chain spliced = chain;
  spliced.events[1].report_id = 70;
  Relink(&spliced, 7, 1);
  EXPECT_EQ(Verify(7, spliced), std::optional<size_t>(1));
}

TEST(AuditChainTest, UnencodableStoredEventIsABrokenLink) {
  Chain chain = MakeChain(5, 4);
  chain.events[2].actor = "\xC0\xAF";  // overlong '/'
  EXPECT_EQ(Verify(5, chain), std::optional<size_t>(2));
  chain = MakeChain(5, 4);
  chain.events[3].details.push_back(chain.events[3].details[0]);  // duplicate
  EXPECT_EQ(Verify(5, chain), std::optional<size_t>(3));
}

TEST(AuditChainTest, VerifyRejectsBadArguments) {
  const Chain chain = MakeChain(5, 3);
  Result<std::optional<size_t>> result =
      VerifyChain(5, chain.events, {chain.hashes[0], chain.hashes[1]});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  for (int64_t bad_id : {int64_t{0}, int64_t{-5}, INT64_MIN}) {
    result = VerifyChain(bad_id, {}, {});
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
    EXPECT_FALSE(AuditGenesis(bad_id).ok());
  }
}

TEST(AuditChainTest, RejectsInvalidFields) {
  const AuditEvent base = GoldenEvent2();
  const std::vector<std::function<void(AuditEvent*)>> kBreaks = {
      [](AuditEvent* e) { e->report_id = 0; },
      [](AuditEvent* e) { e->report_id = -1; },
      [](AuditEvent* e) { e->sequence = 0; },
      [](AuditEvent* e) { e->sequence = INT64_MIN; },
      [](AuditEvent* e) { e->kind = ""; },
      [](AuditEvent* e) { e->kind = "State"; },
      [](AuditEvent* e) { e->kind = "state change"; },
      [](AuditEvent* e) { e->kind = std::string(kMaxAuditKindSize + 1, 'k'); },
      [](AuditEvent* e) { e->actor = std::string(kMaxAuditActorSize + 1, 'a'); },
      [](AuditEvent* e) { e->actor = "ana\xFF"; },
      [](AuditEvent* e) { e->actor = "\xED\xA0\x80"; },  // surrogate
      [](AuditEvent* e) { e->actor = "\xE2\x82"; },      // truncated
      [](AuditEvent* e) { e->details.push_back({"", "v"}); },
      [](AuditEvent* e) { e->details.push_back({"field", "again"}); },
      [](AuditEvent* e) { e->details.push_back({"k\x80", "v"}); },
      [](AuditEvent* e) { e->details.push_back({"k", "v\xF5"}); },
      [](AuditEvent* e) {
        e->details.push_back({std::string(kMaxAuditDetailKeySize + 1, 'k'), ""});
      },
      [](AuditEvent* e) {
        e->details.push_back(
            {"big", std::string(kMaxAuditDetailValueSize + 1, 'v')});
      },
      [](AuditEvent* e) {
        e->details.clear();
        for (size_t i = 0; i <= kMaxAuditDetails; ++i) {
          e->details.push_back({"k" + std::to_string(i), ""});
        }
      },
  };
  for (size_t i = 0; i < kBreaks.size(); ++i) {
    AuditEvent event = base;
    kBreaks[i](&event);
    SCOPED_TRACE(i);
    ExpectInvalid(event);
  }
}

TEST(AuditChainTest, AcceptsFieldsAtTheirLimits) {
  AuditEvent event = GoldenEvent1();
  event.actor = std::string(kMaxAuditActorSize, 'a');
  event.kind = std::string(kMaxAuditKindSize - 2, 'z') + "_.";
  event.timestamp_us = INT64_MAX;
  event.sequence = INT64_MAX;
  event.report_id = INT64_MAX;
  event.details = {{std::string(kMaxAuditDetailKeySize, 'k'),
                    std::string(kMaxAuditDetailValueSize, 'v')},
                   {"\xF4\x8F\xBF\xBF", "\xEF\xBF\xBF"}};  // U+10FFFF, U+FFFF
  EXPECT_TRUE(LinkHash(AuditHash{}, event).ok());
  event.details.clear();
  for (size_t i = 0; i < kMaxAuditDetails; ++i) {
    event.details.push_back({"k" + std::to_string(i), "v"});
  }
  EXPECT_TRUE(LinkHash(AuditHash{}, event).ok());
}

TEST(AuditChainTest, BigDetailsUpToOneMebibyte) {
  // 15 values of 64 KiB fit in 1 MiB; a 16th does not.
  Chain chain;
  AuditEvent event = GoldenEvent1();
  event.details.clear();
  for (int i = 0; i < 15; ++i) {
    event.details.push_back({"part" + std::to_string(i),
                             std::string(kMaxAuditDetailValueSize, 'a' + i)});
  }
  ASSERT_LE(EncodeAuditEvent(event).value().size(), kMaxAuditEventEncodingSize);
  chain.events.push_back(event);
  AuditEvent second = event;
  second.sequence = 2;
  second.details[14].second.back() = '!';
  chain.events.push_back(second);
  Relink(&chain, 42);
  EXPECT_EQ(Verify(42, chain), std::nullopt);
  chain.events[1].details[14].second.back() = '?';
  EXPECT_EQ(Verify(42, chain), std::optional<size_t>(1));

  event.details.push_back({"part15", std::string(kMaxAuditDetailValueSize, 'p')});
  ExpectInvalid(event);
}

TEST(AuditChainTest, LongChainNamesTheLastLink) {
  Chain chain = MakeChain(3, 5000);
  EXPECT_EQ(Verify(3, chain), std::nullopt);
  chain.events.back().timestamp_us -= 1;
  EXPECT_EQ(Verify(3, chain), std::optional<size_t>(4999));
}

}  // namespace
}  // namespace tipline
