#include <gtest/gtest.h>

#include "oee/core/alert_book.h"

namespace oee {

namespace {
AlertRule down_rule() {
  AlertRule r;
  r.name = "down15";
  r.kind = AlertKind::machine_down;
  r.for_ms = 15 * kMsPerMinute;
  return r;
}
}  // namespace

TEST(AlertBook, FiresOnceResolvesOnceAndFiresAgain) {
  AlertBook book;
  const AlertRule r = down_rule();
  EXPECT_FALSE(book.observe(r, "s/a/l/m", false, 1));
  auto fired = book.observe(r, "s/a/l/m", true, 2);
  ASSERT_TRUE(fired);
  EXPECT_EQ(fired->transition, AlertTransition::fired);
  EXPECT_EQ(fired->alert.id, "down15/s/a/l/m");
  EXPECT_FALSE(book.observe(r, "s/a/l/m", true, 3));  // still holding: no new transition
  auto resolved = book.observe(r, "s/a/l/m", false, 4);
  ASSERT_TRUE(resolved);
  EXPECT_EQ(resolved->transition, AlertTransition::resolved);
  EXPECT_EQ(resolved->alert.fired_ts, 2);
  EXPECT_EQ(resolved->alert.resolved_ts, 4);
  ASSERT_TRUE(book.observe(r, "s/a/l/m", true, 5));
  const auto all = book.list();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_TRUE(all[0].active());
  EXPECT_EQ(all[0].fired_ts, 5);
  EXPECT_FALSE(all[1].active());
}

TEST(AlertBook, AcknowledgeRecordsWhoAndWhenOnce) {
  AlertBook book;
  const AlertRule r = down_rule();
  EXPECT_FALSE(book.acknowledge("down15/x", "ann", 1));  // no such alert
  book.observe(r, "x", true, 1);
  auto ack = book.acknowledge("down15/x", "ann", 7);
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->transition, AlertTransition::acknowledged);
  EXPECT_EQ(ack->alert.acknowledged_by, "ann");
  EXPECT_EQ(ack->alert.acknowledged_ts, 7);
  EXPECT_FALSE(book.acknowledge("down15/x", "bob", 8));  // already acknowledged
  const auto resolved = book.observe(r, "x", false, 9);
  EXPECT_EQ(resolved->alert.acknowledged_by, "ann");  // the acknowledgement survives resolution
}

TEST(AlertBook, ForgetsTheOldestResolvedBeyondItsLimit) {
  AlertBook book;
  book.set_keep_resolved(2);
  const AlertRule r = down_rule();
  for (TimeMs t = 0; t < 3; ++t) {
    book.observe(r, "m" + std::to_string(t), true, t);
    book.observe(r, "m" + std::to_string(t), false, t);
  }
  const auto all = book.list();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].subject, "m2");
  EXPECT_EQ(all[1].subject, "m1");
}

}  // namespace oee
