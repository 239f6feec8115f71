#include "oee/codec/event_json.h"

#include <simdjson.h>

#include <charconv>
#include <cmath>

#include "oee/core/count_bounds.h"

namespace oee::codec {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

// Instants RFC 3339 can write: years 0000 to 9999.
constexpr TimeMs kEarliestMs = -62167219200000;
constexpr TimeMs kLatestMs = 253402300799999;

// Counts and counter values are bounded so that no arithmetic on them can overflow (the engine's
// reasons: core/include/oee/core/count_bounds.h).
constexpr std::string_view kAboveMaxCount = "above 2^40 (1099511627776)";

bool fail(std::string& error, std::string_view field, std::string_view what) {
  error = "field '";
  error += field;
  error += "': ";
  error += what;
  return false;
}

bool get_string(element v, std::string_view field, std::string& out, std::string& error) {
  std::string_view s;
  if (v.get(s) != simdjson::SUCCESS) return fail(error, field, "must be a string");
  if (s.size() > kMaxStringBytes) return fail(error, field, "longer than 256 bytes");
  out.assign(s);
  return true;
}

bool get_int(element v, std::string_view field, std::int64_t& out, std::string& error, std::int64_t min_value) {
  std::int64_t i;
  if (v.get(i) == simdjson::SUCCESS) {
    out = i;
  } else {
    std::uint64_t u;
    double d;
    if (v.get(u) == simdjson::SUCCESS) return fail(error, field, "out of range");
    if (v.get(d) != simdjson::SUCCESS) return fail(error, field, "must be an integer");
    if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > 9.0e15) return fail(error, field, "must be an integer");
    out = static_cast<std::int64_t>(d);
  }
  if (out < min_value) return fail(error, field, min_value == 0 ? "must not be negative" : "must be positive");
  return true;
}

bool get_time(element v, std::string_view field, TimeMs& out, std::string& error) {
  std::string_view s;
  if (v.get(s) == simdjson::SUCCESS) {
    auto t = parse_timestamp(s);
    if (!t) return fail(error, field, "not an RFC 3339 timestamp");
    if (*t < kEarliestMs || *t > kLatestMs) return fail(error, field, "out of range (years 0000 to 9999)");
    out = *t;
    return true;
  }
  std::int64_t i;
  if (v.get(i) == simdjson::SUCCESS) {
    if (i < kEarliestMs || i > kLatestMs) return fail(error, field, "out of range (years 0000 to 9999)");
    out = i;
    return true;
  }
  return fail(error, field, "must be an RFC 3339 string or epoch milliseconds");
}

// A run event: start with its product and quantity (and an optional cycle override), or end.
bool check_run(Event& e, std::string_view action, bool has_product, bool has_quantity, double ideal_cycle_s,
               std::string& error) {
  if (e.run.empty()) return fail(error, "run", "missing");
  if (e.run.size() > kMaxRunIdBytes) return fail(error, "run", "longer than 128 bytes");
  if (action == "end") {
    e.run_action = RunAction::end;
    e.quantity = 0;
    return true;
  }
  if (action != "start") return fail(error, "action", "must be start or end");
  e.run_action = RunAction::start;
  if (!has_product || e.product.empty()) return fail(error, "product", "missing");
  if (!has_quantity) return fail(error, "quantity", "missing");
  if (e.quantity > kMaxCount) return fail(error, "quantity", kAboveMaxCount);
  e.run_cycle_us = static_cast<std::int64_t>(std::llround(ideal_cycle_s * 1e6));
  return true;
}

bool parse_object(simdjson::dom::object obj, Event& e, std::string& error, std::string_view default_machine) {
  e = Event{};
  bool has_ts = false, has_type = false, has_machine = false, has_state = false, has_product = false,
       has_reason = false, has_at = false, has_value = false, has_name = false, has_quantity = false;
  std::string type;
  std::string action;
  double ideal_cycle_s = 0;
  element value_element;
  std::string counter;
  for (auto field : obj) {
    const std::string_view key = field.key;
    const element v = field.value;
    if (key == "ts") {
      if (!get_time(v, key, e.ts, error)) return false;
      has_ts = true;
    } else if (key == "machine") {
      if (!get_string(v, key, e.machine, error)) return false;
      has_machine = true;
    } else if (key == "type") {
      if (!get_string(v, key, type, error)) return false;
      has_type = true;
    } else if (key == "src") {
      if (!get_string(v, key, e.src, error)) return false;
    } else if (key == "seq") {
      if (!get_int(v, key, e.seq, error, 0)) return false;
    } else if (key == "inc") {
      if (!get_string(v, key, e.inc, error)) return false;
    } else if (key == "state") {
      // Raw PLC values may come as numbers: they map through the machine's table like strings.
      std::int64_t raw;
      if (v.get(raw) == simdjson::SUCCESS) {
        e.state = std::to_string(raw);
      } else if (!get_string(v, key, e.state, error)) {
        return false;
      }
      has_state = true;
    } else if (key == "reason") {
      if (!v.is_null() && !get_string(v, key, e.reason, error)) return false;
      has_reason = !e.reason.empty();
    } else if (key == "good") {
      if (!get_int(v, key, e.good, error, 0)) return false;
    } else if (key == "reject") {
      if (!get_int(v, key, e.reject, error, 0)) return false;
    } else if (key == "name") {
      if (!get_string(v, key, counter, error)) return false;
      has_name = true;
    } else if (key == "value") {  // an integer of a counter, a number of a sample: read below
      value_element = v;
      has_value = true;
    } else if (key == "rollover") {
      if (!v.is_null() && !get_int(v, key, e.rollover, error, 1)) return false;
    } else if (key == "product") {
      if (!get_string(v, key, e.product, error)) return false;
      has_product = true;
    } else if (key == "at") {
      if (!get_time(v, key, e.at, error)) return false;
      has_at = true;
    } else if (key == "action") {
      if (!get_string(v, key, action, error)) return false;
    } else if (key == "run") {
      if (!get_string(v, key, e.run, error)) return false;
    } else if (key == "quantity") {
      if (!get_int(v, key, e.quantity, error, 1)) return false;
      has_quantity = true;
    } else if (key == "ideal_cycle_s") {
      if (v.get(ideal_cycle_s) != simdjson::SUCCESS || !(ideal_cycle_s > 0) || ideal_cycle_s > 86'400)
        return fail(error, key, "must be a number of seconds above 0, at most 86400");
    }
    // Unknown fields are ignored: the contract may be extended.
  }
  if (!has_ts) return fail(error, "ts", "missing");
  if (!has_type) return fail(error, "type", "missing");
  if (!has_machine) {
    if (default_machine.empty()) return fail(error, "machine", "missing");
    e.machine.assign(default_machine);
  }
  if (e.machine.empty()) return fail(error, "machine", "empty");
  if (e.src.empty() != (e.seq < 0)) return fail(error, e.src.empty() ? "src" : "seq", "src and seq go together");
  if (!e.inc.empty() && e.src.empty()) return fail(error, "inc", "an incarnation needs src and seq");
  if (e.inc.size() > kMaxIncarnationBytes) return fail(error, "inc", "longer than 64 bytes");
  if (type == "state") {
    e.type = EventType::state;
    if (!has_state || e.state.empty()) return fail(error, "state", "missing");
  } else if (type == "count") {
    e.type = EventType::count;
    if (e.good > kMaxCount) return fail(error, "good", kAboveMaxCount);
    if (e.reject > kMaxCount) return fail(error, "reject", kAboveMaxCount);
  } else if (type == "counter") {
    e.type = EventType::counter;
    if (has_value && !get_int(value_element, "value", e.value, error, 0)) return false;
    if (!has_name) return fail(error, "name", "missing");
    if (counter == "total") e.counter = CounterName::total;
    else if (counter == "good") e.counter = CounterName::good;
    else if (counter == "reject") e.counter = CounterName::reject;
    else return fail(error, "name", "must be total, good or reject");
    if (!has_value) return fail(error, "value", "missing");
    if (e.value > kMaxCount) return fail(error, "value", kAboveMaxCount);
    if (e.rollover > kMaxCount) return fail(error, "rollover", kAboveMaxCount);
    if (e.rollover > 0 && e.value >= e.rollover) return fail(error, "value", "not below rollover");
  } else if (type == "product") {
    e.type = EventType::product;
    if (!has_product) return fail(error, "product", "missing");
  } else if (type == "reason") {
    e.type = EventType::reason;
    if (!has_reason) return fail(error, "reason", "missing");
    if (!has_at) return fail(error, "at", "missing");
  } else if (type == "sample") {
    e.type = EventType::sample;
    if (!has_name || counter.empty()) return fail(error, "name", "missing");
    if (!has_value) return fail(error, "value", "missing");
    if (value_element.get(e.sample_value) != simdjson::SUCCESS || !std::isfinite(e.sample_value))
      return fail(error, "value", "must be a finite number");
    e.sample_name = std::move(counter);
  } else if (type == "heartbeat") {
    e.type = EventType::heartbeat;  // a sign of life only: whatever else it carries is dropped below
  } else if (type == "run") {
    e.type = EventType::run;
    if (!check_run(e, action, has_product, has_quantity, ideal_cycle_s, error)) return false;
  } else {
    return fail(error, "type", "must be state, count, counter, product, reason, sample, heartbeat or run");
  }
  // Keep only what the type says, so an event means one thing whatever else it carried.
  if (e.type != EventType::state && e.type != EventType::reason) e.reason.clear();
  if (e.type != EventType::state) e.state.clear();
  if (e.type != EventType::count) e.good = e.reject = 0;
  if (e.type != EventType::counter) e.value = e.rollover = 0, e.counter = CounterName::total;
  if (e.type != EventType::product && !(e.type == EventType::run && e.run_action == RunAction::start)) e.product.clear();
  if (e.type != EventType::run) e.run.clear(), e.quantity = e.run_cycle_us = 0;
  if (e.type != EventType::reason) e.at = 0;
  if (e.type != EventType::sample) e.sample_name.clear(), e.sample_value = 0;
  return true;
}

simdjson::dom::parser& thread_parser() {
  thread_local simdjson::dom::parser parser(kMaxMessageBytes);
  return parser;
}

}  // namespace

bool parse_event(std::string_view json, Event& out, std::string& error, std::string_view default_machine) {
  if (json.size() > kMaxEventJsonBytes) {
    error = "event larger than 64 KiB";
    return false;
  }
  element root;
  if (auto err = thread_parser().parse(json.data(), json.size()).get(root); err) {
    error = std::string("invalid JSON: ") + simdjson::error_message(err);
    return false;
  }
  simdjson::dom::object obj;
  if (root.get(obj) != simdjson::SUCCESS) {
    error = "not a JSON object";
    return false;
  }
  return parse_object(obj, out, error, default_machine);
}

bool parse_event_batch(std::string_view payload, std::vector<Event>& out, std::vector<RejectedEvent>& rejected,
                       std::string& error, std::string_view default_machine) {
  if (payload.size() > kMaxMessageBytes) {
    error = "payload larger than 16 MiB";
    return false;
  }
  element root;
  if (auto err = thread_parser().parse(payload.data(), payload.size()).get(root); err) {
    error = std::string("invalid JSON: ") + simdjson::error_message(err);
    return false;
  }
  std::string reason;
  auto take = [&](element el, std::size_t index) {
    simdjson::dom::object obj;
    Event e;
    if (el.get(obj) != simdjson::SUCCESS) {
      rejected.push_back({index, "event " + std::to_string(index) + ": not a JSON object"});
    } else if (!parse_object(obj, e, reason, default_machine)) {
      rejected.push_back({index, "event " + std::to_string(index) + ": " + reason});
    } else {
      out.push_back(std::move(e));
    }
  };
  if (root.is_array()) {
    // Reserved: an Event is large (eight strings), and moving each again as the vector grows is a
    // cost per ingested event.
    out.reserve(out.size() + root.get_array().size());
    std::size_t index = 0;
    for (element el : root.get_array()) take(el, index++);
    return true;
  }
  if (root.is_object()) {
    take(root, 0);
    return true;
  }
  error = "payload must be a JSON array of events or one event object";
  return false;
}

namespace {
void append_int(std::string& out, std::int64_t v) {
  char buf[24];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, p);
}
void field(std::string& out, const char* name) {
  out += ",\"";
  out += name;
  out += "\":";
}
void append_run_fields(std::string& out, const Event& e) {
  field(out, "action");
  append_json_string(out, e.run_action == RunAction::start ? "start" : "end");
  field(out, "run");
  append_json_string(out, e.run);
  if (e.run_action == RunAction::end) return;
  field(out, "product");
  append_json_string(out, e.product);
  field(out, "quantity");
  append_int(out, e.quantity);
  if (e.run_cycle_us > 0) {
    field(out, "ideal_cycle_s");
    char buf[32];
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, static_cast<double>(e.run_cycle_us) / 1e6);
    out.append(buf, p);
  }
}

std::string_view correction_kind_name(CorrectionKind k) {
  switch (k) {
    case CorrectionKind::reclassify: return "reclassify";
    case CorrectionKind::rejects: return "rejects";
    case CorrectionKind::void_reading: return "void_reading";
  }
  return "?";
}

// A correction as the API shows it (it is written, never read, in JSON: corrections come only
// through POST /api/v1/corrections, with the supervisor role).
void append_correction_fields(std::string& out, const Event& e) {
  field(out, "kind");
  append_json_string(out, correction_kind_name(e.correction));
  out += ",\"at\":\"";
  out += format_rfc3339(e.at);
  out += '"';
  if (e.correction == CorrectionKind::reclassify) {
    out += ",\"until\":\"";
    out += format_rfc3339(e.until);
    out += '"';
    if (!e.state.empty()) field(out, "state"), append_json_string(out, e.state);
    if (!e.reason.empty()) field(out, "reason"), append_json_string(out, e.reason);
  } else if (e.correction == CorrectionKind::rejects) {
    field(out, "reject");
    append_int(out, e.reject);
  } else {
    field(out, "name");
    append_json_string(out, counter_name(e.counter));
  }
  field(out, "by");
  append_json_string(out, e.by);
  field(out, "why");
  append_json_string(out, e.why);
}
}  // namespace

void append_event_json(std::string& out, const Event& e, bool with_machine) {
  out += "{\"ts\":\"";
  out += format_rfc3339(e.ts);
  out += '"';
  if (with_machine) {
    field(out, "machine");
    append_json_string(out, e.machine);
  }
  field(out, "type");
  append_json_string(out, event_type_name(e.type));
  if (e.has_identity()) {
    field(out, "src");
    append_json_string(out, e.src);
    field(out, "seq");
    append_int(out, e.seq);
    if (!e.inc.empty()) {
      field(out, "inc");
      append_json_string(out, e.inc);
    }
  }
  switch (e.type) {
    case EventType::state:
      field(out, "state");
      append_json_string(out, e.state);
      if (!e.reason.empty()) {
        field(out, "reason");
        append_json_string(out, e.reason);
      }
      break;
    case EventType::count:
      field(out, "good");
      append_int(out, e.good);
      field(out, "reject");
      append_int(out, e.reject);
      break;
    case EventType::counter:
      field(out, "name");
      append_json_string(out, counter_name(e.counter));
      field(out, "value");
      append_int(out, e.value);
      if (e.rollover > 0) {
        field(out, "rollover");
        append_int(out, e.rollover);
      }
      break;
    case EventType::product:
      field(out, "product");
      append_json_string(out, e.product);
      break;
    case EventType::reason:
      field(out, "reason");
      append_json_string(out, e.reason);
      out += ",\"at\":\"";
      out += format_rfc3339(e.at);
      out += '"';
      break;
    case EventType::sample: {
      field(out, "name");
      append_json_string(out, e.sample_name);
      field(out, "value");
      char buf[32];  // the shortest text that reads back as the same double
      auto [p, ec] = std::to_chars(buf, buf + sizeof buf, e.sample_value);
      out.append(buf, p);
      break;
    }
    case EventType::heartbeat: break;
    case EventType::run:
      append_run_fields(out, e);
      break;
    case EventType::correction:
      append_correction_fields(out, e);
      break;
  }
  out += '}';
}

std::string event_to_json(const Event& e, bool with_machine) {
  std::string out;
  append_event_json(out, e, with_machine);
  return out;
}

std::string events_to_json_array(const std::vector<Event>& events, bool with_machine) {
  std::string out = "[";
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (i) out += ',';
    append_event_json(out, events[i], with_machine);
  }
  out += ']';
  return out;
}

}  // namespace oee::codec
