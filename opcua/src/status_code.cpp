// Status names come from the standard's table (status_code_table.inc, generated), searched by code.
#include "oee/opcua/status_code.h"

#include <algorithm>
#include <cstdio>
#include <iterator>

namespace oee::opcua {
namespace {

struct StatusEntry {
  uint32_t code;
  const char* name;
};

constexpr StatusEntry kStatusTable[] = {
#include "status_code_table.inc"
};

}  // namespace

std::string status_name(StatusCode status) {
  const uint32_t key = status.base();
  const auto it = std::lower_bound(std::begin(kStatusTable), std::end(kStatusTable), key,
                                   [](const StatusEntry& e, uint32_t k) { return e.code < k; });
  if (it != std::end(kStatusTable) && it->code == key) return it->name;
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", status.code);
  return buf;
}

uint32_t status_code_from_name(std::string_view name) {
  for (const auto& e : kStatusTable) {
    if (name == e.name) return e.code;
  }
  return 0xFFFFFFFFu;
}

Error::Error(StatusCode status, const std::string& context)
    : std::runtime_error(context.empty() ? status_name(status) : status_name(status) + ": " + context),
      status_(status) {}

}  // namespace oee::opcua
