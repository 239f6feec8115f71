// The queue's incarnation (docs/edge.md): made with a new queue, kept while the queue lives, new
// when the queue's directory is wiped, empty for a queue made before incarnations existed.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "oee/edge/durable_queue.h"
#include "oee/edge/queue_incarnation.h"

namespace {

struct ScratchDir {
  std::string path;
  ScratchDir() {
    char tmpl[] = "/tmp/oee-inc-XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~ScratchDir() { std::filesystem::remove_all(path); }
};

}  // namespace

TEST(QueueIncarnation, MadeWithTheQueueKeptWhileItLivesNewWhenWiped) {
  ScratchDir d;
  const std::string dir = d.path + "/queue";
  const std::string first = oee::edge::load_or_create_queue_incarnation(dir);
  EXPECT_EQ(first.size(), 16u);
  {
    oee::edge::DurableQueueOptions o;
    o.dir = dir;
    oee::edge::DurableQueue q(o);
    q.append("x");
    q.flush();
  }
  EXPECT_EQ(oee::edge::load_or_create_queue_incarnation(dir), first);  // a restart
  std::filesystem::remove_all(dir);                                     // the disk is replaced
  const std::string second = oee::edge::load_or_create_queue_incarnation(dir);
  EXPECT_EQ(second.size(), 16u);
  EXPECT_NE(second, first);
}

TEST(QueueIncarnation, AQueueOlderThanIncarnationsKeepsTheEmptyOne) {
  ScratchDir d;
  const std::string dir = d.path + "/queue";
  {
    oee::edge::DurableQueueOptions o;
    o.dir = dir;
    oee::edge::DurableQueue q(o);
    q.append("x");
    q.flush();
  }
  EXPECT_EQ(oee::edge::load_or_create_queue_incarnation(dir), "");
  EXPECT_FALSE(std::filesystem::exists(dir + "/incarnation"));
}
