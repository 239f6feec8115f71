#include <gtest/gtest.h>

#include "oee/codec/event_json.h"

namespace oee::codec {

TEST(EventJson, ParsesEveryTypeOfTheContract) {
  std::vector<Event> events;
  std::vector<RejectedEvent> rejected;
  std::string error;
  ASSERT_TRUE(parse_event_batch(R"([
    {"ts":"2026-11-10T06:00:00Z","machine":"s1/a1/l1/filler","type":"state","state":"stopped","reason":"jam","src":"e1","seq":7},
    {"ts":1762754400000,"machine":"s1/a1/l1/filler","type":"count","good":10,"reject":1},
    {"ts":"2026-11-10T06:00:01.250+01:00","machine":"m","type":"counter","name":"total","value":123456,"rollover":1048576},
    {"ts":"2026-11-10T06:00:02Z","machine":"m","type":"product","product":"bottle-05"},
    {"ts":"2026-11-10T06:00:03Z","machine":"m","type":"reason","reason":"jam","at":"2026-11-10T06:00:00Z"},
    {"ts":"2026-11-10T06:00:04Z","machine":"m","type":"state","state":2,"unknown_field":{"x":[1,2]}}
  ])", events, rejected, error)) << error;
  ASSERT_TRUE(rejected.empty()) << rejected[0].reason;
  ASSERT_EQ(events.size(), 6u);
  EXPECT_EQ(events[0].state, "stopped");
  EXPECT_EQ(events[0].reason, "jam");
  EXPECT_EQ(events[0].src, "e1");
  EXPECT_EQ(events[0].seq, 7);
  EXPECT_EQ(events[1].ts, 1762754400000);
  EXPECT_EQ(events[1].good, 10);
  EXPECT_EQ(events[2].counter, CounterName::total);
  EXPECT_EQ(events[2].ts, *parse_timestamp("2026-11-10T05:00:01.250Z"));
  EXPECT_EQ(events[2].rollover, 1048576);
  EXPECT_EQ(events[3].product, "bottle-05");
  EXPECT_EQ(events[4].at, *parse_timestamp("2026-11-10T06:00:00Z"));
  EXPECT_EQ(events[5].state, "2");
}

TEST(EventJson, RejectsInvalidElementsWithReasonsAndKeepsTheOthers) {
  std::vector<Event> events;
  std::vector<RejectedEvent> rejected;
  std::string error;
  ASSERT_TRUE(parse_event_batch(R"([
    {"ts":"yesterday","type":"state","state":"running"},
    {"ts":"2026-11-10T06:00:00Z","type":"state","state":"running"},
    {"ts":"2026-11-10T06:00:00Z","type":"count","good":-1},
    {"ts":"2026-11-10T06:00:00Z","type":"counter","name":"speed","value":1},
    {"ts":"2026-11-10T06:00:00Z","type":"flow"},
    {"ts":"2026-11-10T06:00:00Z","type":"state","state":"running","src":"e"},
    42,
    {"ts":"2026-11-10T06:00:00Z","type":"counter","name":"total","value":70000,"rollover":65536}
  ])", events, rejected, error, "s/a/l/m"));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].machine, "s/a/l/m");  // from the topic
  ASSERT_EQ(rejected.size(), 7u);
  EXPECT_EQ(rejected[0].reason, "event 0: field 'ts': not an RFC 3339 timestamp");
  EXPECT_EQ(rejected[1].reason, "event 2: field 'good': must not be negative");
  EXPECT_EQ(rejected[2].reason, "event 3: field 'name': must be total, good or reject");
  EXPECT_EQ(rejected[3].reason, "event 4: field 'type': must be state, count, counter, product, reason, sample, heartbeat or run");
  EXPECT_EQ(rejected[4].reason, "event 5: field 'seq': src and seq go together");
  EXPECT_EQ(rejected[5].reason, "event 6: not a JSON object");
  EXPECT_EQ(rejected[6].reason, "event 7: field 'value': not below rollover");
}

TEST(EventJson, RejectsUnreadablePayloadsAsAWhole) {
  std::vector<Event> events;
  std::vector<RejectedEvent> rejected;
  std::string error;
  EXPECT_FALSE(parse_event_batch("[{\"ts\":", events, rejected, error));
  EXPECT_NE(error.find("invalid JSON"), std::string::npos);
  EXPECT_FALSE(parse_event_batch("\"just a string\"", events, rejected, error));
  EXPECT_FALSE(parse_event_batch(std::string(kMaxMessageBytes + 1, ' '), events, rejected, error));
  EXPECT_EQ(error, "payload larger than 16 MiB");
  Event e;
  EXPECT_FALSE(parse_event(R"({"ts":"2026-11-10T06:00:00Z","type":"state","state":"running"})", e, error));
  EXPECT_EQ(error, "field 'machine': missing");
  EXPECT_FALSE(parse_event(R"({"ts":"2026-11-10T06:00:00Z","machine":"m","type":"product","product":")" +
                               std::string(300, 'x') + "\"}", e, error));
  EXPECT_EQ(error, "field 'product': longer than 256 bytes");
  EXPECT_TRUE(events.empty());
}

TEST(EventJson, RoundTrips) {
  Event e;
  e.ts = *parse_timestamp("2026-03-29T01:30:00.007Z");
  e.machine = "s1/a1/l1/\"quoted\"\\m";
  e.type = EventType::reason;
  e.reason = "line\nbreak";
  e.at = e.ts - 5000;
  e.src = "edge-1";
  e.seq = 99;
  Event back;
  std::string error;
  ASSERT_TRUE(parse_event(event_to_json(e), back, error)) << error;
  EXPECT_EQ(back, e);
  std::vector<Event> list{e, e};
  list[1].machine = "other";
  std::vector<Event> parsed;
  std::vector<RejectedEvent> rejected;
  ASSERT_TRUE(parse_event_batch(events_to_json_array(list, false), parsed, rejected, error, "s/a/l/m"));
  ASSERT_EQ(parsed.size(), 2u);
  EXPECT_EQ(parsed[1].machine, "s/a/l/m");
}

TEST(EventJson, SamplesCarryANameAndAnyFiniteNumberAndRoundTrip) {
  std::vector<Event> events;
  std::vector<RejectedEvent> rejected;
  std::string error;
  ASSERT_TRUE(parse_event_batch(R"([
    {"ts":"2026-11-10T06:00:00Z","machine":"m","type":"sample","name":"temperature","value":21.5,"src":"e1","seq":1},
    {"ts":"2026-11-10T06:00:01Z","machine":"m","type":"sample","name":"pressure","value":-3},
    {"ts":"2026-11-10T06:00:02Z","machine":"m","type":"sample","name":"x","value":0.1,"product":"ignored","good":5},
    {"ts":"2026-11-10T06:00:03Z","machine":"m","type":"sample","value":1},
    {"ts":"2026-11-10T06:00:04Z","machine":"m","type":"sample","name":"t"},
    {"ts":"2026-11-10T06:00:05Z","machine":"m","type":"sample","name":"t","value":"hot"},
    {"ts":"2026-11-10T06:00:06Z","machine":"m","type":"counter","name":"total","value":-1}
  ])", events, rejected, error)) << error;
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].type, EventType::sample);
  EXPECT_EQ(events[0].sample_name, "temperature");
  EXPECT_EQ(events[0].sample_value, 21.5);
  EXPECT_EQ(events[1].sample_value, -3.0);
  EXPECT_TRUE(events[2].product.empty());  // only what the type says
  EXPECT_EQ(events[2].good, 0);
  ASSERT_EQ(rejected.size(), 4u);
  EXPECT_NE(rejected[0].reason.find("'name': missing"), std::string::npos) << rejected[0].reason;
  EXPECT_NE(rejected[1].reason.find("'value': missing"), std::string::npos) << rejected[1].reason;
  EXPECT_NE(rejected[2].reason.find("'value': must be a finite number"), std::string::npos) << rejected[2].reason;
  EXPECT_NE(rejected[3].reason.find("'value': must not be negative"), std::string::npos) << rejected[3].reason;
  for (const Event& e : events) {  // the shortest text that reads back as the same double
    Event back;
    ASSERT_TRUE(parse_event(event_to_json(e), back, error)) << error;
    EXPECT_EQ(back, e) << event_to_json(e);
  }
  EXPECT_NE(event_to_json(events[2]).find("\"value\":0.1"), std::string::npos) << event_to_json(events[2]);
  EXPECT_NE(content_fingerprint(events[0]), content_fingerprint(events[1]));
}

TEST(EventJson, HeartbeatsAreASignOfLifeOnlyAndRoundTrip) {
  std::vector<Event> events;
  std::vector<RejectedEvent> rejected;
  std::string error;
  ASSERT_TRUE(parse_event_batch(R"([
    {"ts":"2026-11-10T06:00:00Z","machine":"m","type":"heartbeat","src":"e1","seq":7},
    {"ts":"2026-11-10T06:00:10Z","machine":"m","type":"heartbeat","state":"running","good":5,"product":"p"}
  ])", events, rejected, error)) << error;
  ASSERT_EQ(events.size(), 2u);
  EXPECT_TRUE(rejected.empty());
  EXPECT_EQ(events[0].type, EventType::heartbeat);
  EXPECT_EQ(events[0].seq, 7);
  EXPECT_TRUE(events[1].state.empty());  // only what the type says: nothing
  EXPECT_EQ(events[1].good, 0);
  EXPECT_TRUE(events[1].product.empty());
  EXPECT_EQ(event_to_json(events[1], false), R"({"ts":"2026-11-10T06:00:10Z","type":"heartbeat"})");
  for (const Event& e : events) {
    Event back;
    ASSERT_TRUE(parse_event(event_to_json(e), back, error)) << error;
    EXPECT_EQ(back, e) << event_to_json(e);
  }
  EXPECT_NE(content_fingerprint(events[0]), content_fingerprint(events[1]));  // distinct instants
}

}  // namespace oee::codec

namespace oee::codec {

// Counts and counter values above 2^40 are rejected with the field and the bound; 2^40 itself and
// a 32-bit PLC word's rollover pass. Negative ones are rejected as before.
TEST(EventJson, CountsAndCountersBeyondTheirBoundsAreRejectedWithTheReason) {
  std::vector<Event> events;
  std::vector<RejectedEvent> rejected;
  std::string error;
  ASSERT_TRUE(parse_event_batch(R"([
    {"ts":1,"type":"count","good":1099511627777},
    {"ts":1,"type":"count","good":1,"reject":1099511627777},
    {"ts":1,"type":"counter","name":"good","value":1099511627777},
    {"ts":1,"type":"counter","name":"good","value":5,"rollover":1099511627777},
    {"ts":1,"type":"counter","name":"total","value":9223372036854775807},
    {"ts":1,"type":"counter","name":"total","value":-3},
    {"ts":1,"type":"count","good":1099511627776,"reject":1099511627776},
    {"ts":1,"type":"counter","name":"reject","value":1099511627776},
    {"ts":1,"type":"counter","name":"total","value":4294967295,"rollover":4294967296}
  ])", events, rejected, error, "s/a/l/m")) << error;
  ASSERT_EQ(rejected.size(), 6u);
  EXPECT_EQ(rejected[0].reason, "event 0: field 'good': above 2^40 (1099511627776)");
  EXPECT_EQ(rejected[1].reason, "event 1: field 'reject': above 2^40 (1099511627776)");
  EXPECT_EQ(rejected[2].reason, "event 2: field 'value': above 2^40 (1099511627776)");
  EXPECT_EQ(rejected[3].reason, "event 3: field 'rollover': above 2^40 (1099511627776)");
  EXPECT_EQ(rejected[4].reason, "event 4: field 'value': above 2^40 (1099511627776)");
  EXPECT_EQ(rejected[5].reason, "event 5: field 'value': must not be negative");
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].good, std::int64_t{1} << 40);
  EXPECT_EQ(events[1].value, std::int64_t{1} << 40);
  EXPECT_EQ(events[2].rollover, std::int64_t{1} << 32);
}

}  // namespace oee::codec

namespace oee::codec {

// Run events (work orders): start with product and quantity (and an optional cycle override), end
// with the order id only; malformed ones rejected with the field and the reason; both round-trip.
TEST(EventJson, RunsStartAndEndAndMalformedOnesGiveTheReason) {
  std::vector<Event> events;
  std::vector<RejectedEvent> rejected;
  std::string error;
  ASSERT_TRUE(parse_event_batch(R"([
    {"ts":"2026-11-10T06:00:00Z","machine":"m","type":"run","action":"start","run":"WO-1","product":"cap","quantity":500,"ideal_cycle_s":0.8},
    {"ts":"2026-11-10T07:00:00Z","machine":"m","type":"run","action":"end","run":"WO-1","quantity":3,"product":"x"},
    {"ts":"2026-11-10T07:00:00Z","machine":"m","type":"run","action":"start","run":"WO-2","quantity":5},
    {"ts":"2026-11-10T07:00:00Z","machine":"m","type":"run","action":"start","run":"WO-2","product":"cap"},
    {"ts":"2026-11-10T07:00:00Z","machine":"m","type":"run","action":"start","run":"WO-2","product":"cap","quantity":0},
    {"ts":"2026-11-10T07:00:00Z","machine":"m","type":"run","action":"pause","run":"WO-2"},
    {"ts":"2026-11-10T07:00:00Z","machine":"m","type":"run","action":"end"},
    {"ts":"2026-11-10T07:00:00Z","machine":"m","type":"run","action":"start","run":"WO-2","product":"cap","quantity":5,"ideal_cycle_s":-1}
  ])", events, rejected, error)) << error;
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].type, EventType::run);
  EXPECT_EQ(events[0].run_action, RunAction::start);
  EXPECT_EQ(events[0].run, "WO-1");
  EXPECT_EQ(events[0].product, "cap");
  EXPECT_EQ(events[0].quantity, 500);
  EXPECT_EQ(events[0].run_cycle_us, 800'000);
  EXPECT_EQ(events[1].run_action, RunAction::end);
  EXPECT_TRUE(events[1].product.empty());  // an end carries the order id only
  EXPECT_EQ(events[1].quantity, 0);
  ASSERT_EQ(rejected.size(), 6u);
  EXPECT_EQ(rejected[0].reason, "event 2: field 'product': missing");
  EXPECT_EQ(rejected[1].reason, "event 3: field 'quantity': missing");
  EXPECT_NE(rejected[2].reason.find("event 4: field 'quantity'"), std::string::npos) << rejected[2].reason;
  EXPECT_EQ(rejected[3].reason, "event 5: field 'action': must be start or end");
  EXPECT_EQ(rejected[4].reason, "event 6: field 'run': missing");
  EXPECT_EQ(rejected[5].reason, "event 7: field 'ideal_cycle_s': must be a number of seconds above 0, at most 86400");
  for (const Event& e : events) {
    Event back;
    ASSERT_TRUE(parse_event(event_to_json(e), back, error)) << error;
    EXPECT_EQ(back, e) << event_to_json(e);
  }
  EXPECT_NE(content_fingerprint(events[0]), content_fingerprint(events[1]));
}

// A correction is shown with who and why; read back from JSON it is refused (only the API makes them).
TEST(EventJson, CorrectionsAreWrittenButNotReadFromJson) {
  Event e;
  e.ts = *parse_timestamp("2026-11-11T08:00:00Z");
  e.machine = "m";
  e.type = EventType::correction;
  e.correction = CorrectionKind::reclassify;
  e.at = *parse_timestamp("2026-11-10T07:00:00Z");
  e.until = *parse_timestamp("2026-11-10T07:47:00Z");
  e.state = "planned_stop";
  e.by = "sam";
  e.why = "maintenance was planned";
  const std::string json = event_to_json(e, true);
  EXPECT_EQ(json, R"({"ts":"2026-11-11T08:00:00Z","machine":"m","type":"correction","kind":"reclassify",)"
                  R"("at":"2026-11-10T07:00:00Z","until":"2026-11-10T07:47:00Z","state":"planned_stop",)"
                  R"("by":"sam","why":"maintenance was planned"})");
  Event back;
  std::string error;
  EXPECT_FALSE(parse_event(json, back, error));
  EXPECT_NE(error.find("field 'type'"), std::string::npos) << error;
}

}  // namespace oee::codec
