// Subscriptions, monitored items and the Publish pipeline (OPC 10000-4 5.12, 5.13, 6.5).
//
// The reader thread completes Publish requests and immediately sends the next one, so a few are
// always outstanding; the notifier thread decodes the responses in arrival order, asks Republish
// for any gap in sequence numbers, calls the handlers, and queues acknowledgements for the next
// Publish. A gap that Republish cannot fill is reported as a data_gap event, never hidden.
#include <algorithm>

#include "client_impl.h"

namespace oee::opcua {
namespace {

constexpr uint32_t kMonitoringModeReporting = 2;
constexpr uint32_t kTimestampsBoth = 2;

uint32_t publish_timeout_hint_ms(double interval_ms, uint32_t keep_alive_count) {
  return static_cast<uint32_t>(std::max(60000.0, 3 * interval_ms * (keep_alive_count + 1)));
}

void encode_data_change_filter(BinaryWriter& w, const DataChangeFilter& f) {
  w.node_id(NodeId(0, type_id::data_change_filter));
  w.u8(1);  // binary body
  std::vector<uint8_t> body;
  BinaryWriter b(body);
  b.u32(static_cast<uint32_t>(f.trigger));
  b.u32(static_cast<uint32_t>(f.deadband_type));
  b.f64(f.deadband_value);
  w.i32(static_cast<int32_t>(body.size()));
  w.bytes(body.data(), body.size());
}

}  // namespace

// ------------------------------------------------------------------------------ server side state

void Client::Impl::create_subscription_on_server(SubscriptionState& sub) {
  const auto& s = sub.settings;
  auto body = call(type_id::create_subscription_request, [&](BinaryWriter& w) {
    w.f64(s.publishing_interval_ms);
    w.u32(s.lifetime_count);
    w.u32(s.max_keep_alive_count);
    w.u32(s.max_notifications_per_publish);
    w.boolean(true);  // publishingEnabled
    w.u8(s.priority);
  });
  BinaryReader r(body);
  begin_response(r, type_id::create_subscription_response, "CreateSubscription");
  sub.server_id = r.u32();
  sub.revised_interval_ms = r.f64();
  r.u32();  // revised lifetime count
  sub.revised_keep_alive_count = r.u32();
  sub.last_sequence_number = 0;
  sub.touch();
}

std::vector<MonitoredItemResult> Client::Impl::create_items_on_server(SubscriptionState& sub,
                                                                      const std::vector<uint32_t>& handles) {
  std::vector<MonitoredItemResult> results;
  results.reserve(handles.size());
  uint32_t limit;
  {
    std::lock_guard lock(session_mutex);
    limit = limits.max_monitored_items_per_call;
  }
  const size_t batch = limit ? limit : 1000;
  for (size_t offset = 0; offset < handles.size(); offset += batch) {
    const size_t n = std::min(batch, handles.size() - offset);
    auto body = call(type_id::create_monitored_items_request, [&](BinaryWriter& w) {
      w.u32(sub.server_id);
      w.u32(kTimestampsBoth);
      w.i32(static_cast<int32_t>(n));
      for (size_t i = offset; i < offset + n; ++i) {
        const MonitoredItemRequest& item = sub.items.at(handles[i]).request;
        encode_read_value_id(w, ReadValueId{item.node_id, item.attribute_id, {}});
        w.u32(kMonitoringModeReporting);
        w.u32(handles[i]);
        w.f64(item.sampling_interval_ms);
        if (item.has_filter) encode_data_change_filter(w, item.filter); else w.extension_object({});
        w.u32(item.queue_size);
        w.boolean(item.discard_oldest);
      }
    });
    BinaryReader r(body);
    begin_response(r, type_id::create_monitored_items_response, "CreateMonitoredItems");
    const size_t count = r.array_length();
    if (count != n) throw Error(status::bad_decoding_error, "CreateMonitoredItems: result count mismatch");
    for (size_t i = 0; i < count; ++i) {
      MonitoredItemResult result;
      result.status = r.status_code();
      result.client_handle = handles[offset + i];
      result.monitored_item_id = r.u32();
      result.revised_sampling_interval_ms = r.f64();
      result.revised_queue_size = r.u32();
      r.extension_object();  // filter result
      sub.items.at(result.client_handle).server_id = result.status.is_good() ? result.monitored_item_id : 0;
      results.push_back(result);
    }
  }
  return results;
}

void Client::Impl::restore_subscriptions(DateTime since) {
  std::lock_guard ops(subscription_ops_mutex);
  std::vector<std::shared_ptr<SubscriptionState>> subs;
  {
    std::lock_guard lock(subscriptions_mutex);
    for (auto& [id, sub] : subscriptions) subs.push_back(sub);
  }
  {
    std::lock_guard lock(acks_mutex);
    acks.clear();
  }
  if (subs.empty()) return;
  // First try to move the subscriptions to the new session: nothing is lost if the server kept them.
  std::vector<StatusCode> transferred(subs.size(), status::bad_subscription_id_invalid);
  try {
    auto body = call(type_id::transfer_subscriptions_request, [&](BinaryWriter& w) {
      w.i32(static_cast<int32_t>(subs.size()));
      for (const auto& sub : subs) w.u32(sub->server_id);
      w.boolean(true);  // sendInitialValues
    });
    BinaryReader r(body);
    begin_response(r, type_id::transfer_subscriptions_response, "TransferSubscriptions");
    const size_t n = r.array_length();
    for (size_t i = 0; i < n; ++i) {
      const StatusCode s = r.status_code();
      r.array([&] { return r.u32(); });  // available sequence numbers
      if (i < transferred.size()) transferred[i] = s;
    }
  } catch (const Error&) {
    // the server cannot transfer: recreate all
  }
  for (size_t i = 0; i < subs.size(); ++i) {
    SubscriptionState& sub = *subs[i];
    if (transferred[i].is_good()) {
      emit(ClientEvent{ClientEvent::Kind::subscription_transferred, sub.id, transferred[i], since, DateTime::now(), 0, 0,
                       "subscription moved to the new session"});
      continue;
    }
    recreate_subscription(sub, since, transferred[i]);
  }
}

void Client::Impl::recreate_subscription(SubscriptionState& sub, DateTime since, StatusCode why) {
  const uint32_t old_server_id = sub.server_id;
  create_subscription_on_server(sub);
  std::vector<uint32_t> handles;
  handles.reserve(sub.items.size());
  for (const auto& [handle, item] : sub.items) handles.push_back(handle);
  create_items_on_server(sub, handles);
  sub.needs_recreate = false;
  emit(ClientEvent{ClientEvent::Kind::subscription_recreated, sub.id, why, since, DateTime::now(), 0, 0,
                   "server lost subscription " + std::to_string(old_server_id) + "; recreated as " +
                       std::to_string(sub.server_id) + " with " + std::to_string(handles.size()) +
                       " items; changes between from and to are lost"});
}

void Client::Impl::recreate_expired_subscriptions(DateTime since, bool probe) {
  std::lock_guard ops(subscription_ops_mutex);
  std::vector<std::shared_ptr<SubscriptionState>> subs;
  {
    std::lock_guard lock(subscriptions_mutex);
    for (auto& [id, sub] : subscriptions) subs.push_back(sub);
  }
  for (auto& sub : subs) {
    StatusCode why = status::bad_timeout;
    bool gone = sub->needs_recreate;
    if (!gone && probe) {
      // Republish of sequence number 0, which no message has (they start at 1):
      // BadMessageNotAvailable if the subscription lives, BadSubscriptionIdInvalid if the server
      // dropped it. Never one that exists: a message that broke the channel would break it again.
      try {
        auto body = call(type_id::republish_request, [&](BinaryWriter& w) {
          w.u32(sub->server_id);
          w.u32(0);
        });
        BinaryReader r(body);
        begin_response(r, type_id::republish_response, "Republish");
      } catch (const Error& e) {
        if (e.status().base() == status::bad_subscription_id_invalid.code) {
          gone = true;
          why = e.status();
        }
      }
    }
    if (gone) recreate_subscription(*sub, since.ticks ? since : DateTime{sub->last_publish_ticks.load()}, why);
  }
}

// ------------------------------------------------------------------------------ publish pipeline

void Client::Impl::fill_publish_pipeline() {
  {
    std::lock_guard lock(subscriptions_mutex);
    if (subscriptions.empty()) return;
  }
  while (channel_up && !stopping) {
    int in_flight = publish_in_flight.load();
    if (in_flight >= publish_target.load()) return;
    if (!publish_in_flight.compare_exchange_weak(in_flight, in_flight + 1)) continue;
    send_publish();
  }
}

void Client::Impl::send_publish() {
  std::vector<std::pair<uint32_t, uint32_t>> to_ack;
  {
    std::lock_guard lock(acks_mutex);
    to_ack.swap(acks);
  }
  double interval = 1000;
  uint32_t keep_alive = 10;
  {
    std::lock_guard lock(subscriptions_mutex);
    for (const auto& [id, sub] : subscriptions) {
      interval = std::max(interval, sub->revised_interval_ms.load());
      keep_alive = std::max(keep_alive, sub->revised_keep_alive_count.load());
    }
  }
  send_async(
      type_id::publish_request,
      [&](BinaryWriter& w) {
        w.i32(static_cast<int32_t>(to_ack.size()));
        for (const auto& [sub, seq] : to_ack) {
          w.u32(sub);
          w.u32(seq);
        }
      },
      publish_timeout_hint_ms(interval, keep_alive),
      [this](StatusCode s, std::vector<uint8_t>* body) { on_publish_completed(s, body); });
}

// Runs on the reader thread: keep the pipeline full, hand the response to the notifier.
void Client::Impl::on_publish_completed(StatusCode transport_status, std::vector<uint8_t>* body) {
  --publish_in_flight;
  if (transport_status.is_bad() || !body) return;  // connection trouble: recovery restarts the pipeline
  ++publish_responses_count;
  StatusCode result;
  try {
    BinaryReader r(*body);
    const NodeId type = r.node_id();
    result = decode_response_header(r).service_result;
    if (type.numeric == type_id::service_fault && result.is_good()) result = status::bad_unexpected_error;
  } catch (const Error& e) {
    connection_lost(generation.load(), e.status(), "malformed Publish response");
    return;
  }
  if (result.is_bad()) {
    switch (result.base()) {
      case 0x80780000u:  // BadTooManyPublishRequests: the server holds enough
        publish_target = std::max(1, publish_in_flight.load());
        return;
      case 0x80790000u:  // BadNoSubscription
        return;
      case 0x80250000u:  // BadSessionIdInvalid
      case 0x80260000u:  // BadSessionClosed
      case 0x80270000u:  // BadSessionNotActivated
        connection_lost(generation.load(), result, "session lost");
        return;
      default:  // BadTimeout and the like: ask again
        fill_publish_pipeline();
        return;
    }
  }
  {
    std::lock_guard lock(notifier_mutex);
    publish_responses.push_back(std::move(*body));
  }
  notifier_cv.notify_one();
  fill_publish_pipeline();
}

void Client::Impl::notifier_loop() {
  for (;;) {
    std::vector<uint8_t> body;
    {
      std::unique_lock lock(notifier_mutex);
      notifier_cv.wait(lock, [this] { return stopping || !publish_responses.empty(); });
      if (publish_responses.empty()) return;  // stopping
      body = std::move(publish_responses.front());
      publish_responses.pop_front();
    }
    try {
      process_publish_response(body);
    } catch (const Error& e) {
      connection_lost(generation.load(), e.status(), std::string("Publish response: ") + e.what());
    }
  }
}

void Client::Impl::process_publish_response(std::vector<uint8_t>& body) {
  BinaryReader r(body);
  r.node_id();
  decode_response_header(r);
  const uint32_t server_id = r.u32();
  const auto available = r.array([&] { return r.u32(); });
  r.boolean();  // moreNotifications: the pipeline asks again anyway
  const uint32_t sequence_number = r.u32();
  const DateTime publish_time = r.date_time();
  std::shared_ptr<SubscriptionState> sub;
  {
    std::lock_guard lock(subscriptions_mutex);
    for (auto& [id, s] : subscriptions) {
      if (s->server_id == server_id) sub = s;
    }
  }
  if (!sub) return;  // deleted meanwhile
  sub->touch();
  sub->keep_alive_reported = false;
  // A keep-alive carries no data and the sequence number the next data message will use; either
  // way, numbers between the last one delivered and this one are missing.
  BinaryReader peek = r;
  const bool keep_alive = peek.i32() <= 0;
  const uint32_t last = sub->last_sequence_number;
  if (last != 0 && sequence_number > last + 1) {
    // Gap: recover what the server still holds, report the rest.
    const uint32_t last_missing = sequence_number - 1;
    uint32_t gap_start = 0;
    for (uint32_t s = last + 1; s <= last_missing; ++s) {
      const bool held = std::find(available.begin(), available.end(), s) != available.end();
      if (held && republish(*sub, s)) {
        if (gap_start) {
          emit(ClientEvent{ClientEvent::Kind::data_gap, sub->id, status::bad_message_not_available, DateTime{sub->last_publish_ticks.load()},
                           publish_time, gap_start, s - 1, "notification messages lost"});
          gap_start = 0;
        }
      } else if (!gap_start) {
        gap_start = s;
      }
    }
    if (gap_start) {
      emit(ClientEvent{ClientEvent::Kind::data_gap, sub->id, status::bad_message_not_available, DateTime{sub->last_publish_ticks.load()},
                       publish_time, gap_start, last_missing, "notification messages lost"});
    }
    sub->last_sequence_number = last_missing;
  }
  if (keep_alive) return;
  if (sub->last_sequence_number != 0 && sequence_number <= sub->last_sequence_number) {
    std::lock_guard lock(acks_mutex);  // a repeat of what we have: acknowledge, do not deliver twice
    acks.emplace_back(server_id, sequence_number);
    return;
  }
  deliver_notification(*sub, r, sequence_number);
  sub->last_sequence_number = sequence_number;
  sub->last_publish_ticks = publish_time.ticks;
  std::lock_guard lock(acks_mutex);
  acks.emplace_back(server_id, sequence_number);
}

void Client::Impl::deliver_notification(SubscriptionState& sub, BinaryReader& r, uint32_t sequence_number) {
  const size_t count = r.array_length();
  for (size_t i = 0; i < count; ++i) {
    const NodeId type = r.node_id();
    const uint8_t encoding = r.u8();
    if (encoding != 1) {
      if (encoding != 0) r.string();
      continue;
    }
    const int32_t length = r.i32();
    if (length < 0 || static_cast<size_t>(length) > r.remaining()) throw DecodeError("notification length");
    BinaryReader b(r.position(), static_cast<size_t>(length));
    r.skip(static_cast<size_t>(length));
    if (type.numeric == type_id::data_change_notification && type.namespace_index == 0) {
      const size_t n = b.array_length(5);
      // Runs on the notifier thread (or its Republish): the buffers are its own.
      auto& values = notification_values;
      auto& changes = notification_changes;
      if (values.size() < n) values.resize(n);
      changes.resize(n);
      for (size_t k = 0; k < n; ++k) {
        changes[k].client_handle = b.u32();
        b.data_value_into(values[k]);
        changes[k].value = &values[k];
      }
      if (sub.handler) sub.handler(sub.id, sequence_number, std::span<const DataChange>(changes.data(), n));
      note_oversized(sub, std::span<const DataChange>(changes.data(), n));
      report_overflows(sub, sequence_number, std::span<const DataChange>(changes.data(), n));
    } else if (type.numeric == type_id::status_change_notification && type.namespace_index == 0) {
      const StatusCode s = b.status_code();
      if (s.base() == status::bad_timeout.code) {  // the subscription expired on the server
        sub.needs_recreate = true;
        supervisor_cv.notify_all();
      }
      emit(ClientEvent{ClientEvent::Kind::subscription_status, sub.id, s, DateTime::now(), {}, sequence_number,
                       sequence_number, "StatusChangeNotification"});
    }
  }
}

// An item whose queue overflowed on the server (an outage longer than queue_size samples, or a
// value changing faster than the publishing interval drains it) lost values no Republish brings
// back: said once per item and notification, so the gap is not silent.
void Client::Impl::report_overflows(const SubscriptionState& sub, uint32_t sequence_number,
                                    std::span<const DataChange> changes) {
  for (const auto& c : changes) {
    if (!c.value->status.has_overflow_bit()) continue;
    ClientEvent e{ClientEvent::Kind::queue_overflow, sub.id, c.value->status, {}, c.value->source_timestamp,
                  sequence_number, sequence_number, "the server's queue overflowed: values before this one were discarded"};
    e.client_handle = c.client_handle;
    emit(std::move(e));
  }
}

// A value larger than the channel can carry comes as BadResponseTooLarge (node-opcua) or
// BadEncodingLimitsExceeded: its item would fail the same way on every change, so the supervisor
// deletes it (drop_oversized_items) and the other items go on.
void Client::Impl::note_oversized(const SubscriptionState& sub, std::span<const DataChange> changes) {
  bool any = false;
  for (const auto& c : changes) {
    const uint32_t base = c.value->status.base();
    if (base != status::bad_response_too_large.code && base != status::bad_encoding_limits_exceeded.code) continue;
    std::lock_guard lock(oversized_mutex);
    oversized.emplace_back(sub.id, c.client_handle, c.value->status);
    any = true;
  }
  if (any) supervisor_cv.notify_all();
}

void Client::Impl::drop_oversized_items() {
  std::vector<std::tuple<uint32_t, uint32_t, StatusCode>> drop;
  {
    std::lock_guard lock(oversized_mutex);
    drop.swap(oversized);
  }
  for (const auto& [subscription, handle, why] : drop) {
    std::string node;
    {
      std::lock_guard ops(subscription_ops_mutex);
      std::lock_guard lock(subscriptions_mutex);
      auto it = subscriptions.find(subscription);
      if (it == subscriptions.end() || !it->second->items.count(handle)) continue;  // already gone
      node = it->second->items.at(handle).request.node_id.to_string();
    }
    try {
      delete_items(subscription, std::span<const uint32_t>(&handle, 1));
    } catch (const Error& e) {
      if (e.status() != status::bad_subscription_id_invalid) connection_lost(generation.load(), e.status(), e.what());
    }
    emit(ClientEvent{ClientEvent::Kind::item_dropped, subscription, why, DateTime::now(), {}, 0, 0,
                     "monitored item " + std::to_string(handle) + " (" + node +
                         ") deleted: its value is larger than the channel can carry",
                     handle, 0});
  }
}

bool Client::Impl::republish(SubscriptionState& sub, uint32_t sequence_number) {
  try {
    auto body = call(type_id::republish_request, [&](BinaryWriter& w) {
      w.u32(sub.server_id);
      w.u32(sequence_number);
    });
    BinaryReader r(body);
    begin_response(r, type_id::republish_response, "Republish");
    const uint32_t seq = r.u32();
    r.date_time();
    deliver_notification(sub, r, seq);
    ++republished;
    std::lock_guard lock(acks_mutex);
    acks.emplace_back(sub.server_id, seq);
    return true;
  } catch (const Error&) {
    return false;
  }
}

void Client::Impl::check_keep_alive() {
  std::vector<std::shared_ptr<SubscriptionState>> subs;
  {
    std::lock_guard lock(subscriptions_mutex);
    for (auto& [id, sub] : subscriptions) subs.push_back(sub);
  }
  for (auto& sub : subs) {
    if (sub->server_id == 0 || sub->keep_alive_reported) continue;
    const auto allowed = std::chrono::milliseconds(
        static_cast<int64_t>(sub->revised_interval_ms * (sub->revised_keep_alive_count + 1) * 1.5 + 2000));
    if (sub->since_last_publish() > allowed) {
      sub->keep_alive_reported = true;
      emit(ClientEvent{ClientEvent::Kind::keep_alive_missed, sub->id, status::bad_timeout, DateTime{sub->last_publish_ticks.load()},
                       DateTime::now(), 0, 0, "no Publish response within the keep-alive time"});
      // The connection is silently dead or the server stopped publishing: start over.
      connection_lost(generation.load(), status::bad_timeout, "subscription keep-alive missed");
      return;
    }
  }
}

// ------------------------------------------------------------------------------ public API

uint32_t Client::create_subscription(const SubscriptionSettings& settings, DataChangeHandler handler) {
  Impl& d = *impl_;
  std::lock_guard ops(d.subscription_ops_mutex);
  auto sub = std::make_shared<Impl::SubscriptionState>();
  sub->settings = settings;
  sub->handler = std::move(handler);
  d.create_subscription_on_server(*sub);
  {
    std::lock_guard lock(d.subscriptions_mutex);
    sub->id = d.next_subscription_id++;
    d.subscriptions.emplace(sub->id, sub);
  }
  d.fill_publish_pipeline();
  return sub->id;
}

void Client::modify_subscription(uint32_t subscription, const SubscriptionSettings& settings) {
  Impl& d = *impl_;
  std::lock_guard ops(d.subscription_ops_mutex);
  std::shared_ptr<Impl::SubscriptionState> sub;
  {
    std::lock_guard lock(d.subscriptions_mutex);
    auto it = d.subscriptions.find(subscription);
    if (it == d.subscriptions.end()) throw Error(status::bad_subscription_id_invalid, "no such subscription");
    sub = it->second;
  }
  auto body = d.call(type_id::modify_subscription_request, [&](BinaryWriter& w) {
    w.u32(sub->server_id);
    w.f64(settings.publishing_interval_ms);
    w.u32(settings.lifetime_count);
    w.u32(settings.max_keep_alive_count);
    w.u32(settings.max_notifications_per_publish);
    w.u8(settings.priority);
  });
  BinaryReader r(body);
  begin_response(r, type_id::modify_subscription_response, "ModifySubscription");
  sub->settings = settings;
  sub->revised_interval_ms = r.f64();
  r.u32();
  sub->revised_keep_alive_count = r.u32();
}

void Client::delete_subscription(uint32_t subscription) {
  Impl& d = *impl_;
  std::lock_guard ops(d.subscription_ops_mutex);
  std::shared_ptr<Impl::SubscriptionState> sub;
  {
    std::lock_guard lock(d.subscriptions_mutex);
    auto it = d.subscriptions.find(subscription);
    if (it == d.subscriptions.end()) throw Error(status::bad_subscription_id_invalid, "no such subscription");
    sub = it->second;
    d.subscriptions.erase(it);
  }
  auto body = d.call(type_id::delete_subscriptions_request, [&](BinaryWriter& w) {
    w.i32(1);
    w.u32(sub->server_id);
  });
  BinaryReader r(body);
  begin_response(r, type_id::delete_subscriptions_response, "DeleteSubscriptions");
  const auto results = r.array([&] { return r.status_code(); });
  if (!results.empty() && results[0].is_bad()) throw Error(results[0], "DeleteSubscriptions");
}

std::vector<MonitoredItemResult> Client::create_monitored_items(uint32_t subscription,
                                                                std::span<const MonitoredItemRequest> items) {
  Impl& d = *impl_;
  std::lock_guard ops(d.subscription_ops_mutex);
  std::shared_ptr<Impl::SubscriptionState> sub;
  {
    std::lock_guard lock(d.subscriptions_mutex);
    auto it = d.subscriptions.find(subscription);
    if (it == d.subscriptions.end()) throw Error(status::bad_subscription_id_invalid, "no such subscription");
    sub = it->second;
  }
  std::vector<uint32_t> handles;
  handles.reserve(items.size());
  for (const auto& item : items) {
    const uint32_t handle = d.next_client_handle++;
    sub->items.emplace(handle, Impl::MonitoredItemState{item, 0});
    handles.push_back(handle);
  }
  std::vector<MonitoredItemResult> results;
  try {
    results = d.create_items_on_server(*sub, handles);
  } catch (...) {
    for (uint32_t h : handles) sub->items.erase(h);
    throw;
  }
  // Items the server refused are not kept: recovery must not recreate them.
  for (const auto& result : results) {
    if (result.status.is_bad()) sub->items.erase(result.client_handle);
  }
  return results;
}

void Client::delete_monitored_items(uint32_t subscription, std::span<const uint32_t> client_handles) {
  impl_->delete_items(subscription, client_handles);
}

void Client::Impl::delete_items(uint32_t subscription, std::span<const uint32_t> client_handles) {
  Impl& d = *this;
  std::lock_guard ops(d.subscription_ops_mutex);
  std::shared_ptr<Impl::SubscriptionState> sub;
  {
    std::lock_guard lock(d.subscriptions_mutex);
    auto it = d.subscriptions.find(subscription);
    if (it == d.subscriptions.end()) throw Error(status::bad_subscription_id_invalid, "no such subscription");
    sub = it->second;
  }
  std::vector<uint32_t> ids;
  for (uint32_t h : client_handles) {
    auto it = sub->items.find(h);
    if (it == sub->items.end()) continue;
    if (it->second.server_id) ids.push_back(it->second.server_id);
    sub->items.erase(it);
  }
  if (ids.empty()) return;
  auto body = d.call(type_id::delete_monitored_items_request, [&](BinaryWriter& w) {
    w.u32(sub->server_id);
    w.array(ids, [&](uint32_t id) { w.u32(id); });
  });
  BinaryReader r(body);
  begin_response(r, type_id::delete_monitored_items_response, "DeleteMonitoredItems");
}

}  // namespace oee::opcua
