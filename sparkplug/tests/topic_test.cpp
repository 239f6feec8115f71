#include "oee/sparkplug/topic.h"

#include <gtest/gtest.h>

namespace oee::sparkplug {
namespace {

TEST(SparkplugTopic, ParsesNodeDeviceAndStateTopics) {
  auto node = parse_topic("spBv1.0/berlin/NBIRTH/pet1-edge");
  ASSERT_TRUE(node);
  EXPECT_EQ(node->type, MessageType::NBIRTH);
  EXPECT_EQ(node->group, "berlin");
  EXPECT_EQ(node->edge_node, "pet1-edge");
  EXPECT_EQ(node->device, "");
  auto device = parse_topic("spBv1.0/berlin/DDATA/pet1-edge/filler");
  ASSERT_TRUE(device);
  EXPECT_EQ(device->type, MessageType::DDATA);
  EXPECT_EQ(device->device, "filler");
  auto state = parse_topic("spBv1.0/STATE/oee-host");
  ASSERT_TRUE(state);
  EXPECT_EQ(state->type, MessageType::STATE);
  EXPECT_EQ(state->edge_node, "oee-host");
  for (const auto& t : {"spBv1.0/berlin/NBIRTH/pet1-edge", "spBv1.0/berlin/DDATA/pet1-edge/filler", "spBv1.0/STATE/oee-host"}) {
    EXPECT_EQ(format_topic(*parse_topic(t)), t);
  }
}

TEST(SparkplugTopic, RejectsWhatIsNotSparkplugB) {
  for (const auto* t : {"spAv1.0/g/NBIRTH/n", "spBv1.0/g/NBIRTH", "spBv1.0/g/NBIRTH/n/d", "spBv1.0/g/DDATA/n",
                        "spBv1.0/g/XDATA/n", "spBv1.0//NDATA/n", "spBv1.0/STATE/a/b", "spBv1.0/g/STATE/n", ""}) {
    EXPECT_FALSE(parse_topic(t)) << t;
  }
}

}  // namespace
}  // namespace oee::sparkplug
