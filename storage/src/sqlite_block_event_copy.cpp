// Tables that keep some events again beside their blocks (reason_events, run_events) are filled
// from the blocks once, when a file from before them is opened.
#include "event_block_codec.h"
#include "sqlite_event_store.h"

namespace oee::storage::sqlite {

void SqliteEventStore::copy_block_events_once(
    const char* filled_key, const std::function<bool(const Event&)>& keep,
    const std::function<void(std::int64_t machine_id, const Event&, std::string_view bytes)>& insert) {
  Statement filled(db_, "SELECT value FROM meta WHERE key=?");
  filled.bind(1, std::string_view(filled_key));
  if (!filled.step() || filled.int_at(0) != 0) return;
  filled.reset();
  Transaction tx(db_);
  Statement blocks(db_, "SELECT machine_id, data FROM event_blocks ORDER BY machine_id, hour_start, block");
  BlockWriter w;
  while (blocks.step()) {
    BlockReader r(blocks.blob_at(1));
    while (!r.done()) {
      std::int64_t src_id = 0;
      const Event e = r.event(src_id);
      if (!keep(e)) continue;
      w.clear();
      w.event(e, src_id);
      insert(blocks.int_at(0), e, w.bytes());
    }
  }
  Statement done(db_, "UPDATE meta SET value=1 WHERE key=?");
  done.bind(1, std::string_view(filled_key)).run();
  tx.commit();
}

}  // namespace oee::storage::sqlite
