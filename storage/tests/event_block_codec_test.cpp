// The block codec (event_block_codec.h): the correction type (8) does not fit the tag's 3 type
// bits, so it extends the tag; the events of files written before it must still read.
#include <gtest/gtest.h>

#include <string>

#include "event_block_codec.h"

namespace oee::storage {
namespace {

Event decode_one(const std::string& bytes, std::int64_t& src_id) {
  BlockReader r(bytes);
  Event e = r.event(src_id);
  EXPECT_TRUE(r.done());
  return e;
}

}  // namespace

// Bytes as the earlier codec wrote them (tag = type | counter << 3): a reject counter reading of
// 300 under a rollover of 1000, and a run's start.
TEST(EventBlockCodec, OlderBlocksStillRead) {
  // tag 2 | 2 << 3 = 18; ts 5 -> zigzag 10; src 1 -> 2; seq 7 -> 14; value 300 -> 600 (varint d8 04);
  // rollover 1000 -> 2000 (d0 0f).
  const std::string counter_bytes("\x12\x0a\x02\x0e\xd8\x04\xd0\x0f", 8);
  std::int64_t src = 0;
  const Event c = decode_one(counter_bytes, src);
  EXPECT_EQ(c.type, EventType::counter);
  EXPECT_EQ(c.counter, CounterName::reject);
  EXPECT_EQ(c.ts, 5);
  EXPECT_EQ(src, 1);
  EXPECT_EQ(c.seq, 7);
  EXPECT_EQ(c.value, 300);
  EXPECT_EQ(c.rollover, 1000);
  // tag 7 (run); ts 5; src 0; seq -1 -> 1; start (0); "WO-1"; "cap"; quantity 10 -> 20; cycle 0.
  const std::string run_bytes("\x07\x0a\x00\x01\x00\x04WO-1\x03" "cap\x14\x00", 16);
  const Event r = decode_one(run_bytes, src);
  EXPECT_EQ(r.type, EventType::run);
  EXPECT_EQ(r.run_action, RunAction::start);
  EXPECT_EQ(r.run, "WO-1");
  EXPECT_EQ(r.product, "cap");
  EXPECT_EQ(r.quantity, 10);
  // What the codec writes today for the same events is those very bytes.
  BlockWriter w;
  w.event(c, 1);
  EXPECT_EQ(w.bytes(), counter_bytes);
}

TEST(EventBlockCodec, CorrectionsRoundTrip) {
  Event e;
  e.ts = 1'700'000'000'000;
  e.type = EventType::correction;
  e.correction = CorrectionKind::void_reading;
  e.counter = CounterName::good;
  e.at = 1'690'000'000'000;
  e.until = 0;
  e.by = "sam";
  e.why = "a glitch of the PLC";
  BlockWriter w;
  w.event(e, 3);
  Event reclass = e;
  reclass.correction = CorrectionKind::reclassify;
  reclass.counter = CounterName::total;
  reclass.until = e.at + 60'000;
  reclass.state = "planned_stop";
  reclass.reason = "maintenance";
  w.event(reclass, 0);
  BlockReader r(w.bytes());
  std::int64_t src = 0;
  EXPECT_EQ(r.event(src), e);
  EXPECT_EQ(src, 3);
  EXPECT_EQ(r.event(src), reclass);
  EXPECT_TRUE(r.done());
}

TEST(EventBlockCodec, UnknownTypesAndKindsAreRefused) {
  std::int64_t src = 0;
  // Type 9 (tag 1 | 1 << 5) does not exist; nor counter 3; nor correction kind 3.
  EXPECT_THROW(decode_one(std::string("\x21\x00\x00\x01", 4), src), std::runtime_error);
  EXPECT_THROW(decode_one(std::string("\x1a\x00\x00\x01\x00\x00", 6), src), std::runtime_error);
  EXPECT_THROW(decode_one(std::string("\x20\x00\x00\x01\x03", 5), src), std::runtime_error);
}

}  // namespace oee::storage
