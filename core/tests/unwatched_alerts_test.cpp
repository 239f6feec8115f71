// Which firing alerts the plant file no longer watches (unwatched_alerts.h), on the tests' plant of
// two lines of two machines: s1/a1/l1/m1, s1/a1/l1/m2, s1/a1/l2/m1, s1/a1/l2/m2.
#include <gtest/gtest.h>

#include "oee/core/unwatched_alerts.h"
#include "oee/synthetic/generators.h"

namespace oee {

namespace {

AlertRule rule(const char* name, AlertKind kind, const char* node) {
  AlertRule r;
  r.name = name;
  r.kind = kind;
  r.node = node;
  return r;
}

Alert alert(const char* rule, AlertKind kind, const char* subject) {
  Alert a;
  a.rule = rule;
  a.kind = kind;
  a.subject = subject;
  a.id = a.rule + "/" + a.subject;
  return a;
}

PlantModel plant_with_rules() {
  PlantModel p = synthetic::test_plant(2, 2);
  p.alert_rules = {rule("down", AlertKind::machine_down, "s1/a1/l1"), rule("silent", AlertKind::no_data, ""),
                   rule("oee", AlertKind::oee_below_target, "s1/a1/l2"), rule("queue", AlertKind::edge_queue_growing, "e1"),
                   rule("queues", AlertKind::edge_queue_growing, "")};
  return p;
}

}  // namespace

TEST(UnwatchedAlerts, AnAlertOfARuleThatStillEvaluatesItsSubjectIsWatched) {
  const PlantModel p = plant_with_rules();
  EXPECT_EQ(unwatched_reason(p, alert("down", AlertKind::machine_down, "s1/a1/l1/m2")), std::nullopt);
  EXPECT_EQ(unwatched_reason(p, alert("silent", AlertKind::no_data, "s1/a1/l2/m1")), std::nullopt);  // "": every machine
  EXPECT_EQ(unwatched_reason(p, alert("oee", AlertKind::oee_below_target, "s1/a1/l2")), std::nullopt);
  EXPECT_EQ(unwatched_reason(p, alert("queue", AlertKind::edge_queue_growing, "e1")), std::nullopt);
  // A rule for every edge watches any edge: edges are not in the plant file.
  EXPECT_EQ(unwatched_reason(p, alert("queues", AlertKind::edge_queue_growing, "e9")), std::nullopt);
}

TEST(UnwatchedAlerts, ARuleRemovedOrOfAnotherKindNowIsRuleRemoved) {
  const PlantModel p = plant_with_rules();
  EXPECT_EQ(unwatched_reason(p, alert("gone", AlertKind::machine_down, "s1/a1/l1/m1")), AlertResolution::rule_removed);
  // "down" is a machine_down rule now: a no_data alert of that name was another rule's.
  EXPECT_EQ(unwatched_reason(p, alert("down", AlertKind::no_data, "s1/a1/l1/m1")), AlertResolution::rule_removed);
  PlantModel none = synthetic::test_plant(2, 2);  // a plant file without alerts: every alert's rule is gone
  EXPECT_EQ(unwatched_reason(none, alert("silent", AlertKind::no_data, "s1/a1/l1/m1")), AlertResolution::rule_removed);
}

TEST(UnwatchedAlerts, ASubjectTheRuleNoLongerEvaluatesIsNodeRemoved) {
  const PlantModel p = plant_with_rules();
  EXPECT_EQ(unwatched_reason(p, alert("silent", AlertKind::no_data, "s1/a1/l1/m3")), AlertResolution::node_removed);  // no such machine
  EXPECT_EQ(unwatched_reason(p, alert("down", AlertKind::machine_down, "s1/a1/l2/m1")), AlertResolution::node_removed);  // not under l1
  EXPECT_EQ(unwatched_reason(p, alert("oee", AlertKind::oee_below_target, "s1/a1/l1")), AlertResolution::node_removed);  // the rule watches l2 now
  EXPECT_EQ(unwatched_reason(p, alert("queue", AlertKind::edge_queue_growing, "e2")), AlertResolution::node_removed);
}

TEST(UnwatchedAlerts, ResolutionNamesRoundTrip) {
  for (AlertResolution r : {AlertResolution::cleared, AlertResolution::rule_removed, AlertResolution::node_removed})
    EXPECT_EQ(parse_alert_resolution(alert_resolution_name(r)), r);
  EXPECT_EQ(alert_resolution_name(AlertResolution::node_removed), "node_removed");
  EXPECT_EQ(parse_alert_resolution("gone"), std::nullopt);
}

}  // namespace oee
