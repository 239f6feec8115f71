#pragma once
// Comments operators add to stops, kept in the event store (storage::EventStore::add_stop_comment),
// so that every server of one PostgreSQL sees the same. Not events: they explain, they do not
// change a figure. A stop is named by its machine and its start.
#include <string_view>
#include <vector>

#include "oee/core/time.h"
#include "oee/server/plant_service.h"
#include "oee/storage/event_store.h"

namespace oee::api {

using StopComment = storage::StopComment;

class StopComments {
 public:
  explicit StopComments(server::PlantService& service) : service_(service) {}
  std::int64_t add(std::string_view machine, TimeMs stop_start, TimeMs created, std::string_view author, std::string_view text);
  // Comments of a machine's stops starting in [from, to), oldest first.
  std::vector<StopComment> of_machine(std::string_view machine, TimeMs from, TimeMs to);
  // Comments whose author is `name` get `pseudonym` instead (an erasure); how many.
  std::int64_t pseudonymise_author(std::string_view name, std::string_view pseudonym);

 private:
  server::PlantService& service_;
};

}  // namespace oee::api
