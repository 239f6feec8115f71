// An item whose values break the channel (issue 15). node-opcua reports an oversized value as its
// item's DataValue with BadResponseTooLarge (note_oversized); open62541 instead answers the whole
// Publish with ERR BadResponseTooLarge and closes the channel, every time the item changes, so
// nothing names the item and every reconnect fails again while the other items starve.
//
// After repeated such failures with a Publish outstanding, the items are bisected with
// SetMonitoringMode: half of the suspects keep reporting, the other half is set to Sampling (the
// server samples and queues its values but sends none), and the next connection shows which half
// holds the item: a failure (the tested half) or a clean observation window (the sampling half).
// Once one suspect is left, it is deleted with an item_dropped event and every sampling item
// reports again, its queued values with it (Sampling, not Disabled, so that they are not lost).
// A failure on the channel the modes were set on proves
// nothing (a server may have queued the value before the change, as node-opcua does when it
// resends the last values at ActivateSession): only a channel opened after them is an observation.
#include <algorithm>

#include "client_impl.h"

namespace oee::opcua {
namespace {

constexpr uint32_t kFailuresBeforeBisect = 2;  // one could be a single oversized Read response
constexpr uint32_t kMinObservationMs = 1000;
constexpr uint32_t kMonitoringModeSampling = 1;
constexpr uint32_t kMonitoringModeReporting = 2;

using Suspect = std::pair<uint32_t, uint32_t>;  // (subscription, client handle)

std::map<uint32_t, std::vector<uint32_t>> by_subscription(const std::vector<Suspect>& items) {
  std::map<uint32_t, std::vector<uint32_t>> grouped;
  for (const auto& [sub, handle] : items) grouped[sub].push_back(handle);
  return grouped;
}

std::vector<Suspect> minus(const std::vector<Suspect>& a, const std::vector<Suspect>& b) {
  std::vector<Suspect> out;
  for (const auto& x : a)
    if (std::find(b.begin(), b.end(), x) == b.end()) out.push_back(x);
  return out;
}

}  // namespace

// Long enough for the item to fail again: three times as long as the channel lasted before the
// latest failure, and a few publishing intervals.
std::chrono::milliseconds Client::Impl::observation_window() {
  double interval_ms = 0;
  {
    std::lock_guard lock(subscriptions_mutex);
    for (const auto& [id, sub] : subscriptions) interval_ms = std::max(interval_ms, sub->revised_interval_ms.load());
  }
  const auto ms = std::max<uint64_t>(kMinObservationMs, 3ull * bisect.last_held_ms.load()) +
                  static_cast<uint64_t>(3 * interval_ms);
  return std::chrono::milliseconds(ms);
}

void Client::Impl::note_channel_failure(uint64_t gen, StatusCode status) {
  bisect.observing = false;  // a lost channel observes nothing until the next one is up
  if (status.base() != status::bad_response_too_large.code || publish_in_flight.load() <= 0) return;
  {
    // Another request outstanding (a Read, a Republish of a message already lost) may be the one
    // too large: the failure is not the subscription's.
    std::lock_guard lock(pending_mutex);
    if (pending.size() > static_cast<size_t>(publish_in_flight.load())) return;
  }
  const auto held = std::chrono::duration_cast<std::chrono::milliseconds>(
      Clock::now() - Clock::time_point(Clock::duration(channel_opened_at.load())));
  // Repeated means on channels that did not hold (as for a relapse): not one a week ago.
  if (!bisect.active && held >= std::chrono::milliseconds(config.reconnect_stable_after_ms)) bisect.losses = 0;
  ++bisect.losses;
  bisect.last_held_ms = static_cast<uint32_t>(held.count());
  if (bisect.active && gen > bisect.modes_generation) bisect.failed_while_tested = true;
}

void Client::Impl::set_monitoring_mode(const std::map<uint32_t, std::vector<uint32_t>>& handles, bool reporting) {
  std::lock_guard ops(subscription_ops_mutex);
  for (const auto& [subscription, list] : handles) {
    std::shared_ptr<SubscriptionState> sub;
    {
      std::lock_guard lock(subscriptions_mutex);
      auto it = subscriptions.find(subscription);
      if (it != subscriptions.end()) sub = it->second;
    }
    if (!sub) continue;
    std::vector<uint32_t> ids;
    for (uint32_t h : list) {
      auto it = sub->items.find(h);
      if (it != sub->items.end() && it->second.server_id) ids.push_back(it->second.server_id);
    }
    if (ids.empty()) continue;
    auto body = call(type_id::set_monitoring_mode_request, [&](BinaryWriter& w) {
      w.u32(sub->server_id);
      w.u32(reporting ? kMonitoringModeReporting : kMonitoringModeSampling);
      w.array(ids, [&](uint32_t id) { w.u32(id); });
    });
    BinaryReader r(body);
    begin_response(r, type_id::set_monitoring_mode_response, "SetMonitoringMode");
  }
}

// The tested half reports, the rest of the suspects only samples, and items cleared of suspicion
// report again. Every mode is set, not only the changes: a step cut short by a lost channel is
// taken again whole on the next.
void Client::Impl::apply_bisect_step() {
  bisect.tested = (bisect.suspects.size() + 1) / 2;
  const std::vector<Suspect> wanted(bisect.suspects.begin() + static_cast<std::ptrdiff_t>(bisect.tested),
                                    bisect.suspects.end());
  bisect.modes_generation = generation.load();  // a failure on this channel proves nothing
  bisect.failed_while_tested = false;
  set_monitoring_mode(by_subscription(minus(bisect.sampling, wanted)), true);
  set_monitoring_mode(by_subscription(wanted), false);
  bisect.sampling = wanted;
  bisect.observing = true;
  bisect.observing_since = Clock::now();
}

// With one suspect left, seen failing while it reported.
void Client::Impl::drop_bisected_item() {
  const auto [subscription, handle] = bisect.suspects.front();
  std::string node;
  {
    std::lock_guard ops(subscription_ops_mutex);
    std::lock_guard lock(subscriptions_mutex);
    auto it = subscriptions.find(subscription);
    if (it != subscriptions.end() && it->second->items.count(handle))
      node = it->second->items.at(handle).request.node_id.to_string();
  }
  if (node.empty()) return;  // deleted by the user meanwhile
  delete_items(subscription, std::span<const uint32_t>(&handle, 1));
  emit(ClientEvent{ClientEvent::Kind::item_dropped, subscription, status::bad_response_too_large, DateTime::now(), {}, 0, 0,
                   "monitored item " + std::to_string(handle) + " (" + node + ") deleted: the server closed the channel with " +
                       "BadResponseTooLarge " + std::to_string(bisect.losses.load()) +
                       " times while it reported; found by holding back halves of the items",
                   handle, 0});
}

bool Client::Impl::start_oversize_bisect() {
  bisect.suspects.clear();
  {
    std::lock_guard ops(subscription_ops_mutex);
    std::lock_guard subs(subscriptions_mutex);
    for (const auto& [id, sub] : subscriptions)
      for (const auto& [handle, item] : sub->items) bisect.suspects.emplace_back(id, handle);
  }
  bisect.sampling.clear();
  bisect.failed_while_tested = false;
  bisect.active = !bisect.suspects.empty();
  if (bisect.active) {
    emit(ClientEvent{ClientEvent::Kind::oversize_search, 0, status::bad_response_too_large, DateTime::now(), {}, 0, 0,
                     "the channel closed with BadResponseTooLarge " + std::to_string(bisect.losses.load()) +
                         " times in a row: searching the item among " + std::to_string(bisect.suspects.size()) +
                         " by holding halves back (SetMonitoringMode Sampling)"});
  }
  return bisect.active;
}

void Client::Impl::end_oversize_bisect() {
  set_monitoring_mode(by_subscription(bisect.sampling), true);
  bisect.sampling.clear();
  bisect.suspects.clear();
  bisect.active = false;
  bisect.losses = 0;
}

// What the last step showed decides the next action; false while it shows nothing yet.
bool Client::Impl::narrow_oversize_bisect(bool reconnected) {
  using Action = OversizeBisect::Action;
  if (bisect.failed_while_tested) {
    bisect.failed_while_tested = false;
    bisect.suspects.resize(bisect.tested);
    bisect.next = bisect.suspects.size() == 1 ? Action::drop : Action::step;
    return true;
  }
  if (bisect.observing && Clock::now() - bisect.observing_since >= observation_window()) {
    bisect.suspects.erase(bisect.suspects.begin(), bisect.suspects.begin() + static_cast<std::ptrdiff_t>(bisect.tested));
    // Empty: the last suspect held a whole window alone, the failures were not an item's. One left
    // by elimination reports alone first (step): dropped only if it then fails.
    bisect.next = bisect.suspects.empty() ? Action::end : Action::step;
    return true;
  }
  if (reconnected) {
    bisect.observing = true;  // this channel is the observation
    bisect.observing_since = Clock::now();
  }
  return false;
}

void Client::Impl::advance_oversize_bisect(bool reconnected, bool session_survived) {
  using Action = OversizeBisect::Action;
  if (!bisect.active) {
    if (bisect.losses < kFailuresBeforeBisect || !reconnected || !start_oversize_bisect()) return;
    bisect.next = Action::step;
  } else if (bisect.next == Action::none) {
    if (reconnected && !session_survived) {
      // Items recreated for a new session report again: hold them back again (this channel, whose
      // server may have queued their values meanwhile, proves nothing).
      bisect.modes_generation = generation.load();
      set_monitoring_mode(by_subscription(bisect.sampling), false);
    }
    if (!narrow_oversize_bisect(reconnected)) return;
  } else if (!reconnected) {
    return;  // an action cut short by a lost channel is taken again on the next one
  }
  switch (bisect.next) {
    case Action::step:
      apply_bisect_step();
      break;
    case Action::drop:
      drop_bisected_item();
      bisect.next = Action::reenable;  // dropped: not again if re-enabling is cut short
      end_oversize_bisect();
      break;
    case Action::end:
      end_oversize_bisect();
      emit(ClientEvent{ClientEvent::Kind::oversize_search, 0, status::good, DateTime::now(), {}, 0, 0,
                       "no item failed alone: search ended, every item reports again, none dropped"});
      break;
    case Action::reenable:
      end_oversize_bisect();
      break;
    case Action::none:
      break;
  }
  bisect.next = Action::none;
}

}  // namespace oee::opcua
