#pragma once
// The `states: packml` preset of the plant file: PackML (ISA-TR88.00.02) Status.StateCurrent
// values 0..17 as raw state values, each mapped to one canonical state. The reasons are in
// docs/configuration.md ("PackML states").
#include <array>
#include <string_view>

#include "oee/core/state.h"

namespace oee::plant {

struct PackmlState {
  int value;               // Status.StateCurrent
  std::string_view name;   // the PackML state's name
  State state;             // what the preset maps it to
};

inline constexpr std::array<PackmlState, 18> kPackmlStates{{
    {0, "Undefined", State::stopped},
    {1, "Clearing", State::stopped},
    {2, "Stopped", State::stopped},
    {3, "Starting", State::setup},
    {4, "Idle", State::stopped},
    {5, "Suspended", State::starved},
    {6, "Execute", State::running},
    {7, "Stopping", State::stopped},
    {8, "Aborting", State::stopped},
    {9, "Aborted", State::stopped},
    {10, "Holding", State::stopped},
    {11, "Held", State::stopped},
    {12, "Unholding", State::stopped},
    {13, "Suspending", State::starved},
    {14, "Unsuspending", State::starved},
    {15, "Resetting", State::setup},
    {16, "Completing", State::running},
    {17, "Complete", State::planned_stop},
}};

}  // namespace oee::plant
