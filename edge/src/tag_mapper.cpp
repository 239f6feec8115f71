#include "oee/edge/tag_mapper.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace oee::edge {

std::string format_raw_value(double v) {
  if (std::isfinite(v) && std::nearbyint(v) == v && std::fabs(v) < 9.0e15) {
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, static_cast<long long>(v));
    return std::string(buf, r.ptr);
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

namespace {

Event base_event(const TagConfig& tag, TimeMs ts) {
  Event e;
  e.ts = ts;
  e.machine = tag.machine;
  return e;
}

}  // namespace

bool TagMapper::emit_text(std::string text, TimeMs ts, Event& out) {
  if (has_last_ && text == last_text_) return false;
  has_last_ = true;
  last_text_ = text;
  if (tag_->signal == SignalKind::run) {
    if (run_ != nullptr) run_->on_order(std::move(text), ts);
    return false;
  }
  if (tag_->signal == SignalKind::product && run_ != nullptr) run_->on_product(text);
  out = base_event(*tag_, ts);
  if (tag_->signal == SignalKind::reason) {
    // 0 or nothing is "no reason" (PackML StopReason.ID 0): it names no stop.
    if (text.empty() || text == "0") return false;
    out.type = EventType::reason;
    out.reason = std::move(text);
    out.at = ts;
  } else if (tag_->signal == SignalKind::state) {
    out.type = EventType::state;
    const auto canonical = machine_->resolve_state(text);
    out.state = canonical ? std::string(state_name(*canonical)) : std::move(text);
  } else {
    out.type = EventType::product;
    out.product = std::move(text);
  }
  return true;
}

bool TagMapper::on_number(double raw, TimeMs ts, Event& out) {
  if (!std::isfinite(raw)) return false;  // a NaN register says nothing
  const double v = raw * tag_->scale;
  switch (tag_->signal) {
    case SignalKind::state:
    case SignalKind::product:
    case SignalKind::reason:
    case SignalKind::run:
      last_ = v;
      return emit_text(format_raw_value(v), ts, out);
    case SignalKind::run_quantity:
      last_ = v;
      has_last_ = true;
      if (run_ != nullptr) run_->on_quantity(std::llround(v));
      return false;
    case SignalKind::counter: {
      const bool changed = !has_last_ || v != last_;
      last_ = v;
      has_last_ = true;
      if (!changed) return false;
      out = base_event(*tag_, ts);
      out.type = EventType::counter;
      out.counter = tag_->signal_name == "good" ? CounterName::good
                    : tag_->signal_name == "reject" ? CounterName::reject
                                                     : CounterName::total;
      out.value = std::llround(v);
      // `rollover` is the register's modulus, in raw units like the register: the value is scaled,
      // so its wrap is too (else a wrap of a scaled counter reads as a reset or a wrong count).
      out.rollover = tag_->rollover > 0 ? std::llround(static_cast<double>(tag_->rollover) * tag_->scale) : 0;
      return true;
    }
    case SignalKind::count: {
      const bool changed = !has_last_ || v != last_;
      last_ = v;
      has_last_ = true;
      const auto n = std::llround(v);
      if (!changed || n <= 0) return false;
      out = base_event(*tag_, ts);
      out.type = EventType::count;
      (tag_->signal_name == "reject" ? out.reject : out.good) = n;
      return true;
    }
    case SignalKind::sample: {
      const bool changed = !has_last_ || v != last_;
      last_ = v;
      has_last_ = true;
      if (!changed) return false;  // history of changes: a steady value is one sample
      out = base_event(*tag_, ts);
      out.type = EventType::sample;
      out.sample_name = !tag_->signal_name.empty() ? tag_->signal_name : !tag_->node.empty() ? tag_->node : "sample";
      out.sample_value = v;
      return true;
    }
  }
  return false;
}

bool TagMapper::on_text(std::string_view text, TimeMs ts, Event& out) {
  if (tag_->signal == SignalKind::state || tag_->signal == SignalKind::product || tag_->signal == SignalKind::reason ||
      tag_->signal == SignalKind::run)
    return emit_text(std::string(text), ts, out);
  double v = 0;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), v);
  if (r.ec != std::errc() || r.ptr != text.data() + text.size()) return false;
  return on_number(v, ts, out);
}

}  // namespace oee::edge
