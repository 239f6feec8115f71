#pragma once
// A source's identity in both stores: its `src` and its incarnation (docs/events.md). An edge whose
// queue was wiped starts its sequence again under a new incarnation: a new source, whose seqs never
// collide with the old one's.
#include <string>
#include <string_view>

namespace oee::storage {

// The in-memory key of a source: src alone when it has no incarnation (the key of every source
// stored before incarnations existed), else src, a NUL and the incarnation (NUL is in neither).
// Written into `key`, whose capacity a store reuses: the append path looks a source up per event.
inline void source_key(std::string_view src, std::string_view inc, std::string& key) {
  key.assign(src);
  if (!inc.empty()) {
    key.push_back('\0');
    key.append(inc);
  }
}
inline std::string source_key(std::string_view src, std::string_view inc) {
  std::string key;
  source_key(src, inc, key);
  return key;
}

// What a stored event's source id stands for.
struct SourceName {
  std::string src;
  std::string inc;
};

}  // namespace oee::storage
