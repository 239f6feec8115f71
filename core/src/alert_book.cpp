#include "oee/core/alert_book.h"

#include <algorithm>

namespace oee {

std::optional<AlertChange> AlertBook::observe(const AlertRule& rule, const std::string& subject, bool holds,
                                              TimeMs now) {
  const std::string id = rule.name + "/" + subject;
  auto it = active_.find(id);
  if (holds == (it != active_.end())) return std::nullopt;
  if (holds) {
    Alert a;
    a.id = id;
    a.rule = rule.name;
    a.kind = rule.kind;
    a.subject = subject;
    a.fired_ts = now;
    active_.emplace(id, a);
    return AlertChange{AlertTransition::fired, std::move(a)};
  }
  Alert a = std::move(it->second);
  active_.erase(it);
  a.resolved_ts = now;
  resolved_.push_back(a);
  forget_old_resolved();
  return AlertChange{AlertTransition::resolved, std::move(a)};
}

std::optional<AlertChange> AlertBook::acknowledge(const std::string& id, const std::string& user, TimeMs now) {
  Alert* target = nullptr;
  if (auto it = active_.find(id); it != active_.end()) {
    target = &it->second;
  } else {
    auto r = std::find_if(resolved_.rbegin(), resolved_.rend(), [&](const Alert& a) { return a.id == id; });
    if (r != resolved_.rend()) target = &*r;
  }
  if (!target || !target->acknowledged_by.empty()) return std::nullopt;
  target->acknowledged_by = user;
  target->acknowledged_ts = now;
  return AlertChange{AlertTransition::acknowledged, *target};
}

std::vector<Alert> AlertBook::list() const {
  std::vector<Alert> out;
  for (const auto& [id, a] : active_) out.push_back(a);
  std::sort(out.begin(), out.end(), [](const Alert& a, const Alert& b) {
    return a.fired_ts != b.fired_ts ? a.fired_ts > b.fired_ts : a.id < b.id;
  });
  out.insert(out.end(), resolved_.rbegin(), resolved_.rend());
  return out;
}

void AlertBook::forget_old_resolved() {
  if (resolved_.size() <= keep_resolved_) return;
  resolved_.erase(resolved_.begin(), resolved_.begin() + static_cast<std::ptrdiff_t>(resolved_.size() - keep_resolved_));
}

}  // namespace oee
