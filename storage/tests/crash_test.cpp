// SIGKILL during ingest: a child process appends batches and reports each one after append()
// returned; the parent kills it at a random moment, reopens the file and checks that every reported
// batch is there, nothing twice, and that the KPIs equal the engine over the stored events.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <thread>

#include "oee/core/shift_calendar.h"
#include "oee/storage/event_store.h"
#include "storage_test_support.h"
#include "store_backends.h"

namespace oee::storage {
namespace {

using namespace testing;

constexpr std::size_t kBatch = 150;

// Batches in time order, each resending a few events of the previous one (as an edge does after a
// lost acknowledgement).
std::vector<std::vector<Event>> make_batches(const PlantModel& plant) {
  std::vector<Event> all;
  std::uint64_t seed = 11;
  for (const MachineSpec* m : plant.machines()) {
    GeneratorOptions o;
    o.src = "edge-" + m->id + std::to_string(seed);
    o.max_step_ms = 60'000;
    auto e = random_events(seed++, at("2026-11-10T00:00:00Z"), at("2026-11-13T00:00:00Z"), m->path, o);
    all.insert(all.end(), e.begin(), e.end());
  }
  std::stable_sort(all.begin(), all.end(), [](const Event& a, const Event& b) { return a.ts < b.ts; });
  std::vector<std::vector<Event>> batches;
  for (std::size_t i = 0; i < all.size(); i += kBatch) {
    std::vector<Event> b(all.begin() + static_cast<std::ptrdiff_t>(i),
                         all.begin() + static_cast<std::ptrdiff_t>(std::min(all.size(), i + kBatch)));
    if (!batches.empty())
      for (std::size_t k = 0; k < 5; ++k) b.push_back(batches.back()[batches.back().size() - 1 - k]);
    batches.push_back(std::move(b));
  }
  return batches;
}

[[noreturn]] void child_ingest(StoreBackend& backend, const std::string& file, const PlantModel& plant, const ShiftCalendar& cal,
                               const std::vector<std::vector<Event>>& batches, std::uint32_t start, int report_fd) {
  try {
    auto store = backend.open(file, plant, cal);
    // Resume with the last reported batch: sent again, it must change nothing.
    for (std::uint32_t i = start; i < batches.size(); ++i) {
      store->append(batches[i], at("2026-11-12T00:00:00Z"));
      if (::write(report_fd, &i, sizeof i) != sizeof i) ::_exit(3);
    }
  } catch (...) {
    ::_exit(2);
  }
  ::_exit(0);
}

class StoreCrash : public ::testing::TestWithParam<const char*> {};

// For PostgreSQL the kill lands mostly in the middle of a COPY or of the INSERT from the staging
// table: the transaction never commits, and the resent batch is stored exactly once.
TEST_P(StoreCrash, SigkillDuringIngestLosesNothingCommittedAndKpisMatchTheEngine) {
  const PlantModel plant = test_plant();
  const FixedOffsetZone zone(kMsPerHour, "+01:00");
  const ShiftCalendar cal(plant, zone);
  const auto batches = make_batches(plant);
  auto backend = make_backend(GetParam());
  const std::string file = backend->new_location();
  std::mt19937_64 rng(2026);
  std::int64_t max_reported = -1;
  for (int round = 0; round < 5; ++round) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      child_ingest(*backend, file, plant, cal, batches, static_cast<std::uint32_t>(std::max<std::int64_t>(0, max_reported)), fds[1]);
    }
    ::close(fds[1]);
    std::this_thread::sleep_for(std::chrono::milliseconds(30 + rng() % 250));  // the subject: a kill at a random moment
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    std::uint32_t n;
    while (::read(fds[0], &n, sizeof n) == sizeof n) max_reported = std::max<std::int64_t>(max_reported, n);
    ::close(fds[0]);
    std::printf("round %d: killed after batch %lld of %zu\n", round, static_cast<long long>(max_reported), batches.size());
    ASSERT_TRUE(WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 0)) << "child failed: " << status;

    auto store = backend->open(file, plant, cal);
    std::map<std::string, std::vector<Event>> stored;
    std::int64_t total = 0;
    for (const MachineSpec* m : plant.machines()) {
      stored[m->path] = store->machine_events(m->path, kTimeMin, kTimeMax);
      total += static_cast<std::int64_t>(stored[m->path].size());
    }
    EXPECT_EQ(total, store->event_count()) << "round " << round;
    // Every event of every reported batch is there, exactly once.
    for (std::int64_t b = 0; b <= max_reported; ++b)
      for (const Event& e : batches[static_cast<std::size_t>(b)]) {
        const auto& v = stored[e.machine];
        ASSERT_EQ(std::count(v.begin(), v.end(), e), 1) << "round " << round << " batch " << b;
      }
    for (const MachineSpec* m : plant.machines()) {
      const MachineHistory ref = MachineHistory::build(*m, stored[m->path]);
      EXPECT_EQ(ref.distinct_events(), stored[m->path].size());
      for (TimeMs f = at("2026-11-09T22:00:00Z"); f < at("2026-11-12T02:00:00Z"); f += 5 * kMsPerHour + 777)
        ASSERT_EQ(store->machine_totals(*m, f, f + 9 * kMsPerHour, kTimeMax),
                  oee::machine_totals(ref, cal, f, f + 9 * kMsPerHour, kTimeMax))
            << "round " << round << " " << m->path << " from " << format_rfc3339(f);
    }
    if (max_reported + 1 >= static_cast<std::int64_t>(batches.size())) break;
  }
  EXPECT_GE(max_reported, 0) << "no batch was committed before the kills: make the delays longer";
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreCrash, ::testing::ValuesIn(kBackends), backend_name);

}  // namespace
}  // namespace oee::storage
