#pragma once
// The compact binary form of events inside an event block (storage/src/sqlite_schema.cpp) and of
// a PostgreSQL machine's carry (machine_carry, storage/src/postgres_schema.cpp):
// varints (zigzag for signed values) and length-prefixed strings; the machine is the block's, the
// source an integer id. Decoding checks every length against the bytes left and throws on damage.
// An event's tag holds its type's low 3 bits, its counter (2 bits) above them and the type's
// higher bits from bit 5 on: types up to run (7) have none, so files written before the correction
// type (8) read as they always did.
#include <bit>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "oee/core/event.h"

namespace oee::storage {

class BlockWriter {
 public:
  void event(const Event& e, std::int64_t src_id);
  const std::string& bytes() const { return out_; }
  void clear() { out_.clear(); }

 private:
  void u(std::uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  void i(std::int64_t v) { u((static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63)); }
  void str(std::string_view s) {
    u(s.size());
    out_.append(s);
  }
  std::string out_;
};

class BlockReader {
 public:
  explicit BlockReader(std::string_view bytes) : p_(bytes.data()), end_(bytes.data() + bytes.size()) {}
  bool done() const { return p_ == end_; }
  // Where the next event starts (its record ends where the one after it starts).
  const char* position() const { return p_; }
  // The next event; its src is left empty and src_id set (0: none).
  Event event(std::int64_t& src_id);

 private:
  std::uint64_t u() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) throw std::runtime_error("event block: truncated");
      const auto b = static_cast<unsigned char>(*p_++);
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    throw std::runtime_error("event block: bad varint");
  }
  std::int64_t i() {
    const std::uint64_t v = u();
    return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
  }
  std::string str() {
    const std::uint64_t n = u();
    if (n > static_cast<std::uint64_t>(end_ - p_)) throw std::runtime_error("event block: bad string length");
    std::string s(p_, static_cast<std::size_t>(n));
    p_ += n;
    return s;
  }
  const char* p_;
  const char* end_;
};

inline void BlockWriter::event(const Event& e, std::int64_t src_id) {
  const auto type = static_cast<std::uint64_t>(e.type);
  u((type & 7) | (static_cast<std::uint64_t>(e.counter) << 3) | ((type >> 3) << 5));
  i(e.ts);
  i(src_id);
  i(e.seq);
  switch (e.type) {
    case EventType::state: str(e.state); str(e.reason); break;
    case EventType::count: i(e.good); i(e.reject); break;
    case EventType::counter: i(e.value); i(e.rollover); break;
    case EventType::product: str(e.product); break;
    case EventType::reason: str(e.reason); i(e.at); break;
    case EventType::sample: str(e.sample_name); u(std::bit_cast<std::uint64_t>(e.sample_value)); break;
    case EventType::heartbeat: break;
    case EventType::run:
      u(static_cast<std::uint64_t>(e.run_action)); str(e.run); str(e.product); i(e.quantity); i(e.run_cycle_us);
      break;
    case EventType::correction:
      u(static_cast<std::uint64_t>(e.correction)); i(e.at); i(e.until); str(e.state); str(e.reason); i(e.reject);
      str(e.by); str(e.why);
      break;
  }
}

inline Event BlockReader::event(std::int64_t& src_id) {
  Event e;
  const std::uint64_t tag = u();
  const std::uint64_t type = (tag & 7) | ((tag >> 5) << 3);
  if (type > static_cast<std::uint64_t>(EventType::correction) || ((tag >> 3) & 3) > 2)
    throw std::runtime_error("event block: bad event tag");
  e.type = static_cast<EventType>(type);
  e.counter = static_cast<CounterName>((tag >> 3) & 3);
  e.ts = i();
  src_id = i();
  e.seq = i();
  switch (e.type) {
    case EventType::state: e.state = str(); e.reason = str(); break;
    case EventType::count: e.good = i(); e.reject = i(); break;
    case EventType::counter: e.value = i(); e.rollover = i(); break;
    case EventType::product: e.product = str(); break;
    case EventType::reason: e.reason = str(); e.at = i(); break;
    case EventType::sample: e.sample_name = str(); e.sample_value = std::bit_cast<double>(u()); break;
    case EventType::heartbeat: break;
    case EventType::run: {
      const std::uint64_t action = u();
      if (action > 1) throw std::runtime_error("event block: bad run action");
      e.run_action = static_cast<RunAction>(action);
      e.run = str();
      e.product = str();
      e.quantity = i();
      e.run_cycle_us = i();
      break;
    }
    case EventType::correction: {
      const std::uint64_t kind = u();
      if (kind > static_cast<std::uint64_t>(CorrectionKind::void_reading))
        throw std::runtime_error("event block: bad correction kind");
      e.correction = static_cast<CorrectionKind>(kind);
      e.at = i();
      e.until = i();
      e.state = str();
      e.reason = str();
      e.reject = i();
      e.by = str();
      e.why = str();
      break;
    }
  }
  return e;
}

}  // namespace oee::storage
