#pragma once
// Conflicts (docs/events.md): an event sent under the identity (src, inc, seq) of a stored event
// that says something else. The store keeps the first version; the other is never dropped without
// a trace: it is kept with the stored one as a conflict, listed by the API and counted per source.
#include <span>
#include <vector>

#include "oee/storage/event_store.h"

namespace oee::storage {

// Compares each event an append did not store for its identity (AppendResult::identity_duplicates)
// with the stored events of its machine and hour: those with no identical stored version are
// conflicts. Reads only the machines and hours concerned.
std::vector<Conflict> find_conflicts(EventStore& store, std::span<const Event> appended,
                                     std::span<const std::size_t> identity_duplicates, TimeMs received);

}  // namespace oee::storage
