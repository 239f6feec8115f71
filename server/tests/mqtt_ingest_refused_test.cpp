// The ingest behind /readyz: a broker that refuses the server's subscription leaves it "not
// connected" (and counts the refusals) instead of a server that looks healthy and receives nothing.
#include <gtest/gtest.h>

#include "mosquitto_process.h"
#include "oee/server/mqtt_ingest.h"
#include "oee/server/plant_service.h"

namespace oee::server {
namespace {

using namespace std::chrono_literals;
using oee::testing::eventually;

constexpr const char* kOneMachine = R"(timezone: UTC
sites: [{id: s1, areas: [{id: a1, lines: [{id: l1, machines: [{id: filler, ideal_cycle_time_s: 1.0}]}]}]}]
)";

TEST(MqttIngestRefused, RefusedSubscriptionIsNotConnectedAndCounted) {
  oee::testing::DynsecMosquittoProcess broker;
  broker.start();
  // The server's user may read one site only: its oee/v1/# subscription is refused.
  ASSERT_TRUE(broker.dynsec({"createClient", "oee-server", "-p", "server-pw"}));
  ASSERT_TRUE(broker.dynsec({"createRole", "server"}));
  ASSERT_TRUE(broker.dynsec({"addRoleACL", "server", "subscribePattern", "oee/v1/s9/#", "allow"}));
  ASSERT_TRUE(broker.dynsec({"addClientRole", "oee-server", "server"}));

  oee::testing::TempDir dir;
  PlantService service(plant::load_plant_yaml(kOneMachine, "plant.yaml"), [&](const PlantModel& p, const ShiftCalendar& c) {
    return storage::open_sqlite_store(dir.path + "/oee.sqlite", p, c);
  });
  transport::MqttOptions o;
  o.brokers = {broker.url()};
  o.client_id = "oee-server-refused";
  o.username = "oee-server";
  o.password = "server-pw";
  o.reconnect_min = 100ms;
  o.reconnect_max = 200ms;
  MqttIngest ingest(service, o);
  ingest.start();
  bool ever_connected = false;
  ASSERT_TRUE(eventually([&] {
    ever_connected = ever_connected || ingest.connected();
    return ingest.stats().subscription_refusals >= 2;
  }, 10s));
  EXPECT_FALSE(ever_connected);

  ASSERT_TRUE(broker.dynsec({"addRoleACL", "server", "subscribePattern", "oee/v1/#", "allow"}));
  EXPECT_TRUE(eventually([&] { return ingest.connected(); }, 10s));
}

}  // namespace
}  // namespace oee::server
