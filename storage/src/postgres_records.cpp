// PostgreSQL store: the records beside the events: sources, dead letters, conflicts, stop comments.
#include "postgres_event_store.h"

#include <algorithm>
#include <map>

namespace oee::storage {

namespace {

using pg::Connection;
using pg::Params;
using pg::PgError;
using pg::Result;
using pg::Transaction;
using pg::to_bytea_hex;

std::string from_bytea_hex(std::string_view text) {
  std::string out;
  if (text.size() < 2 || text[0] != '\\' || text[1] != 'x') return std::string(text);
  auto nibble = [](char c) { return c <= '9' ? c - '0' : (c | 32) - 'a' + 10; };
  for (std::size_t i = 2; i + 1 < text.size(); i += 2)
    out += static_cast<char>(nibble(text[i]) * 16 + nibble(text[i + 1]));
  return out;
}

}  // namespace

std::int64_t PostgresEventStore::event_count() {
  return guarded([&] { return conn().query("SELECT coalesce(sum(events), 0) FROM machines").int_at(0, 0); });
}

std::vector<SourceStats> PostgresEventStore::sources() {
  return guarded([&] {
    std::vector<SourceStats> out;
    Connection& c = conn();
    Result r = c.query(
        "SELECT id, src, events, seq_min, seq_max, last_seen, clock_offset_ms, future_events, incarnation FROM sources"
        " ORDER BY src, incarnation");
    std::unordered_map<std::int64_t, std::vector<std::pair<std::int64_t, std::int64_t>>> gaps_of;
    Result g = c.query("SELECT src_id, first, last FROM source_gaps ORDER BY src_id, first");
    for (int i = 0; i < g.rows(); ++i) gaps_of[g.int_at(i, 0)].emplace_back(g.int_at(i, 1), g.int_at(i, 2));
    std::map<std::pair<std::string, std::string>, std::int64_t> conflicts;
    Result k = c.query("SELECT src, incarnation, count(*) FROM conflicts GROUP BY 1, 2");
    for (int i = 0; i < k.rows(); ++i) conflicts[{k.text_at(i, 0), k.text_at(i, 1)}] = k.int_at(i, 2);
    for (int i = 0; i < r.rows(); ++i) {
      SourceStats s;
      s.src = r.text_at(i, 1);
      s.events = r.int_at(i, 2);
      s.seq_min = r.int_at(i, 3);
      s.seq_max = r.int_at(i, 4);
      s.last_seen = r.int_at(i, 5);
      s.clock_offset_ms = r.int_at(i, 6);
      s.future_events = r.int_at(i, 7);
      s.incarnation = r.text_at(i, 8);
      if (auto it = conflicts.find({s.src, s.incarnation}); it != conflicts.end()) s.conflicts = it->second;
      const auto it = gaps_of.find(r.int_at(i, 0));
      if (it != gaps_of.end()) s.gaps = std::move(it->second);
      out.push_back(std::move(s));
    }
    return out;
  });
}

std::int64_t PostgresEventStore::add_dead_letter(const DeadLetter& letter) {
  return guarded([&] {
    return conn()
        .query("INSERT INTO dead_letters(received, topic, payload, reason) VALUES($1, $2::bytea, $3::bytea, $4::bytea)"
               " RETURNING id",
               Params()
                   .add(letter.received)
                   .add(to_bytea_hex(bounded(letter.topic, kMaxDeadLetterTextBytes)))
                   .add(to_bytea_hex(bounded(letter.payload, kMaxDeadLetterPayloadBytes)))
                   .add(to_bytea_hex(bounded(letter.reason, kMaxDeadLetterTextBytes))))
        .int_at(0, 0);
  });
}

std::vector<DeadLetter> PostgresEventStore::dead_letters(std::int64_t before_id, std::size_t limit) {
  return guarded([&] {
    Result r = conn().query(
        "SELECT id, received, topic, payload, reason FROM dead_letters WHERE id<$1 ORDER BY id DESC LIMIT $2",
        Params().add(before_id > 0 ? before_id : INT64_MAX).add(static_cast<std::int64_t>(std::min<std::size_t>(limit, 10000))));
    std::vector<DeadLetter> out;
    for (int i = 0; i < r.rows(); ++i)
      out.push_back({r.int_at(i, 0), r.int_at(i, 1), from_bytea_hex(r.view_at(i, 2)), from_bytea_hex(r.view_at(i, 3)),
                     from_bytea_hex(r.view_at(i, 4))});
    return out;
  });
}

std::int64_t PostgresEventStore::dead_letter_count() {
  return guarded([&] { return conn().query("SELECT count(*) FROM dead_letters").int_at(0, 0); });
}

void PostgresEventStore::add_conflicts(std::span<const Conflict> list) {
  if (list.empty()) return;
  guarded([&] {
    Connection& c = conn();
    Transaction tx(c);
    for (const Conflict& k : list)
      c.query("INSERT INTO conflicts(received, src, incarnation, seq, machine, stored, version, fingerprint)"
              " VALUES($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
              Params().add(k.received).add(k.src).add(k.incarnation).add(k.seq).add(k.machine)
                  .add(bounded(k.stored_json, kMaxDeadLetterPayloadBytes)).add(bounded(k.received_json, kMaxDeadLetterPayloadBytes))
                  .add(k.fingerprint));
    tx.commit();
    return 0;
  });
}

std::vector<Conflict> PostgresEventStore::conflicts(std::int64_t before_id, std::size_t limit) {
  return guarded([&] {
    Result r = conn().query(
        "SELECT id, received, src, incarnation, seq, machine, stored, version FROM conflicts WHERE id<$1"
        " ORDER BY id DESC LIMIT $2",
        Params().add(before_id > 0 ? before_id : INT64_MAX).add(static_cast<std::int64_t>(std::min<std::size_t>(limit, 10000))));
    std::vector<Conflict> out;
    for (int i = 0; i < r.rows(); ++i)
      out.push_back({r.int_at(i, 0), r.int_at(i, 1), r.text_at(i, 2), r.text_at(i, 3), r.int_at(i, 4), r.text_at(i, 5),
                     r.text_at(i, 6), r.text_at(i, 7)});
    return out;
  });
}

std::int64_t PostgresEventStore::conflict_count() {
  return guarded([&] { return conn().query("SELECT count(*) FROM conflicts").int_at(0, 0); });
}

std::int64_t PostgresEventStore::add_stop_comment(const StopComment& c) {
  return guarded([&] {
    const auto params = Params().add(c.machine).add(c.stop_start).add(c.created).add(c.author).add(c.text);
    // Another server may add the same comment at once: the unique key keeps one, both get its id.
    conn().query("INSERT INTO stop_comments(machine, stop_start, created, author, text) VALUES($1, $2, $3, $4, $5)"
                 " ON CONFLICT DO NOTHING", params);
    return conn()
        .query("SELECT id FROM stop_comments WHERE machine=$1 AND stop_start=$2 AND created=$3 AND author=$4"
               " AND md5(text)=md5($5) AND text=$5", params)
        .int_at(0, 0);
  });
}

std::int64_t PostgresEventStore::pseudonymise_comment_author(std::string_view name, std::string_view pseudonym) {
  return guarded([&] {
    // A comment already kept under the pseudonym (same machine, stop, time and text) stays once.
    const auto params = Params().add(name).add(pseudonym);
    const std::int64_t merged =
        conn().query("WITH gone AS (DELETE FROM stop_comments c WHERE author=$1 AND EXISTS (SELECT 1 FROM stop_comments d"
                     " WHERE d.author=$2 AND d.machine=c.machine AND d.stop_start=c.stop_start AND d.created=c.created"
                     " AND d.text=c.text) RETURNING 1) SELECT count(*) FROM gone", params).int_at(0, 0);
    return merged + conn().query("WITH changed AS (UPDATE stop_comments SET author=$2 WHERE author=$1 RETURNING 1)"
                                 " SELECT count(*) FROM changed", params).int_at(0, 0);
  });
}

std::vector<StopComment> PostgresEventStore::stop_comments(std::string_view machine, TimeMs from, TimeMs to) {
  return guarded([&] {
    Result r = conn().query("SELECT id, machine, stop_start, created, author, text FROM stop_comments"
                            " WHERE machine=$1 AND stop_start>=$2 AND stop_start<$3 ORDER BY id",
                            Params().add(machine).add(from).add(to));
    std::vector<StopComment> out;
    for (int i = 0; i < r.rows(); ++i)
      out.push_back({r.int_at(i, 0), r.text_at(i, 1), r.int_at(i, 2), r.int_at(i, 3), r.text_at(i, 4), r.text_at(i, 5)});
    return out;
  });
}

}  // namespace oee::storage
