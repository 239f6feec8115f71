// Modbus TCP polling. Tags are merged into as few reads as possible (blocks of at most 125
// registers or 2000 bits); a failed read drops the connection and retries at the next poll,
// with the PLC's reboot showing up as counter resets the engine already handles.
#include <modbus/modbus.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "oee/edge/event_source.h"
#include "heartbeat.h"
#include "source_thread.h"
#include "oee/edge/run_signal.h"
#include "oee/edge/tag_mapper.h"

namespace oee::edge {

double decode_registers(const TagConfig& tag, const std::uint16_t* regs) {
  auto fix = [&](std::uint16_t r) -> std::uint16_t {
    return tag.byte_order_big ? r : static_cast<std::uint16_t>((r >> 8) | (r << 8));
  };
  if (tag.area == RegisterArea::coil || tag.area == RegisterArea::discrete) return regs[0] ? 1.0 : 0.0;
  const std::uint16_t r0 = fix(regs[0]);
  switch (tag.format) {
    case ValueFormat::uint16:
      return r0;
    case ValueFormat::int16:
      return static_cast<std::int16_t>(r0);
    default:
      break;
  }
  const std::uint16_t r1 = fix(regs[1]);
  const std::uint32_t hi = tag.word_order_big ? r0 : r1;
  const std::uint32_t lo = tag.word_order_big ? r1 : r0;
  const std::uint32_t u = (hi << 16) | lo;
  switch (tag.format) {
    case ValueFormat::uint32:
      return u;
    case ValueFormat::int32:
      return static_cast<std::int32_t>(u);
    case ValueFormat::float32: {
      float f;
      std::memcpy(&f, &u, 4);
      return f;
    }
    default:
      return 0;
  }
}

namespace {

struct Block {
  RegisterArea area;
  int start = 0;
  int count = 0;
  std::vector<std::uint16_t> values;
};

struct PolledTag {
  TagMapper mapper;
  std::size_t block = 0;
  int offset = 0;
};

int width(const TagConfig& t) {
  return t.format == ValueFormat::uint16 || t.format == ValueFormat::int16 || t.area == RegisterArea::coil ||
                 t.area == RegisterArea::discrete
             ? 1
             : 2;
}

class ModbusSource final : public EventSource {
 public:
  ModbusSource(const SourceConfig& config, const PlantModel& plant, EventSink sink)
      : config_(config), sink_(std::move(sink)), runs_(config.run_state_file), heartbeats_(config.heartbeat_ms, tag_machines(config)) {
    // Blocks: per area, addresses sorted, merged while the span stays within one request.
    std::vector<const TagConfig*> sorted;
    for (const auto& t : config_.tags) sorted.push_back(&t);
    std::sort(sorted.begin(), sorted.end(), [](const TagConfig* a, const TagConfig* b) {
      return std::tie(a->area, a->address) < std::tie(b->area, b->address);
    });
    for (const TagConfig* t : sorted) {
      const bool bits = t->area == RegisterArea::coil || t->area == RegisterArea::discrete;
      const int max_span = bits ? 2000 : 125;
      const int end = t->address + width(*t);
      if (blocks_.empty() || blocks_.back().area != t->area || end - blocks_.back().start > max_span) {
        blocks_.push_back(Block{t->area, t->address, 0, {}});
      }
      Block& b = blocks_.back();
      b.count = std::max(b.count, end - b.start);
      const MachineSpec* m = plant.find_machine(t->machine);
      if (m == nullptr) throw std::invalid_argument("modbus tag: unknown machine '" + t->machine + "'");
      tags_.push_back(PolledTag{TagMapper(*t, *m), blocks_.size() - 1, t->address - b.start});
      runs_.add(*t);
    }
    for (auto& t : tags_) t.mapper.attach_run(runs_.for_tag(t.mapper.tag()));
    runs_.load();
  }
  ~ModbusSource() override { stop(); }

  void start() override {
    thread_.start([this] { run(); });
  }
  void stop() override { thread_.stop(); }
  std::string describe() const override {
    return "modbus " + config_.host + ":" + std::to_string(config_.port) + " unit " + std::to_string(config_.unit);
  }

 private:
  bool read_block(modbus_t* ctx, Block& b) {
    b.values.resize(static_cast<std::size_t>(b.count));
    int rc = -1;
    if (b.area == RegisterArea::holding) {
      rc = modbus_read_registers(ctx, b.start, b.count, b.values.data());
    } else if (b.area == RegisterArea::input) {
      rc = modbus_read_input_registers(ctx, b.start, b.count, b.values.data());
    } else {
      std::vector<std::uint8_t> bits(static_cast<std::size_t>(b.count));
      rc = b.area == RegisterArea::coil ? modbus_read_bits(ctx, b.start, b.count, bits.data())
                                        : modbus_read_input_bits(ctx, b.start, b.count, bits.data());
      for (int i = 0; i < b.count && rc == b.count; ++i) b.values[static_cast<std::size_t>(i)] = bits[static_cast<std::size_t>(i)];
    }
    return rc == b.count;
  }

  void run() {
    modbus_t* ctx = nullptr;
    std::vector<Event> events;
    bool logged_down = false;
    while (thread_.running()) {
      const auto next_poll = std::chrono::steady_clock::now() + std::chrono::milliseconds(config_.poll_ms);
      if (ctx == nullptr) {
        ctx = modbus_new_tcp(config_.host.c_str(), config_.port);
        if (ctx != nullptr) {
          modbus_set_slave(ctx, config_.unit);
          modbus_set_response_timeout(ctx, static_cast<std::uint32_t>(config_.timeout_ms / 1000),
                                      static_cast<std::uint32_t>(config_.timeout_ms % 1000) * 1000);
          if (modbus_connect(ctx) != 0) {
            if (!logged_down) std::fprintf(stderr, "edge: %s: connect failed: %s\n", describe().c_str(), modbus_strerror(errno));
            logged_down = true;
            modbus_free(ctx);
            ctx = nullptr;
          } else {
            std::fprintf(stderr, "edge: %s: connected\n", describe().c_str());
            logged_down = false;
          }
        }
      }
      if (ctx != nullptr) {
        const TimeMs ts = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
        bool ok = true;
        for (auto& b : blocks_) ok = ok && read_block(ctx, b);
        if (!ok) {
          std::fprintf(stderr, "edge: %s: read failed: %s; reconnecting\n", describe().c_str(), modbus_strerror(errno));
          modbus_close(ctx);
          modbus_free(ctx);
          ctx = nullptr;
        } else {
          events.clear();
          Event e;
          for (auto& t : tags_) {
            const Block& b = blocks_[t.block];
            if (t.mapper.on_number(decode_registers(t.mapper.tag(), &b.values[static_cast<std::size_t>(t.offset)]), ts, e))
              events.push_back(std::move(e));
          }
          runs_.take_events(events);  // after the whole poll: a start carries the product and quantity read with it
          heartbeats_.after_read(ts, events);  // every block read: each machine of the tags is alive
          if (!events.empty()) sink_(events);
          runs_.after_sink();
        }
      }
      while (thread_.running() && std::chrono::steady_clock::now() < next_poll)
        std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(next_poll - std::chrono::steady_clock::now(),
                                                                      std::chrono::milliseconds(50)));
    }
    if (ctx != nullptr) {
      modbus_close(ctx);
      modbus_free(ctx);
    }
  }

  const SourceConfig& config_;  // the agent's: outlives the source (100K tags are not copied)
  EventSink sink_;
  std::vector<Block> blocks_;
  std::vector<PolledTag> tags_;
  RunSignals runs_;
  Heartbeats heartbeats_;
  SourceThread thread_;
};

}  // namespace

std::unique_ptr<EventSource> make_modbus_source(const SourceConfig& config, const PlantModel& plant, EventSink sink) {
  return std::make_unique<ModbusSource>(config, plant, std::move(sink));
}

}  // namespace oee::edge
