#pragma once
// The PackTags preset of the OPC UA source (`preset: packml`, docs/edge.md "PackML"): which
// PackTags below a PackML object the edge reads, and as which signal.
#include <array>
#include <string>
#include <string_view>

#include "oee/edge/edge_config.h"

namespace oee::edge {

struct PackTagSignal {
  std::string_view path;    // browse names below the PackML object, dotted
  SignalKind signal;
  std::string_view name;    // the signal's name (counter: total|reject; sample: the PackTag's name)
};

inline constexpr std::array<PackTagSignal, 6> kPackTagSignals{{
    {"Status.StateCurrent", SignalKind::state, ""},  // mapped by the machine's `states: packml`
    {"Admin.ProdProcessedCount.AccCount", SignalKind::counter, "total"},
    {"Admin.ProdDefectiveCount.AccCount", SignalKind::counter, "reject"},
    {"Admin.StopReason.ID", SignalKind::reason, ""},
    {"Status.MachSpeed", SignalKind::sample, "MachSpeed"},
    {"Status.CurMachSpeed", SignalKind::sample, "CurMachSpeed"},
}};

// "counter:total", "state", "sample:MachSpeed": the signal as the tag table writes it.
std::string signal_text(const PackTagSignal& p);

// The tag a preset tag makes for one of its PackTags, found at `node`.
TagConfig packtag_tag(const TagConfig& preset, const PackTagSignal& p, std::string node);

}  // namespace oee::edge
