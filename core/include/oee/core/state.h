#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

namespace oee {

// Canonical machine states. Every stop but planned_stop is an availability loss.
enum class State : std::uint8_t {
  running,
  stopped,       // unplanned stop: breakdown
  setup,         // changeover
  starved,       // waiting for material from upstream
  blocked,       // held up by downstream
  planned_stop,  // planned downtime: out of planned busy time
  unknown,       // before the first state event
};
inline constexpr int kStateCount = 7;

std::string_view state_name(State s);
std::optional<State> parse_state(std::string_view name);

inline constexpr bool is_unplanned_stop(State s) {
  return s == State::stopped || s == State::setup || s == State::starved || s == State::blocked;
}

}  // namespace oee
