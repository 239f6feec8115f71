// The edge status JSON after a disk error: "degraded" with the error, so that an operator watching
// oee/v1/_edge/<id>/status sees why the edge stopped queueing (docs/mqtt.md, docs/operations.md).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string>

#include "oee/edge/durable_queue.h"
#include "oee/edge/queue_publisher.h"
#include "oee/fileio/fault_injector.h"

namespace oee::edge {
namespace {

TEST(EdgeStatus, ADiskErrorMakesTheStatusDegradedWithTheError) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "oee-edge-status-XXXXXX").string();
  const std::string dir = ::mkdtemp(tmpl.data());
  {
    DurableQueueOptions o;
    o.dir = dir;
    o.group_commit_ms = 0;
    DurableQueue queue(o);
    PublisherOptions po;
    po.edge_id = "e1";
    QueuePublisher publisher(queue, po);
    ASSERT_TRUE(queue.wait_durable(queue.append("m\t{}") + 1));
    const std::string healthy = publisher.status_json("online");
    EXPECT_NE(healthy.find("\"state\":\"online\""), std::string::npos) << healthy;
    EXPECT_EQ(healthy.find("io_error"), std::string::npos) << healthy;

    fileio::ScopedFaultInjector faults({fileio::Fault{fileio::FaultOp::sync, 1, EIO, 0}});
    EXPECT_FALSE(queue.wait_durable(queue.append("m\t{}") + 1));
    const std::string degraded = publisher.status_json("online");
    EXPECT_NE(degraded.find("\"state\":\"degraded\""), std::string::npos) << degraded;
    EXPECT_NE(degraded.find("\"io_error\":\"fdatasync "), std::string::npos) << degraded;
    EXPECT_NE(degraded.find("Input/output error\""), std::string::npos) << degraded;
    // A clean stop still says offline.
    EXPECT_NE(publisher.status_json("offline").find("\"state\":\"offline\""), std::string::npos);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace oee::edge
