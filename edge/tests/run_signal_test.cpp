// The edge's run signal: a PLC's order id tag, with its product and quantity tags, becomes run events.
#include "oee/edge/run_signal.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "oee/edge/tag_mapper.h"
#include "temp_dir.h"

using namespace oee;
using namespace oee::edge;

namespace {

const char* kFiller = "s1/a1/l1/filler";

TagConfig tag(SignalKind kind) {
  TagConfig t;
  t.machine = kFiller;
  t.signal = kind;
  return t;
}

// A machine with order, quantity and product tags wired as a source wires them.
struct Plc {
  MachineSpec machine;
  TagConfig order = tag(SignalKind::run), quantity = tag(SignalKind::run_quantity), product = tag(SignalKind::product);
  RunSignals runs;
  std::vector<TagMapper> mappers;
  std::vector<Event> events;

  Plc() {
    machine.path = kFiller;
    for (const TagConfig* t : {&order, &quantity, &product}) runs.add(*t);
    for (const TagConfig* t : {&order, &quantity, &product}) mappers.emplace_back(*t, machine).attach_run(runs.for_tag(*t));
  }
  // One poll: the three registers at ts, then the batch's run events.
  std::vector<Event> poll(double order_id, double qty, const std::string& product_id, TimeMs ts) {
    events.clear();
    Event e;
    if (mappers[0].on_number(order_id, ts, e)) events.push_back(e);
    if (mappers[1].on_number(qty, ts, e)) events.push_back(e);
    if (mappers[2].on_text(product_id, ts, e)) events.push_back(e);
    runs.take_events(events);
    return events;
  }
};

std::vector<Event> runs_of(const std::vector<Event>& events) {
  std::vector<Event> out;
  for (const auto& e : events)
    if (e.type == EventType::run) out.push_back(e);
  return out;
}

}  // namespace

TEST(RunSignal, AChangedOrderIdEndsTheOldRunAndStartsTheNewWithTheProductAndQuantityOfItsPoll) {
  Plc plc;
  EXPECT_TRUE(runs_of(plc.poll(0, 0, "", 1000)).empty());  // zero: no run
  auto first = runs_of(plc.poll(4711, 500, "cap-red", 2000));
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].run_action, RunAction::start);
  EXPECT_EQ(first[0].run, "4711");
  EXPECT_EQ(first[0].product, "cap-red");  // read in the same poll, after the order tag
  EXPECT_EQ(first[0].quantity, 500);
  EXPECT_EQ(first[0].ts, 2000);
  EXPECT_EQ(first[0].machine, kFiller);
  EXPECT_TRUE(runs_of(plc.poll(4711, 500, "cap-red", 3000)).empty());  // unchanged: nothing
  EXPECT_TRUE(runs_of(plc.poll(4711, 600, "cap-red", 3500)).empty());  // a new plan alone starts nothing
  const auto next = runs_of(plc.poll(4712, 200, "cap-blue", 4000));
  ASSERT_EQ(next.size(), 2u);
  EXPECT_EQ(next[0].run_action, RunAction::end);
  EXPECT_EQ(next[0].run, "4711");
  EXPECT_EQ(next[0].ts, 4000);
  EXPECT_EQ(next[1].run_action, RunAction::start);
  EXPECT_EQ(next[1].run, "4712");
  EXPECT_EQ(next[1].product, "cap-blue");
  EXPECT_EQ(next[1].quantity, 200);
  const auto cleared = runs_of(plc.poll(0, 0, "cap-blue", 5000));
  ASSERT_EQ(cleared.size(), 1u);
  EXPECT_EQ(cleared[0].run_action, RunAction::end);
  EXPECT_EQ(cleared[0].run, "4712");
  EXPECT_EQ(cleared[0].ts, 5000);
}

TEST(RunSignal, TextOrderIdsAndAnOrderChangedBackWithinABatchMakeNoRun) {
  MachineSpec m;
  m.path = kFiller;
  TagConfig order = tag(SignalKind::run);
  order.run_product = "cap";
  order.run_quantity = 50;
  RunSignals runs;
  runs.add(order);
  TagMapper mapper(order, m);
  mapper.attach_run(runs.for_tag(order));
  Event e;
  EXPECT_FALSE(mapper.on_text("WO-1", 100, e));  // run tags make no event of their own
  std::vector<Event> out;
  runs.take_events(out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].run, "WO-1");
  EXPECT_EQ(out[0].product, "cap");  // the run tag's fixed product and quantity
  EXPECT_EQ(out[0].quantity, 50);
  out.clear();
  mapper.on_text("WO-2", 200, e);
  mapper.on_text("WO-1", 210, e);
  runs.take_events(out);
  EXPECT_TRUE(out.empty());
  mapper.on_text("", 300, e);
  runs.take_events(out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].run_action, RunAction::end);
  EXPECT_EQ(out[0].run, "WO-1");
}

TEST(RunSignal, OnlyRunQuantityAndProductTagsOfAMachineWithARunTagFeedIt) {
  RunSignals runs;
  runs.add(tag(SignalKind::run));
  EXPECT_NE(runs.for_tag(tag(SignalKind::product)), nullptr);
  EXPECT_NE(runs.for_tag(tag(SignalKind::run_quantity)), nullptr);
  EXPECT_EQ(runs.for_tag(tag(SignalKind::state)), nullptr);
  TagConfig other = tag(SignalKind::product);
  other.machine = "s1/a1/l1/capper";
  EXPECT_EQ(runs.for_tag(other), nullptr);
}

// The open orders outlive a restart: the same order read again starts nothing; an order cleared
// while the edge was down ends the run it had started.
TEST(RunSignal, OpenOrdersOutliveARestartThroughTheStateFile) {
  oee::edge::testing::TempDir dir("oee-runs-");
  const std::string file = (dir.path / "runs").string();
  TagConfig order = tag(SignalKind::run);
  order.run_product = "cap";
  order.run_quantity = 50;
  MachineSpec m;
  m.path = kFiller;
  auto read_once = [&](const std::string& value) {  // one edge life: load, one reading, sink
    RunSignals runs(file);
    runs.add(order);
    runs.load();
    TagMapper mapper(order, m);
    mapper.attach_run(runs.for_tag(order));
    Event e;
    mapper.on_text(value, 1000, e);
    std::vector<Event> out;
    runs.take_events(out);
    runs.after_sink();
    return out;
  };
  ASSERT_EQ(read_once("WO-1").size(), 1u);  // started
  EXPECT_TRUE(read_once("WO-1").empty());   // restarted, the same order: nothing
  const auto cleared = read_once("");       // restarted after the PLC cleared it
  ASSERT_EQ(cleared.size(), 1u);
  EXPECT_EQ(cleared[0].run_action, RunAction::end);
  EXPECT_EQ(cleared[0].run, "WO-1");
  EXPECT_TRUE(read_once("").empty());
}

namespace {

// One edge life of a source with a run tag (fixed product and quantity) for each machine: load,
// one reading per machine, sink. Returns the run events.
std::vector<Event> one_life(const std::string& file, const std::map<std::string, std::string>& readings) {
  RunSignals runs(file);
  std::vector<TagConfig> tags;
  for (const auto& [machine, order] : readings) {
    TagConfig t = tag(SignalKind::run);
    t.machine = machine;
    t.run_product = "cap";
    t.run_quantity = 50;
    tags.push_back(t);
    runs.add(t);
  }
  runs.load();
  std::vector<Event> out;
  for (const TagConfig& t : tags) {
    MachineSpec m;
    m.path = t.machine;
    TagMapper mapper(t, m);
    mapper.attach_run(runs.for_tag(t));
    Event e;
    mapper.on_text(readings.at(t.machine), 1000, e);
  }
  runs.take_events(out);
  runs.after_sink();
  return out;
}

}  // namespace

// The sources of an edge share the state file, each rewriting only its machines' lines: a source's
// open order survives another source's save, and a reordering of the sources (a machine read by
// another source after the restart) keeps it.
TEST(RunSignal, SourcesShareTheStateFileByMachine) {
  oee::edge::testing::TempDir dir("oee-runs-");
  const std::string file = (dir.path / "runs").string();
  ASSERT_EQ(one_life(file, {{"s1/a1/l1/filler", "WO-1"}}).size(), 1u);
  ASSERT_EQ(one_life(file, {{"s1/a1/l1/capper", "WO-7"}}).size(), 1u);  // the other source saves
  EXPECT_TRUE(one_life(file, {{"s1/a1/l1/filler", "WO-1"}}).empty());    // WO-1 still open
  // After a restart one source reads both machines: nothing started twice, nothing lost.
  EXPECT_TRUE(one_life(file, {{"s1/a1/l1/filler", "WO-1"}, {"s1/a1/l1/capper", "WO-7"}}).empty());
  const auto cleared = one_life(file, {{"s1/a1/l1/capper", ""}});
  ASSERT_EQ(cleared.size(), 1u);
  EXPECT_EQ(cleared[0].run_action, RunAction::end);
  EXPECT_EQ(cleared[0].run, "WO-7");
  EXPECT_TRUE(one_life(file, {{"s1/a1/l1/filler", "WO-1"}}).empty());  // the filler's line stayed
  // No temporary is left beside it.
  std::vector<std::string> names;
  for (const auto& f : std::filesystem::directory_iterator(dir.path)) names.push_back(f.path().filename().string());
  EXPECT_EQ(names, std::vector<std::string>{"runs"});
}

// The per-source files of earlier versions (runs-<source index>) move into the one file, whatever
// the sources' order now, and are removed.
TEST(RunSignal, PerSourceFilesOfEarlierVersionsMoveIntoTheOneFile) {
  oee::edge::testing::TempDir dir("oee-runs-");
  const auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir.path / name) << text;
  };
  write("runs-0", "s1/a1/l1/capper\tWO-7\n");
  write("runs-1", "s1/a1/l1/filler\tWO-1\n");
  write("runs-x", "not ours\n");
  migrate_run_state_files(dir.path.string());
  EXPECT_FALSE(std::filesystem::exists(dir.path / "runs-0"));
  EXPECT_FALSE(std::filesystem::exists(dir.path / "runs-1"));
  EXPECT_TRUE(std::filesystem::exists(dir.path / "runs-x"));
  const std::string file = (dir.path / "runs").string();
  EXPECT_TRUE(one_life(file, {{"s1/a1/l1/filler", "WO-1"}, {"s1/a1/l1/capper", "WO-7"}}).empty());
  // A leftover per-source file beside the one file (a crash after the move) is removed, not read.
  write("runs-0", "s1/a1/l1/capper\tWO-OLD\n");
  migrate_run_state_files(dir.path.string());
  EXPECT_FALSE(std::filesystem::exists(dir.path / "runs-0"));
  EXPECT_TRUE(one_life(file, {{"s1/a1/l1/capper", "WO-7"}}).empty());
}
