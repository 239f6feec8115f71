// GET /api/v1/kpis?by=run over the real store and HTTP server for a machine, a line in constraint
// mode and its twin in sum mode: the answer equals the engine over every event (core run_kpis with
// the plant history's node totals, the runs of every event), byte for byte. Runs open before the
// window, restarted, with an ideal cycle override, still open at now; events arrive shuffled, in
// batches, some twice; the window reaches past settled hours into the unsettled tail and now.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <random>

#include "api_fixture.h"
#include "oee/codec/kpi_json.h"
#include "oee/core/line_runs.h"
#include "oee/core/plant_history.h"
#include "oee/core/run_kpis.h"

namespace oee::api {

namespace {

class ApiKpisByRun : public Api {
 protected:
  std::string plant_yaml() const override {
    return R"(timezone: UTC
sites: [{id: s1, areas: [{id: a1, lines: [
  {id: c, kpi: {mode: constraint, constraint: capper, outfeed: packer}, machines: [
    {id: filler, ideal_cycle_time_s: 1.0}, {id: capper, ideal_cycle_time_s: 2.0}, {id: packer, ideal_cycle_time_s: 1.0}]},
  {id: s, machines: [
    {id: filler, ideal_cycle_time_s: 1.0}, {id: capper, ideal_cycle_time_s: 2.0}, {id: packer, ideal_cycle_time_s: 1.0}]}]}]}]
)";
  }

  const TimeMs t0_ = at("2026-11-09T00:00:00Z");
  std::vector<Event> events_;

  Event run(const std::string& machine, TimeMs ts, const char* order, RunAction action, std::int64_t cycle_us = 0) {
    Event e;
    e.machine = machine;
    e.type = EventType::run;
    e.ts = ts;
    e.run = order;
    e.run_action = action;
    if (action == RunAction::start) {
      e.product = "cap-red";
      e.quantity = 5000;
      e.run_cycle_us = cycle_us;
    }
    e.src = "erp";
    e.seq = static_cast<std::int64_t>(events_.size());
    return e;
  }

  // 30 hours of every machine (a state change or a count a minute) and the runs on both lines.
  void make_events() {
    std::mt19937_64 rng(7);
    static const char* const states[] = {"running", "running", "stopped", "setup", "starved", "blocked"};
    int k = 0;
    for (const MachineSpec* m : service_->plant().machines()) {
      for (TimeMs ts = t0_; ts < t0_ + 29 * kMsPerHour + 30 * kMsPerMinute; ts += kMsPerMinute) {
        Event e;
        e.machine = m->path;
        e.ts = ts;
        e.src = m->path;
        e.seq = (ts - t0_) / kMsPerMinute;
        if (rng() % 4 == 0) {
          e.type = EventType::state;
          e.state = states[rng() % 6];
        } else {
          e.type = EventType::count;
          e.good = static_cast<std::int64_t>(rng() % 40);
          e.reject = static_cast<std::int64_t>(rng() % 3);
        }
        events_.push_back(std::move(e));
      }
      // Each machine takes an order at its own instant: WO-A from before the window, WO-B with a
      // 1.5 s override, WO-A again on the first machine, WO-C open at now.
      const TimeMs skew = k++ % 3 * 5 * kMsPerMinute;
      events_.push_back(run(m->path, t0_ + 1 * kMsPerHour + skew, "WO-A", RunAction::start));
      events_.push_back(run(m->path, t0_ + 8 * kMsPerHour + skew, "WO-A", RunAction::end));
      events_.push_back(run(m->path, t0_ + 8 * kMsPerHour + 10 * kMsPerMinute + skew, "WO-B", RunAction::start, 1'500'000));
      if (m->id == "filler") events_.push_back(run(m->path, t0_ + 20 * kMsPerHour + 7 * kMsPerMinute, "WO-A", RunAction::start));
      events_.push_back(run(m->path, t0_ + 26 * kMsPerHour + skew + 123, "WO-C", RunAction::start));
    }
  }

  void ingest_shuffled() {
    std::vector<Event> arrival = events_;
    std::mt19937_64 rng(11);
    std::shuffle(arrival.begin(), arrival.end(), rng);
    for (std::size_t i = 0; i < arrival.size(); i += 500) {
      std::vector<Event> batch(arrival.begin() + static_cast<std::ptrdiff_t>(i),
                               arrival.begin() + static_cast<std::ptrdiff_t>(std::min(arrival.size(), i + 500)));
      batch.push_back(arrival[rng() % arrival.size()]);  // one sent again
      service_->ingest(batch, "test");
    }
  }

  // The engine's answer over every event: the runs of all run events, the node's totals from the
  // plant history, written as the route writes a run.
  std::string expected(const std::string& node, TimeMs from, TimeMs to) {
    const PlantHistory history = PlantHistory::build(service_->plant(), events_);
    std::vector<std::vector<ProductionRun>> per_machine;
    for (const MachineSpec* m : service_->plant().machines_under(node)) {
      std::vector<Event> own;
      for (const Event& e : events_)
        if (e.machine == m->path) own.push_back(e);
      per_machine.push_back(production_runs(own));
    }
    const std::vector<ProductionRun> runs = per_machine.size() == 1 ? per_machine[0] : line_runs(per_machine);
    const TimeMs horizon = now_.load();
    const auto kpis = run_kpis(runs, from, to, horizon, [&](TimeMs s, TimeMs e) {
      return history.node_kpis(service_->calendar(), node, Grouping::none, s, e, horizon).at(0).totals;
    });
    std::string out;
    codec::JsonWriter json(out);
    json.begin_array();
    for (const RunKpis& k : kpis) codec::write_kpi_json(json, k.totals, {node, k.start, k.end, {}, 0, {}, k.run, k.product});
    json.end_array();
    return out;
  }
};

}  // namespace

TEST_F(ApiKpisByRun, MachineAndLinesInBothModesEqualTheEngineOverEveryEvent) {
  now_ = t0_ + 29 * kMsPerHour + 30 * kMsPerMinute;
  make_events();
  ingest_shuffled();
  const TimeMs from = t0_ + 3 * kMsPerHour + 17 * kMsPerMinute, to = t0_ + 30 * kMsPerHour;
  const std::string window = "&from=" + std::to_string(from) + "&to=" + std::to_string(to);
  for (const std::string node : {"s1/a1/c", "s1/a1/s", "s1/a1/c/packer", "s1/a1/s/filler"}) {
    const auto r = get("/api/v1/kpis?by=run&node=" + node + window);
    ASSERT_EQ(r.status, 200) << node << ": " << r.body;
    EXPECT_EQ(r.body, expected(node, from, to)) << node;
    const auto j = nlohmann::json::parse(r.body);
    // WO-A (open at `from`, its stretches summed), WO-B, WO-C (open at now, up to now).
    ASSERT_EQ(j.size(), 3u) << node << ": " << r.body;
    EXPECT_EQ(j[0]["run"], "WO-A");
    EXPECT_EQ(j[0]["from"], "2026-11-09T03:17:00Z");
    EXPECT_EQ(j[1]["run"], "WO-B");
    EXPECT_EQ(j[2]["run"], "WO-C");
    EXPECT_EQ(j[2]["to"], "2026-11-10T05:30:00Z");
    EXPECT_EQ(j[0]["node"], node);
    // WO-B's parts at its 1.5 s override.
    EXPECT_NEAR(j[1]["ideal_time_s"].get<double>(), 1.5 * j[1]["total_count"].get<double>(), 1e-6) << node;
    EXPECT_GT(j[1]["total_count"].get<double>(), 0);
  }
  // A line in constraint mode follows its mode: its times are the constraint's, its counts the outfeed's.
  const auto c = nlohmann::json::parse(get("/api/v1/kpis?by=run&node=s1/a1/c" + window).body);
  const auto s = nlohmann::json::parse(get("/api/v1/kpis?by=run&node=s1/a1/s" + window).body);
  EXPECT_EQ(c[1]["machines"], 3);
  EXPECT_LT(c[1]["total_count"].get<double>(), s[1]["total_count"].get<double>());

  const auto area = get("/api/v1/kpis?by=run&node=s1/a1" + window);
  EXPECT_EQ(area.status, 400);
  EXPECT_NE(area.body.find("'by=run' needs a machine or a line as 'node'"), std::string::npos) << area.body;
}

}  // namespace oee::api
