// Operators' stop comments in the store, on every backend: kept once, listed by machine and stop
// window; moved once from the auth.sqlite where servers before schema 8 kept them; shared by all
// servers of one PostgreSQL.
#include <gtest/gtest.h>

#include <thread>

#include "oee/core/shift_calendar.h"
#include "oee/storage/event_store.h"
#include "oee/storage/stop_comment_import.h"
#include "sqlite_db.h"
#include "storage_test_support.h"
#include "store_backends.h"

namespace oee::storage {
namespace {

using namespace testing;

class StoreComments : public ::testing::TestWithParam<const char*> {
 protected:
  PlantModel plant = test_plant(1, 2);
  FixedOffsetZone zone;
  ShiftCalendar cal{plant, zone};
  std::string a = plant.machines()[0]->path, b = plant.machines()[1]->path;
  TimeMs t0 = at("2026-11-10T08:00:00Z");
  std::unique_ptr<StoreBackend> backend = make_backend(GetParam());
  std::string location = backend->new_location();
  std::unique_ptr<EventStore> store = backend->open(location, plant, cal);
};

std::vector<std::string> texts(const std::vector<StopComment>& list) {
  std::vector<std::string> out;
  for (const StopComment& c : list) out.push_back(c.text);
  return out;
}

TEST_P(StoreComments, AreKeptOnceAndListedByMachineAndStopStart) {
  const std::int64_t first = store->add_stop_comment({0, a, t0, t0 + 5, "ann", "jam at infeed"});
  const std::int64_t second = store->add_stop_comment({0, a, t0 + kMsPerHour, t0 + 9, "bob", "réglage \"moule\" 2"});
  store->add_stop_comment({0, b, t0, t0 + 7, "ann", "other machine"});
  EXPECT_NE(first, second);
  // The same comment again (a retried request) is the kept one.
  EXPECT_EQ(store->add_stop_comment({0, a, t0, t0 + 5, "ann", "jam at infeed"}), first);
  const auto all_of_a = store->stop_comments(a, t0, t0 + kMsPerHour + 1);
  ASSERT_EQ(all_of_a.size(), 2u);
  EXPECT_EQ(all_of_a[0].id, first);
  EXPECT_EQ(all_of_a[0].machine, a);
  EXPECT_EQ(all_of_a[0].stop_start, t0);
  EXPECT_EQ(all_of_a[0].created, t0 + 5);
  EXPECT_EQ(all_of_a[0].author, "ann");
  EXPECT_EQ(texts(all_of_a), (std::vector<std::string>{"jam at infeed", "réglage \"moule\" 2"}));
  // [from, to) by stop start.
  EXPECT_EQ(texts(store->stop_comments(a, t0 + 1, t0 + kMsPerHour + 1)), std::vector<std::string>{"réglage \"moule\" 2"});
  EXPECT_TRUE(store->stop_comments(a, t0 + 1, t0 + kMsPerHour).empty());
  EXPECT_EQ(texts(store->stop_comments(b, 0, kTimeMax)), std::vector<std::string>{"other machine"});
  // Kept across a restart.
  store.reset();
  store = backend->open(location, plant, cal);
  EXPECT_EQ(store->stop_comments(a, t0, t0 + kMsPerHour + 1).size(), 2u);
}

// An auth.sqlite as servers before schema 8 wrote it (api/src/stop_comments.cpp of then).
void write_old_auth_file(const std::string& file, const std::string& machine, TimeMs t0) {
  sqlite::Database db(file);
  db.exec("CREATE TABLE stop_comments(id INTEGER PRIMARY KEY, machine TEXT NOT NULL,"
          " stop_start INTEGER NOT NULL, created INTEGER NOT NULL, author TEXT NOT NULL, text TEXT NOT NULL);"
          "CREATE INDEX stop_comments_by_stop ON stop_comments(machine, stop_start);"
          "CREATE TABLE accounts(name TEXT PRIMARY KEY);");  // the file holds other things too
  sqlite::Statement ins(db, "INSERT INTO stop_comments(machine,stop_start,created,author,text) VALUES(?,?,?,?,?)");
  for (int i = 0; i < 3; ++i)
    ins.bind(1, machine).bind(2, t0 + i * kMsPerMinute).bind(3, t0 + 100 + i).bind(4, "op").bind(5, "old " + std::to_string(i)).run();
}

TEST_P(StoreComments, AnErasedAuthorsCommentsTakeTheirPseudonym) {
  store->add_stop_comment({0, a, t0, t0 + 5, "zelda", "jam at infeed"});
  store->add_stop_comment({0, a, t0 + kMsPerHour, t0 + 9, "zelda", "cleared"});
  store->add_stop_comment({0, b, t0, t0 + 7, "ann", "other author"});
  // The same comment already kept under the pseudonym (written again after an upgrade) stays once.
  store->add_stop_comment({0, a, t0, t0 + 5, "u:00000000000000aa", "jam at infeed"});
  EXPECT_EQ(store->pseudonymise_comment_author("zelda", "u:00000000000000aa"), 2);
  const auto of_a = store->stop_comments(a, 0, kTimeMax);
  ASSERT_EQ(of_a.size(), 2u);
  for (const StopComment& c : of_a) EXPECT_EQ(c.author, "u:00000000000000aa");
  EXPECT_EQ(store->stop_comments(b, 0, kTimeMax)[0].author, "ann");
  EXPECT_EQ(store->pseudonymise_comment_author("zelda", "u:00000000000000aa"), 0);
}

TEST_P(StoreComments, AnOldAuthFilesCommentsAreMovedOnceEvenIfInterrupted) {
  TempDir dir;
  const std::string auth = dir.file("auth.sqlite");
  write_old_auth_file(auth, a, t0);
  const std::vector<std::string> old = {"old 0", "old 1", "old 2"};
  EXPECT_EQ(import_stop_comments(auth, *store), 3);
  EXPECT_EQ(texts(store->stop_comments(a, t0, t0 + kMsPerHour)), old);
  const auto moved = store->stop_comments(a, t0, t0 + kMsPerHour);
  EXPECT_EQ(moved[1].stop_start, t0 + kMsPerMinute);
  EXPECT_EQ(moved[1].created, t0 + 101);
  EXPECT_EQ(moved[1].author, "op");
  {
    // The old table is set aside, whole.
    sqlite::Database db(auth);
    sqlite::Statement n(db, "SELECT count(*) FROM stop_comments_moved");
    n.step();
    EXPECT_EQ(n.int_at(0), 3);
  }
  // The next start finds nothing to move.
  EXPECT_EQ(import_stop_comments(auth, *store), 0);
  // A start interrupted before the table was set aside moves them again: nothing is doubled.
  sqlite::Database(auth).exec("ALTER TABLE stop_comments_moved RENAME TO stop_comments");
  EXPECT_EQ(import_stop_comments(auth, *store), 3);
  EXPECT_EQ(texts(store->stop_comments(a, t0, t0 + kMsPerHour)), old);
  // No file (a new data directory): nothing to do.
  EXPECT_EQ(import_stop_comments(dir.file("none.sqlite"), *store), 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreComments, ::testing::ValuesIn(kBackends), backend_name);

// Several servers on one PostgreSQL: a comment added through one is seen by all; the same comment
// sent to two at once is kept once; each server's old comments end up shared.
TEST(PostgresDeployment, ServersOnOneDatabaseShareTheirStopComments) {
  const PlantModel plant = test_plant(1, 1);
  FixedOffsetZone zone;
  ShiftCalendar cal(plant, zone);
  const std::string m = plant.machines()[0]->path;
  const TimeMs t0 = at("2026-11-10T08:00:00Z");
  PostgresBackend pg;
  const std::string url = pg.new_location();
  auto one = pg.open(url, plant, cal, {});
  auto two = pg.open(url, plant, cal, {});
  const std::int64_t id = one->add_stop_comment({0, m, t0, t0 + 1, "ann", "seen by both"});
  const auto seen = two->stop_comments(m, t0, t0 + 1);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].id, id);
  std::int64_t id_one = 0, id_two = 0;
  std::thread t1([&] { id_one = one->add_stop_comment({0, m, t0, t0 + 2, "bob", "sent twice"}); });
  std::thread t2([&] { id_two = two->add_stop_comment({0, m, t0, t0 + 2, "bob", "sent twice"}); });
  t1.join();
  t2.join();
  EXPECT_EQ(id_one, id_two);
  TempDir dir;
  write_old_auth_file(dir.file("auth-two.sqlite"), m, t0 + kMsPerHour);
  EXPECT_EQ(import_stop_comments(dir.file("auth-two.sqlite"), *two), 3);
  EXPECT_EQ(texts(one->stop_comments(m, t0, t0 + 2 * kMsPerHour)),
            (std::vector<std::string>{"seen by both", "sent twice", "old 0", "old 1", "old 2"}));
}

}  // namespace
}  // namespace oee::storage
