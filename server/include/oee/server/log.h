#pragma once
// The server's log lines on stdout: plain text (default) or one JSON object per line
// (`--log-format json`) for log shippers. Callers never pass secrets (tokens, passwords) here.
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace oee::server {

enum class LogFormat { text, json };
void set_log_format(LogFormat format);
LogFormat log_format();

// "info", "warn", "error"; fields are written as strings.
void log_line(std::string_view level, std::string_view message,
              std::initializer_list<std::pair<std::string_view, std::string>> fields = {});

}  // namespace oee::server
