// TimeZone on the system tz database through Howard Hinnant's date library (g++ 12 has no
// std::chrono time zones).
#include <date/tz.h>

#include <stdexcept>

#include "oee/plant/plant_file.h"

namespace oee::plant {

namespace {

class TzDatabaseZone final : public TimeZone {
 public:
  explicit TzDatabaseZone(const date::time_zone* zone) : zone_(zone) {}

  std::int64_t offset_ms_at(TimeMs utc) const override {
    const auto info = zone_->get_info(date::sys_time<std::chrono::milliseconds>(std::chrono::milliseconds(utc)));
    return std::chrono::duration_cast<std::chrono::milliseconds>(info.offset).count();
  }

  TimeMs to_utc(std::int64_t local_ms) const override {
    const date::local_time<std::chrono::milliseconds> local{std::chrono::milliseconds(local_ms)};
    const auto info = zone_->get_info(local);
    switch (info.result) {
      case date::local_info::unique:
        return local_ms - std::chrono::duration_cast<std::chrono::milliseconds>(info.first.offset).count();
      case date::local_info::ambiguous:  // fall back: the first occurrence
        return local_ms - std::chrono::duration_cast<std::chrono::milliseconds>(info.first.offset).count();
      case date::local_info::nonexistent:  // spring forward: the end of the gap
        return std::chrono::duration_cast<std::chrono::milliseconds>(info.first.end.time_since_epoch()).count();
    }
    return local_ms;
  }

  std::string name() const override { return std::string(zone_->name()); }

 private:
  const date::time_zone* zone_;
};

}  // namespace

std::shared_ptr<const TimeZone> make_time_zone(const std::string& iana_name) {
  if (iana_name == "UTC" || iana_name == "Etc/UTC") return std::make_shared<FixedOffsetZone>(0, "UTC");
  try {
    return std::make_shared<TzDatabaseZone>(date::locate_zone(iana_name));
  } catch (const std::exception&) {
    throw std::invalid_argument("unknown time zone '" + iana_name + "' (an IANA name such as Europe/Berlin)");
  }
}

}  // namespace oee::plant
