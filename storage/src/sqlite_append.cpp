// Append: identities and duplicates, event blocks, machines and sources with their statistics.
#include "sqlite_event_store.h"

#include "event_block_codec.h"
#include "store_helpers.h"

namespace oee::storage::sqlite {

MachineState& SqliteEventStore::machine_for(std::string_view path) {
  auto it = machines_.find(path);
  if (it != machines_.end()) return *it->second;
  // A machine the plant does not know (the caller validates; tolerated): stored, no rollups.
  insert_machine_.bind(1, path).bind(2, kNoBase).run();
  auto m = std::make_unique<MachineState>();
  m->id = sqlite3_last_insert_rowid(db_.handle());
  m->path = std::string(path);
  m->spec = plant_.find_machine(path);
  machines_by_id_[m->id] = m.get();
  return *machines_.emplace(m->path, std::move(m)).first->second;
}

SourceState& SqliteEventStore::source_for(std::string_view src, std::string_view inc) {
  source_key(src, inc, key_scratch_);
  auto it = sources_.find(key_scratch_);
  if (it != sources_.end()) return *it->second;
  insert_source_.bind(1, src).bind(2, inc).run();
  auto s = std::make_unique<SourceState>();
  s->id = sqlite3_last_insert_rowid(db_.handle());
  s->stats.src = std::string(src);
  s->stats.incarnation = std::string(inc);
  sources_by_id_[s->id] = s.get();
  SourceState& added = *sources_.emplace(key_scratch_, std::move(s)).first->second;
  publish_source_names();  // new sources are rare: a copy of the names each time is cheap
  return added;
}

// The new events of a machine as one block per hour they fall in.
void SqliteEventStore::write_blocks(MachineState& m) {
  std::map<TimeMs, std::pair<BlockWriter, std::int64_t>> blocks;
  for (std::size_t i = 0; i < m.pending.size(); ++i) {
    if (m.pending[i].type == EventType::correction) continue;  // correction_events
    auto& [w, n] = blocks[floor_hour(m.pending[i].ts)];
    w.event(m.pending[i], m.pending_src[i]);
    ++n;
  }
  write_reason_events(m);
  write_correction_events(m);
  write_run_events(m);
  if (!blocks.empty() && blocks.rbegin()->first > m.last_hour) {
    m.last_hour = blocks.rbegin()->first;
    m.row_dirty = true;
  }
  for (const auto& [hour, block] : blocks)
    insert_block_.bind(1, m.id).bind(2, hour).bind(3, next_block_++).bind(4, block.second).bind_blob(5, block.first.bytes()).run();
}

void SqliteEventStore::write_machine_row(MachineState& m) {
  if (!m.row_dirty) return;
  update_machine_.bind(1, m.id).bind(2, m.base).bind(3, m.has_total_counter ? 1 : 0).bind(4, m.zero_hour);
  update_machine_.bind(5, m.last_hour).run();
  m.row_dirty = false;
}

void SqliteEventStore::note_source(SourceState& s, const Event& e, TimeMs received_at) {
  SourceStats& st = s.stats;
  s.dirty = true;
  ++st.events;
  st.last_seen = std::max(st.last_seen, received_at);
  s.batch_offsets.push_back(e.ts - received_at);
  if (e.ts - received_at > options_.max_future_skew_ms) ++st.future_events;
  if (e.seq < 0) return;
  const std::int64_t q = e.seq;
  auto add_gap = [&](std::int64_t first, std::int64_t last) {
    s.gaps[first] = last;
    gap_ops_.push_back({s.id, first, last, true});
  };
  if (st.seq_max < 0) {
    st.seq_min = st.seq_max = q;
  } else if (q > st.seq_max) {
    if (q > st.seq_max + 1) add_gap(st.seq_max + 1, q - 1);
    st.seq_max = q;
  } else if (q < st.seq_min) {
    if (q < st.seq_min - 1) add_gap(q + 1, st.seq_min - 1);
    st.seq_min = q;
  } else {
    // Inside the known range: it fills (part of) a gap.
    auto it = s.gaps.upper_bound(q);
    if (it == s.gaps.begin()) return;
    --it;
    const std::int64_t first = it->first, last = it->second;
    if (q > last) return;
    s.gaps.erase(it);
    gap_ops_.push_back({s.id, first, last, false});
    if (first < q) add_gap(first, q - 1);
    if (q < last) add_gap(q + 1, last);
  }
}

// Whether the source's event `seq` is stored: inside its range and in none of its gaps.
bool SqliteEventStore::stored_seq(const SourceState& s, std::int64_t seq) {
  if (s.stats.seq_max < 0 || seq < s.stats.seq_min || seq > s.stats.seq_max) return false;
  auto it = s.gaps.upper_bound(seq);
  if (it == s.gaps.begin()) return true;
  --it;
  return seq > it->second;
}

void SqliteEventStore::persist_sources() {
  for (const GapOp& op : gap_ops_) {
    if (op.insert)
      insert_gap_.bind(1, op.src_id).bind(2, op.first).bind(3, op.last).run();
    else
      delete_gap_.bind(1, op.src_id).bind(2, op.first).run();
  }
  gap_ops_.clear();
  for (auto& [name, s] : sources_) {
    if (!s->dirty) continue;
    if (!s->batch_offsets.empty()) {
      // The median offset of this batch: robust to a few events buffered long at the edge.
      auto mid = s->batch_offsets.begin() + static_cast<std::ptrdiff_t>(s->batch_offsets.size() / 2);
      std::nth_element(s->batch_offsets.begin(), mid, s->batch_offsets.end());
      s->stats.clock_offset_ms = *mid;
      s->batch_offsets.clear();
    }
    const SourceStats& st = s->stats;
    upsert_source_.bind(1, s->id).bind(2, st.events).bind(3, st.seq_min).bind(4, st.seq_max).bind(5, st.last_seen);
    upsert_source_.bind(6, st.clock_offset_ms).bind(7, st.future_events).run();
    s->dirty = false;
  }
}

// The batch's events with their identities, in key order: events without src+seq first (negative
// id_src), each source's sequence numbers after them in order. Events before the retention cut are
// refused here (refuse_before_cut).
std::vector<SqliteEventStore::AppendItem> SqliteEventStore::identify(std::span<const Event> events, TimeMs received_at,
                                                                     AppendResult& result) {
  std::vector<AppendItem> items;
  items.reserve(events.size());
  // Events come in runs of one machine and one source: one lookup per run, not per event.
  const Event* previous = nullptr;
  MachineState* machine = nullptr;
  SourceState* src = nullptr;
  for (const Event& e : events) {
    if (!previous || e.machine != previous->machine) machine = &machine_for(e.machine);
    if (!previous || e.src != previous->src || e.inc != previous->inc)
      src = e.src.empty() ? nullptr : &source_for(e.src, e.inc);
    previous = &e;
    if (e.ts < retention_cut_) {
      refuse_before_cut(e, src, received_at, result);
      continue;
    }
    MachineState& m = *machine;
    if (e.has_identity())
      items.push_back({src->id, e.seq, &m, src, &e});
    else
      items.push_back({-m.id, static_cast<std::int64_t>(content_fingerprint(e)), &m, src, &e});
  }
  std::sort(items.begin(), items.end(), [](const AppendItem& a, const AppendItem& b) {
    return a.id_src != b.id_src ? a.id_src < b.id_src : a.id_key < b.id_key;
  });
  return items;
}

// Which items are new (1) and which are duplicates (0); items[0, anonymous) have no src+seq.
std::vector<char> SqliteEventStore::new_items(const std::vector<AppendItem>& items, std::size_t anonymous) {
  // Events with src+seq: a source numbers its events, so the sequence numbers stored are the
  // source's range [seq_min, seq_max] minus its gaps (sources, source_gaps: kept for the
  // statistics anyway, in this transaction). The check is in memory, with no B-tree row per event;
  // of equal identities in the batch the first is inserted.
  std::vector<char> inserted(items.size(), 0);
  for (std::size_t k = anonymous; k < items.size(); ++k) {
    const AppendItem& it = items[k];
    const bool repeated = k > anonymous && items[k - 1].id_src == it.id_src && items[k - 1].id_key == it.id_key;
    inserted[k] = !repeated && !stored_seq(*it.source, it.id_key);
  }
  insert_content_ids(items, anonymous, inserted);
  return inserted;
}

// The others by content in event_ids: kIdChunk identities per statement; RETURNING names the
// rows actually inserted (ignored duplicates return nothing), a statement execution per event saved.
void SqliteEventStore::insert_content_ids(const std::vector<AppendItem>& items, std::size_t anonymous,
                                          std::vector<char>& inserted) {
  for (std::size_t first = 0; first < anonymous; first += kIdChunk) {
    const std::size_t n = std::min(kIdChunk, anonymous - first);
    Statement& ins = n == kIdChunk ? insert_ids_chunk_ : insert_id_;
    if (n == kIdChunk) {
      for (std::size_t i = 0; i < n; ++i) {
        const AppendItem& it = items[first + i];
        const int p = static_cast<int>(3 * i);
        ins.bind(p + 1, it.id_src).bind(p + 2, it.id_key).bind(p + 3, floor_hour(it.event->ts));
      }
      while (ins.step()) {
        const std::int64_t src = ins.int_at(0), key = ins.int_at(1);
        // Items are sorted by identity: the first of equal ones is the one inserted.
        auto at = std::lower_bound(items.begin() + static_cast<std::ptrdiff_t>(first),
                                   items.begin() + static_cast<std::ptrdiff_t>(first + n), std::make_pair(src, key),
                                   [](const AppendItem& a, const std::pair<std::int64_t, std::int64_t>& k) {
                                     return std::make_pair(a.id_src, a.id_key) < k;
                                   });
        inserted[static_cast<std::size_t>(at - items.begin())] = 1;
      }
      ins.reset();
    } else {
      for (std::size_t i = first; i < first + n; ++i) {
        insert_id_.bind(1, items[i].id_src).bind(2, items[i].id_key).bind(3, floor_hour(items[i].event->ts)).run();
        inserted[i] = sqlite3_changes(db_.handle()) > 0;
      }
    }
  }
}

// The new events go to their machines' pending lists and their sources' statistics; duplicates are
// counted. Returns the machines with new events.
std::vector<MachineState*> SqliteEventStore::queue_new(std::span<const Event> events, const std::vector<AppendItem>& items,
                                                       const std::vector<char>& inserted, std::size_t anonymous,
                                                       TimeMs received_at, AppendResult& result) {
  std::vector<MachineState*> touched;
  for (std::size_t k = 0; k < items.size(); ++k) {
    const AppendItem& it = items[k];
    if (!inserted[k]) {
      ++result.duplicates;
      if (k >= anonymous) result.identity_duplicates.push_back(static_cast<std::size_t>(it.event - events.data()));
      continue;
    }
    ++result.inserted;
    MachineState& m = *it.machine;
    if (m.pending.empty()) touched.push_back(&m);
    m.pending.push_back(*it.event);
    m.pending_src.push_back(it.source ? it.source->id : 0);
    if (it.source) note_source(*it.source, *it.event, received_at);
  }
  return touched;
}

AppendResult SqliteEventStore::append(std::span<const Event> events, TimeMs received_at) {
  AppendResult result;
  if (events.empty()) return result;
  std::lock_guard state_lock(state_mutex_);
  try {
  Transaction tx(db_);
    const std::vector<AppendItem> items = identify(events, received_at, result);
    std::size_t anonymous = 0;
    while (anonymous < items.size() && items[anonymous].id_src < 0) ++anonymous;
    const std::vector<char> inserted = new_items(items, anonymous);
    for (MachineState* m : queue_new(events, items, inserted, anonymous, received_at, result)) {
      write_blocks(*m);
      ingest_pending(*m);
    }
    persist_sources();
    event_count_ += static_cast<std::int64_t>(result.inserted);
    set_meta_.bind(1, "event_count").bind(2, event_count_).run();
    set_meta_.bind(1, "next_block").bind(2, next_block_).run();
    tx.commit();
  } catch (...) {
    // Rolled back: the in-memory tails and statistics may hold what never committed.
    event_count_ = 0;
    gap_ops_.clear();
    load_state();
    throw;
  }
  return result;
}

}  // namespace oee::storage::sqlite
