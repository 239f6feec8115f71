#include "oee/api/stop_comments.h"

#include <string>

namespace oee::api {

std::int64_t StopComments::add(std::string_view machine, TimeMs stop_start, TimeMs created, std::string_view author,
                               std::string_view text) {
  const StopComment c{0, std::string(machine), stop_start, created, std::string(author), std::string(text)};
  return service_.with_store([&](storage::EventStore& store) { return store.add_stop_comment(c); });
}

std::int64_t StopComments::pseudonymise_author(std::string_view name, std::string_view pseudonym) {
  return service_.with_store([&](storage::EventStore& store) { return store.pseudonymise_comment_author(name, pseudonym); });
}

std::vector<StopComment> StopComments::of_machine(std::string_view machine, TimeMs from, TimeMs to) {
  return service_.read_store([&](storage::EventStore& store) { return store.stop_comments(machine, from, to); });
}

}  // namespace oee::api
