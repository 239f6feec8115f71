#include "oee/transport/topic_filter.h"

#include <vector>

namespace oee::transport {

namespace {

constexpr std::string_view kSharePrefix = "$share/";

std::vector<std::string_view> levels_of(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t slash = s.find('/', start);
    if (slash == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, slash - start));
    start = slash + 1;
  }
}

std::string check_plain_filter(std::string_view filter) {
  if (filter.empty()) return "a topic filter cannot be empty";
  const auto levels = levels_of(filter);
  for (std::size_t i = 0; i < levels.size(); ++i) {
    const std::string_view level = levels[i];
    if (level.find('#') != std::string_view::npos && (level != "#" || i + 1 != levels.size()))
      return "'#' must be a whole level and the last one";
    if (level.find('+') != std::string_view::npos && level != "+") return "'+' must be a whole level";
  }
  return {};
}

}  // namespace

SharedSubscription split_shared_subscription(std::string_view filter) {
  if (!filter.starts_with(kSharePrefix)) return {{}, filter};
  const std::string_view rest = filter.substr(kSharePrefix.size());
  const std::size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return {rest, {}};
  return {rest.substr(0, slash), rest.substr(slash + 1)};
}

std::string check_topic_filter(std::string_view filter) {
  if (filter.size() > kMaxTopicFilterBytes) return "a topic filter is at most 65535 bytes";
  if (filter.find('\0') != std::string_view::npos) return "a topic filter cannot hold a NUL character";
  if (filter.starts_with(kSharePrefix)) {
    const SharedSubscription s = split_shared_subscription(filter);
    if (s.group.empty()) return "a shared subscription is $share/<group>/<filter>, with a non-empty group";
    if (s.group.find_first_of("+#") != std::string_view::npos) return "a shared subscription's group cannot hold '+' or '#'";
    if (s.filter.empty()) return "a shared subscription is $share/<group>/<filter>, with a non-empty filter";
    return check_plain_filter(s.filter);
  }
  return check_plain_filter(filter);
}

bool topic_matches_filter(std::string_view filter, std::string_view topic) {
  const auto f = levels_of(filter), t = levels_of(topic);
  if (!topic.empty() && topic.front() == '$' && (f.front() == "#" || f.front() == "+")) return false;
  for (std::size_t i = 0; i < f.size(); ++i) {
    if (f[i] == "#") return true;  // also matches the parent level ("a/#" matches "a")
    if (i >= t.size()) return false;
    if (f[i] != "+" && f[i] != t[i]) return false;
  }
  return f.size() == t.size();
}

}  // namespace oee::transport
