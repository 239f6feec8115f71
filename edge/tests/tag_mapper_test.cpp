#include "oee/edge/tag_mapper.h"

#include <gtest/gtest.h>

#include "oee/edge/event_source.h"
#include "oee/edge/queue_publisher.h"

using namespace oee;
using namespace oee::edge;

namespace {

MachineSpec filler() {
  MachineSpec m;
  m.id = "filler";
  m.path = "s1/a1/l1/filler";
  m.state_map = {{"1", State::running}, {"2", State::stopped}, {"3", State::setup}};
  return m;
}

TagConfig tag(SignalKind kind, std::string name = {}) {
  TagConfig t;
  t.machine = "s1/a1/l1/filler";
  t.signal = kind;
  t.signal_name = std::move(name);
  return t;
}

}  // namespace

TEST(TagMapper, StateMapsRawValuesAndEmitsOnChangeOnly) {
  const auto m = filler();
  const auto t = tag(SignalKind::state);
  TagMapper mapper(t, m);
  Event e;
  ASSERT_TRUE(mapper.on_number(1, 1000, e));
  EXPECT_EQ(e.type, EventType::state);
  EXPECT_EQ(e.state, "running");
  EXPECT_EQ(e.machine, "s1/a1/l1/filler");
  EXPECT_EQ(e.ts, 1000);
  EXPECT_FALSE(mapper.on_number(1, 1500, e));
  ASSERT_TRUE(mapper.on_number(2, 2000, e));
  EXPECT_EQ(e.state, "stopped");
  ASSERT_TRUE(mapper.on_number(7, 2500, e));
  EXPECT_EQ(e.state, "7");  // unmapped raw value goes on raw: the server dead-letters it
  ASSERT_TRUE(mapper.on_text("setup", 3000, e));
  EXPECT_EQ(e.state, "setup");
}

TEST(TagMapper, CounterCarriesRolloverAndCountAddsIncrements) {
  const auto m = filler();
  auto t = tag(SignalKind::counter, "reject");
  t.rollover = 65536;
  TagMapper counter(t, m);
  Event e;
  ASSERT_TRUE(counter.on_number(65530, 1, e));
  EXPECT_EQ(e.type, EventType::counter);
  EXPECT_EQ(e.counter, CounterName::reject);
  EXPECT_EQ(e.value, 65530);
  EXPECT_EQ(e.rollover, 65536);
  EXPECT_FALSE(counter.on_number(65530, 2, e));
  ASSERT_TRUE(counter.on_number(4, 3, e));
  EXPECT_EQ(e.value, 4);

  // A scaled counter (a register counting tens of parts): its wrap is scaled with it, so a wrap of
  // 65530 -> 4 in raw units is 10 parts for each of the 10 raw steps.
  auto tens = tag(SignalKind::counter, "total");
  tens.rollover = 65536;
  tens.scale = 10;
  TagMapper scaled(tens, m);
  ASSERT_TRUE(scaled.on_number(65530, 1, e));
  const std::int64_t before = e.value;
  ASSERT_TRUE(scaled.on_number(4, 2, e));
  EXPECT_EQ(e.rollover, 655360);
  EXPECT_EQ(e.value + e.rollover - before, 100);

  auto c = tag(SignalKind::count, "good");
  c.scale = 2;
  TagMapper count(c, m);
  ASSERT_TRUE(count.on_number(5, 1, e));
  EXPECT_EQ(e.type, EventType::count);
  EXPECT_EQ(e.good, 10);
  EXPECT_EQ(e.reject, 0);
  EXPECT_FALSE(count.on_number(0, 2, e));
}

TEST(TagMapper, ProductAndSample) {
  const auto m = filler();
  const auto p = tag(SignalKind::product);
  TagMapper product(p, m);
  Event e;
  ASSERT_TRUE(product.on_number(42, 1, e));
  EXPECT_EQ(e.type, EventType::product);
  EXPECT_EQ(e.product, "42");
  const auto s = tag(SignalKind::sample, "temperature");
  TagMapper sample(s, m);
  ASSERT_TRUE(sample.on_number(21.5, 1, e));
  EXPECT_EQ(e.type, EventType::sample);
  EXPECT_EQ(e.sample_name, "temperature");
  EXPECT_EQ(e.sample_value, 21.5);
  EXPECT_EQ(sample.last_number(), 21.5);
  EXPECT_FALSE(sample.on_number(21.5, 2, e));  // unchanged: no new sample
  ASSERT_TRUE(sample.on_number(-3.25, 3, e));
  EXPECT_EQ(e.sample_value, -3.25);
}

// Issue 15: a stop reason tag (PackML Admin.StopReason.ID) names the stop in progress; 0 is none.
TEST(TagMapper, ReasonNamesTheStopAtItsTimeAndZeroIsNone) {
  const auto m = filler();
  const auto r = tag(SignalKind::reason);
  TagMapper reason(r, m);
  Event e;
  EXPECT_FALSE(reason.on_number(0, 1, e));
  ASSERT_TRUE(reason.on_number(17, 2000, e));
  EXPECT_EQ(e.type, EventType::reason);
  EXPECT_EQ(e.reason, "17");
  EXPECT_EQ(e.at, 2000);
  EXPECT_EQ(e.machine, "s1/a1/l1/filler");
  EXPECT_FALSE(reason.on_number(17, 2500, e));  // unchanged: the same stop
  EXPECT_FALSE(reason.on_number(0, 3000, e));
  ASSERT_TRUE(reason.on_text("jam", 4000, e));
  EXPECT_EQ(e.reason, "jam");
  EXPECT_EQ(e.at, 4000);
}

TEST(ModbusDecoding, FormatsByteAndWordOrder) {
  TagConfig t;
  std::uint16_t regs[2] = {0x1234, 0x5678};
  t.format = ValueFormat::uint16;
  EXPECT_EQ(decode_registers(t, regs), 0x1234);
  t.byte_order_big = false;
  EXPECT_EQ(decode_registers(t, regs), 0x3412);
  t.byte_order_big = true;
  t.format = ValueFormat::uint32;
  EXPECT_EQ(decode_registers(t, regs), 0x12345678);
  t.word_order_big = false;
  EXPECT_EQ(decode_registers(t, regs), 0x56781234);
  t.format = ValueFormat::int16;
  std::uint16_t neg[2] = {0xfffe, 0};
  EXPECT_EQ(decode_registers(t, neg), -2);
  t.format = ValueFormat::int32;
  t.word_order_big = true;
  std::uint16_t neg32[2] = {0xffff, 0xfffd};
  EXPECT_EQ(decode_registers(t, neg32), -3);
  t.format = ValueFormat::float32;
  std::uint16_t f[2] = {0x4049, 0x0fdb};  // 3.14159274 big-endian words
  EXPECT_FLOAT_EQ(static_cast<float>(decode_registers(t, f)), 3.14159274f);
  t.area = RegisterArea::coil;
  std::uint16_t bit[1] = {1};
  EXPECT_EQ(decode_registers(t, bit), 1.0);
}

TEST(QueueRecordFormat, SplicesSourceSeqAndHistorical) {
  const std::string rec = make_queue_record("s1/a1/l1/filler", R"({"ts":"2026-01-01T00:00:00Z","type":"state","state":"running"})");
  EXPECT_EQ(rec.substr(0, 16), "s1/a1/l1/filler\t");
  std::string out;
  append_published_event(out, rec.substr(16), "edge-1", 42, "", true);
  EXPECT_EQ(out, R"({"src":"edge-1","seq":42,"historical":true,"ts":"2026-01-01T00:00:00Z","type":"state","state":"running"})");
  EXPECT_EQ(events_topic("s1/a1/l1/filler"), "oee/v1/s1/a1/l1/filler/events");
  EXPECT_EQ(status_topic("edge-1"), "oee/v1/_edge/edge-1/status");
}
