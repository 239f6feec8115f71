#pragma once
// JSON encoding of the event contract (docs/events.md). Parsing reads bytes from files and the
// network: every error is reported with a reason, nothing throws, nothing is trusted.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "oee/codec/json_writer.h"
#include "oee/core/event.h"

namespace oee::codec {

inline constexpr std::size_t kMaxEventJsonBytes = 64 * 1024;       // one event object
inline constexpr std::size_t kMaxMessageBytes = 16 * 1024 * 1024;  // one MQTT payload / batch
inline constexpr std::size_t kMaxStringBytes = 256;                 // machine, src, reason, product…
inline constexpr std::size_t kMaxIncarnationBytes = 64;             // inc
inline constexpr std::size_t kMaxRunIdBytes = 128;               // run (an order id)

struct RejectedEvent {
  std::size_t index = 0;  // position in the array (or line number - 1 for jsonl)
  std::string reason;     // e.g. "event 3: field 'ts': not an RFC 3339 timestamp"
};

// Parses one JSON event object. `default_machine` fills `machine` when the object has none (the MQTT
// topic names the machine; the MQTT ingest dead-letters an event naming another one). Returns false
// and sets `error` when the object is invalid.
bool parse_event(std::string_view json, Event& out, std::string& error,
                 std::string_view default_machine = {});

// Parses a payload holding a JSON array of event objects, or a single object. Valid events are
// appended to `out`; each invalid element is reported in `rejected` (the others are still taken).
// Returns false with `error` when the payload as a whole is unreadable (not JSON, too large, not an
// array or object).
bool parse_event_batch(std::string_view payload, std::vector<Event>& out,
                       std::vector<RejectedEvent>& rejected, std::string& error,
                       std::string_view default_machine = {});

// Appends the event as a compact JSON object. `with_machine` false leaves `machine` out (MQTT).
void append_event_json(std::string& out, const Event& e, bool with_machine = true);
std::string event_to_json(const Event& e, bool with_machine = true);
// A JSON array of events.
std::string events_to_json_array(const std::vector<Event>& events, bool with_machine = true);

}  // namespace oee::codec
