#include "oee/server/log.h"

#include <atomic>
#include <cstdio>
#include <mutex>

#include "oee/codec/event_json.h"
#include "oee/server/plant_service.h"

namespace oee::server {

namespace {
std::atomic<LogFormat> format_{LogFormat::text};
std::mutex output_mutex;
}  // namespace

void set_log_format(LogFormat format) { format_ = format; }
LogFormat log_format() { return format_; }

void log_line(std::string_view level, std::string_view message,
              std::initializer_list<std::pair<std::string_view, std::string>> fields) {
  std::string line;
  if (format_ == LogFormat::json) {
    line = "{\"ts\":";
    codec::append_json_string(line, format_rfc3339(system_clock_ms()));
    line += ",\"level\":";
    codec::append_json_string(line, level);
    line += ",\"msg\":";
    codec::append_json_string(line, message);
    for (const auto& [name, value] : fields) {
      line += ',';
      codec::append_json_string(line, name);
      line += ':';
      codec::append_json_string(line, value);
    }
    line += "}\n";
  } else {
    line = "oee serve: ";
    line += message;
    for (const auto& [name, value] : fields) {
      line += ' ';
      line += name;
      line += '=';
      line += value;
    }
    line += '\n';
  }
  std::lock_guard lock(output_mutex);
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fflush(stdout);
}

}  // namespace oee::server
