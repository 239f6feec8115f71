#include "oee/edge/queue_publisher.h"

#include <chrono>
#include <cstdio>
#include <map>
#include <utility>
#include <vector>

#include "oee/codec/commit_report.h"
#include "oee/codec/event_json.h"
#include "oee/core/time.h"

namespace oee::edge {
namespace {

TimeMs wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string make_queue_record(std::string_view machine, std::string_view event_json) {
  std::string r;
  r.reserve(machine.size() + 1 + event_json.size());
  r.append(machine);
  r.push_back('\t');
  r.append(event_json);
  return r;
}

void append_published_event(std::string& out, std::string_view json, std::string_view src, std::uint64_t seq,
                            std::string_view inc, bool historical) {
  out += "{\"src\":";
  codec::append_json_string(out, src);
  out += ",\"seq\":";
  out += std::to_string(seq);
  if (!inc.empty()) {
    out += ",\"inc\":";
    codec::append_json_string(out, inc);
  }
  if (historical) out += ",\"historical\":true";
  if (json.size() > 2) {  // "{...}": keep the fields after the brace
    out += ',';
    out.append(json.substr(1));
  } else {
    out += '}';
  }
}

std::string status_topic(std::string_view edge_id) { return "oee/v1/_edge/" + std::string(edge_id) + "/status"; }
std::string events_topic(std::string_view machine_path) { return "oee/v1/" + std::string(machine_path) + "/events"; }

QueuePublisher::QueuePublisher(DurableQueue& queue, PublisherOptions options)
    : queue_(queue), options_(std::move(options)), resend_wait_ms_(options_.resend_after_ms) {}

QueuePublisher::~QueuePublisher() { stop(); }

void QueuePublisher::start() {
  if (running_.exchange(true)) return;
  thread_ = std::thread([this] { run(); });
}

void QueuePublisher::stop() {
  if (!running_.exchange(false)) return;
  acked_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

PublisherStats QueuePublisher::stats() const {
  std::lock_guard lock(mutex_);
  PublisherStats s = stats_;
  s.resend_wait_ms = resend_wait_ms_;
  return s;
}

void QueuePublisher::reset_for_generation(std::uint64_t generation) {
  std::lock_guard lock(mutex_);
  generation_ = generation;
  windows_.clear();
  window_base_ = 0;
  inflight_.clear();
  early_acks_.clear();
  inflight_count_ = 0;
  next_read_ = queue_.first_unacked();
  live_from_ = queue_.next_id();
}

void QueuePublisher::on_published(int message_id, std::uint64_t generation) {
  std::lock_guard lock(mutex_);
  const auto it = inflight_.find({generation, message_id});
  if (it == inflight_.end()) {
    if (generation >= generation_) early_acks_.insert({generation, message_id});
    return;
  }
  const std::uint64_t index = it->second;
  inflight_.erase(it);
  if (index == kStatusMessage) return;
  --inflight_count_;
  ++stats_.messages_acknowledged;
  if (index >= window_base_ && index - window_base_ < windows_.size()) --windows_[index - window_base_].pending;
  advance_acks_locked();
  acked_cv_.notify_all();
}

void QueuePublisher::register_published_locked(std::uint64_t generation, int message_id, std::uint64_t window_index) {
  // Message ids grow by one per publish on a connection (mod 65536) and only this thread
  // publishes: an early acknowledgement of an id before this one is stale (its message was
  // given up by a reset) and must not match a later message that reuses the id.
  for (auto it = early_acks_.begin(); it != early_acks_.end();) {
    const int behind = (message_id - it->second + 65536) % 65536;
    if (it->first < generation || (it->first == generation && behind > 0 && behind < 32768)) {
      it = early_acks_.erase(it);
    } else {
      ++it;
    }
  }
  const bool acked_already = early_acks_.erase({generation, message_id}) > 0;
  if (window_index == kStatusMessage) {
    if (!acked_already) inflight_[{generation, message_id}] = kStatusMessage;
    return;
  }
  if (acked_already) {
    ++stats_.messages_acknowledged;
    return;
  }
  inflight_[{generation, message_id}] = window_index;
  ++inflight_count_;
  ++windows_[window_index - window_base_].pending;
}

void QueuePublisher::advance_acks_locked() {
  std::uint64_t ack_end = 0;
  while (!windows_.empty() && windows_.front().complete && windows_.front().pending == 0) {
    ack_end = windows_.front().end_id;
    windows_.pop_front();
    ++window_base_;
  }
  if (ack_end == 0) return;
  broker_acked_end_ = std::max(broker_acked_end_, ack_end);
  if (!options_.commit_ack) queue_.ack_until(ack_end);
}

void QueuePublisher::on_commit_report(std::string_view payload) {
  std::string error;
  const auto report = codec::parse_commit_report(payload, error);
  if (!report || report->src != options_.edge_id || report->inc != options_.incarnation) return;
  const auto first = static_cast<std::int64_t>(queue_.first_unacked());
  const auto end = static_cast<std::uint64_t>(codec::committed_end(*report, first));
  std::lock_guard lock(mutex_);
  ++stats_.commit_reports;
  // Never past what exists here: a report of an older queue under the same names is not ours.
  take_commit_end_locked(std::min(end, queue_.next_id()));
}

void QueuePublisher::take_commit_end_locked(std::uint64_t end) {
  if (options_.commit_ack) queue_.ack_until(end);
  const std::int64_t now = steady_ms();
  if (end >= broker_acked_end_) {
    missing_from_ = UINT64_MAX;
    resend_wait_ms_ = options_.resend_after_ms;  // caught up
    return;
  }
  relax_resend_wait_locked(now);
  // The broker acknowledged `end` and the server does not have it: in flight, or lost. A server
  // that keeps committing moves `end` on; one that stays at the same record this long lost it.
  if (missing_from_ != end) {
    missing_from_ = end;
    missing_since_ms_ = now;
    return;
  }
  if (now - missing_since_ms_ < resend_wait_ms_) return;
  resend_requested_ = true;
  missing_since_ms_ = now;
  std::fprintf(stderr, "edge %s: the server misses seq %llu, which the broker acknowledged %lld ms ago or more: sending again from seq %llu\n",
               options_.edge_id.c_str(), static_cast<unsigned long long>(end), static_cast<long long>(resend_wait_ms_),
               static_cast<unsigned long long>(end));
  ++stats_.resends;
  stats_.resent_from_seq = end;
  last_resend_ms_ = now;
  resend_wait_ms_ = std::min<std::int64_t>(resend_wait_ms_ * 2, std::int64_t{options_.resend_after_ms} * kMaxResendBackoff);
}

void QueuePublisher::relax_resend_wait_locked(std::int64_t now) {
  if (resend_wait_ms_ <= options_.resend_after_ms || now - last_resend_ms_ < 4 * resend_wait_ms_) return;
  resend_wait_ms_ = std::max<std::int64_t>(options_.resend_after_ms, resend_wait_ms_ / 2);
  last_resend_ms_ = now;
}

void QueuePublisher::build_json(std::string_view machine, std::span<const QueueRecord* const> records,
                                std::uint64_t live_from, std::vector<OutMessage>& out) const {
  OutMessage m;
  m.topic = events_topic(machine);
  m.payload += '[';
  for (const QueueRecord* r : records) {
    if (m.events++ > 0) m.payload += ',';
    const bool hist = r->id < live_from;
    m.historical += hist;
    append_published_event(m.payload, std::string_view(r->payload).substr(machine.size() + 1), options_.edge_id, r->id,
                           options_.incarnation, hist);
  }
  m.payload += ']';
  out.push_back(std::move(m));
}

bool QueuePublisher::publish_batch() {
  std::vector<QueueRecord> records;
  std::uint64_t from, generation, live_from;
  {
    std::lock_guard lock(mutex_);
    from = next_read_;
    generation = generation_;
    live_from = live_from_;
  }
  queue_.read(from, static_cast<std::size_t>(options_.max_events_per_message) * 4, 4u << 20, records);
  if (records.empty()) return false;

  // Group per machine, keeping each machine's order; one message per machine (split at the limit).
  std::map<std::string_view, std::vector<const QueueRecord*>> by_machine;
  for (const auto& r : records) {
    const auto tab = r.payload.find('\t');
    if (tab == std::string::npos) continue;  // not ours: never happens with records we wrote
    by_machine[std::string_view(r.payload).substr(0, tab)].push_back(&r);
  }
  std::vector<OutMessage> messages;
  for (const auto& [machine, list] : by_machine) {
    const auto chunk = static_cast<std::size_t>(options_.max_events_per_message);
    for (std::size_t i = 0; i < list.size(); i += chunk) {
      const std::span<const QueueRecord* const> part(list.data() + i, std::min(chunk, list.size() - i));
      if (format_ != nullptr) format_->build(machine, part, live_from, messages);
      else build_json(machine, part, live_from, messages);
    }
  }
  std::uint64_t window_index;
  {
    std::lock_guard lock(mutex_);
    windows_.push_back(Window{records.back().id + 1, 0, false});
    window_index = window_base_ + windows_.size() - 1;
  }
  for (const auto& m : messages) {
    std::uint64_t sent_on = 0;
    const auto mid = client_->publish(m.topic, m.payload, 1, false, &sent_on);
    if (!mid || sent_on != generation) {
      // Connection lost (or the message refused): start over from the oldest unacknowledged
      // record; whatever was already delivered comes again and the server drops it by src+seq.
      reset_for_generation(client_->generation());
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      return true;
    }
    std::lock_guard lock(mutex_);
    if (generation_ != generation) return true;  // reset meanwhile
    register_published_locked(generation, *mid, window_index);
    ++stats_.messages_published;
    stats_.events_published += m.events;
    stats_.historical_events_published += m.historical;
  }
  std::lock_guard lock(mutex_);
  if (generation_ != generation) return true;
  windows_[window_index - window_base_].complete = true;
  next_read_ = records.back().id + 1;
  advance_acks_locked();
  return true;
}

std::string QueuePublisher::status_json(std::string_view state) const {
  const auto s = queue_.stats();
  const TimeMs now = wall_ms();
  std::string j = "{\"edge\":";
  codec::append_json_string(j, options_.edge_id);
  j += ",\"state\":";
  codec::append_json_string(j, state == "online" && !s.io_error.empty() ? std::string_view("degraded") : state);
  j += ",\"ts\":\"" + format_rfc3339(now) + "\"";
  j += ",\"queue_depth\":" + std::to_string(s.depth_records);
  j += ",\"oldest_unsent_age_ms\":" +
       std::to_string(s.oldest_unacked_appended_ms > 0 ? std::max<TimeMs>(0, now - s.oldest_unacked_appended_ms) : 0);
  j += ",\"queue_bytes\":" + std::to_string(s.disk_bytes);
  j += ",\"evicted_events\":" + std::to_string(s.evicted_records);
  j += ",\"next_seq\":" + std::to_string(s.next_id);
  j += ",\"inc\":";
  codec::append_json_string(j, options_.incarnation);
  std::lock_guard lock(mutex_);
  // Acknowledged by the broker, not yet reported committed by the server.
  j += ",\"awaiting_commit\":" + std::to_string(broker_acked_end_ > s.first_unacked ? broker_acked_end_ - s.first_unacked : 0);
  j += ",\"resends\":" + std::to_string(stats_.resends);
  j += ",\"resend_wait_ms\":" + std::to_string(resend_wait_ms_);
  if (!s.io_error.empty()) {  // the queue stopped accepting after a disk error (docs/edge.md)
    j += ",\"io_error\":";
    codec::append_json_string(j, s.io_error);
  }
  j += "}";
  return j;
}

void QueuePublisher::publish_offline_status() {
  if (client_ != nullptr && client_->connected()) client_->publish(status_topic(options_.edge_id), status_json("offline"), 1, true);
}

void QueuePublisher::publish_status() { publish_untracked(status_topic(options_.edge_id), status_json("online"), true); }

bool QueuePublisher::publish_untracked(const std::string& topic, const std::string& payload, bool retain) {
  std::uint64_t sent_on = 0;
  const auto mid = client_->publish(topic, payload, 1, retain, &sent_on);
  std::lock_guard lock(mutex_);
  if (!mid || sent_on != generation_) return false;
  register_published_locked(sent_on, *mid, kStatusMessage);
  return true;
}

bool QueuePublisher::run_session(std::uint64_t generation) {
  std::vector<OutMessage> due;
  const auto state = format_->session(generation, due);
  for (const auto& m : due) {
    if (!publish_untracked(m.topic, m.payload, false)) return false;  // connection lost: the next one starts over
  }
  if (state == MessageFormat::Session::end) client_->reconnect();
  return state == MessageFormat::Session::ready;
}

void QueuePublisher::run() {
  std::uint64_t seen_generation = 0;
  auto next_status = std::chrono::steady_clock::now();
  while (running_) {
    if (!client_->connected()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    const std::uint64_t generation = client_->generation();
    bool resend = false;
    {
      std::lock_guard lock(mutex_);
      resend = std::exchange(resend_requested_, false);
    }
    if (generation != seen_generation || resend) {
      // A new connection, or records the server misses: from the oldest unacknowledged record.
      if (generation != seen_generation) next_status = std::chrono::steady_clock::now();
      if (generation != seen_generation && format_ != nullptr) format_->on_connection(generation);
      seen_generation = generation;
      reset_for_generation(generation);
    }
    if (format_ != nullptr && !run_session(generation)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    if (options_.publish_status && std::chrono::steady_clock::now() >= next_status) {
      publish_status();
      next_status = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.status_interval_ms);
    }
    {
      std::unique_lock lock(mutex_);
      if (inflight_count_ >= options_.max_inflight_messages) {
        acked_cv_.wait_for(lock, std::chrono::milliseconds(50));
        continue;
      }
    }
    if (!publish_batch()) {
      std::uint64_t from;
      {
        std::lock_guard lock(mutex_);
        from = next_read_;
      }
      queue_.wait_readable(from, std::chrono::milliseconds(50));
    }
  }
}

}  // namespace oee::edge
