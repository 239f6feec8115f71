#include "oee/edge/packml_preset.h"

namespace oee::edge {

std::string signal_text(const PackTagSignal& p) {
  const char* kind = p.signal == SignalKind::state     ? "state"
                     : p.signal == SignalKind::counter ? "counter"
                     : p.signal == SignalKind::reason  ? "reason"
                                                       : "sample";
  return p.name.empty() ? std::string(kind) : std::string(kind) + ":" + std::string(p.name);
}

TagConfig packtag_tag(const TagConfig& preset, const PackTagSignal& p, std::string node) {
  TagConfig t;
  t.line = preset.line;
  t.machine = preset.machine;
  t.signal = p.signal;
  t.signal_name = std::string(p.name);
  t.node = std::move(node);
  return t;
}

}  // namespace oee::edge
