// The in-memory tail's compaction of signs of life (storage/src/signs_of_life.h): what it drops
// never changes a silence; the rollup property tests check the totals against the engine.
#include "signs_of_life.h"

#include <gtest/gtest.h>

#include <vector>

namespace {

using namespace oee;
using oee::storage::keep_signs_bare;

Event sign(EventType type, TimeMs ts) {
  Event e;
  e.machine = "s1/a1/l1/filler-with-a-long-path";
  e.ts = ts;
  e.type = type;
  if (type == EventType::sample) e.sample_name = "temperature";
  return e;
}

Event counter(TimeMs ts) {
  Event e = sign(EventType::counter, ts);
  e.counter = CounterName::good;
  e.value = 42;
  return e;
}

std::vector<TimeMs> instants(const std::vector<Event>& events) {
  std::vector<TimeMs> out;
  for (const auto& e : events) out.push_back(e.ts);
  return out;
}

}  // namespace

TEST(SignsOfLife, ARunCloserThanTheThresholdKeepsItsTwoEndsAsBareHeartbeats) {
  std::vector<Event> events;
  for (TimeMs t = 0; t <= 9000; t += 1000) events.push_back(sign(t % 2000 ? EventType::sample : EventType::heartbeat, t));
  keep_signs_bare(events, 0, 10'000);
  EXPECT_EQ(instants(events), (std::vector<TimeMs>{0, 9000}));
  for (const auto& e : events) {
    EXPECT_EQ(e.type, EventType::heartbeat);
    EXPECT_TRUE(e.machine.empty() && e.sample_name.empty());
  }
}

TEST(SignsOfLife, AGapAsLongAsTheThresholdKeepsBothOfItsEnds) {
  std::vector<Event> events{sign(EventType::sample, 0), sign(EventType::sample, 1000), sign(EventType::sample, 11'000),
                            sign(EventType::sample, 12'000), sign(EventType::sample, 13'000)};
  keep_signs_bare(events, 0, 10'000);
  // 1000 and 11000 are the silence's ends (10 s: not shorter than the threshold); 12000 goes.
  EXPECT_EQ(instants(events), (std::vector<TimeMs>{0, 1000, 11'000, 13'000}));
}

TEST(SignsOfLife, OtherEventsStandForTheSignsAroundThemAndLoseOnlyTheirMachinePath) {
  std::vector<Event> events{sign(EventType::sample, 0), sign(EventType::sample, 1000), counter(1500),
                            sign(EventType::sample, 1500), sign(EventType::sample, 2000), sign(EventType::sample, 3000)};
  keep_signs_bare(events, 0, 10'000);
  // 1000 lies between 0 and the counter, 2000 between the counter and 3000; 1500 is the counter's.
  ASSERT_EQ(instants(events), (std::vector<TimeMs>{0, 1500, 3000}));
  Event expected = counter(1500);
  expected.machine.clear();
  EXPECT_EQ(events[1], expected);
}

TEST(SignsOfLife, ASignBeforeThePreviousOneIsNotCoalesced) {
  std::vector<Event> events{sign(EventType::sample, 5000), sign(EventType::sample, 6000), sign(EventType::sample, 2000),
                            sign(EventType::sample, 7000)};
  keep_signs_bare(events, 0, 10'000);
  EXPECT_EQ(instants(events), (std::vector<TimeMs>{5000, 6000, 2000, 7000}));
}

TEST(SignsOfLife, ARunGoesOnAcrossCallsAndEventsBeforeFromStayAsTheyAre) {
  std::vector<Event> events{sign(EventType::heartbeat, -1), sign(EventType::sample, 0), sign(EventType::sample, 1000)};
  keep_signs_bare(events, 1, 10'000);
  EXPECT_EQ(events[0].machine, sign(EventType::heartbeat, -1).machine) << "the context is left alone";
  for (TimeMs t = 2000; t <= 5000; t += 1000) {
    events.push_back(sign(EventType::sample, t));
    keep_signs_bare(events, events.size() - 3, 10'000);  // as the tail does: from the last two kept
  }
  EXPECT_EQ(instants(events), (std::vector<TimeMs>{-1, 0, 5000}));
}

TEST(SignsOfLife, WithoutNoDataDetectionARunOfAnyLengthKeepsItsEnds) {
  std::vector<Event> events{sign(EventType::sample, 0), sign(EventType::sample, 3'600'000), sign(EventType::sample, 7'200'000)};
  keep_signs_bare(events, 0, 0);
  EXPECT_EQ(instants(events), (std::vector<TimeMs>{0, 7'200'000}));
}
