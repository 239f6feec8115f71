#pragma once
// Where events come from: a source reads its devices on its own thread and hands events to the
// sink (the durable queue writer), which never waits for the broker.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "oee/core/event.h"
#include "oee/core/plant_model.h"
#include "oee/core/shift_calendar.h"
#include "oee/edge/edge_config.h"

namespace oee::edge {

// Takes events (machine, ts and payload set; src and seq are assigned by the queue). Thread-safe.
using EventSink = std::function<void(std::vector<Event>& events)>;

class EventSource {
 public:
  virtual ~EventSource() = default;
  virtual void start() = 0;
  virtual void stop() = 0;  // joins the source's thread
  virtual std::string describe() const = 0;
};

// OPC UA is pluggable: the opcua component (or a test) registers a factory; without one, an
// `opcua` source in the config is an error at startup.
using OpcUaSourceFactory =
    std::function<std::unique_ptr<EventSource>(const SourceConfig& config, const PlantModel& plant, EventSink sink)>;
void register_opcua_source_factory(OpcUaSourceFactory factory);
const OpcUaSourceFactory& opcua_source_factory();

// OPC UA subscriptions through the client of opcua/ (built in when that component is present).
std::unique_ptr<EventSource> make_opcua_source(const SourceConfig& config, const PlantModel& plant, EventSink sink);

// Modbus TCP polling (libmodbus): holding/input registers, coils and discrete inputs. `config` and
// `plant` must outlive the source.
std::unique_ptr<EventSource> make_modbus_source(const SourceConfig& config, const PlantModel& plant, EventSink sink);

// The simulator: every machine of the plant, `speed` simulated seconds per second.
// `plant` and `calendar` must outlive the source. `resume_after_events` > 0 (a fixed `start` only):
// the source goes on after the first that many events of its stream instead of sending them again,
// so an edge restarted over its queue continues the same simulated plant; the source's `skip`
// events come first (a wiped edge continuing the stream its old disk held).
std::unique_ptr<EventSource> make_simulator_source(const SourceConfig& config, const PlantModel& plant,
                                                   const ShiftCalendar& calendar, EventSink sink,
                                                   std::uint64_t resume_after_events = 0);

// Decodes a register value (1 or 2 registers as libmodbus returns them) per the tag's format,
// byte order and word order. Exposed for tests.
double decode_registers(const TagConfig& tag, const std::uint16_t* registers);

}  // namespace oee::edge
