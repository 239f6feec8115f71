#pragma once
// Holidays: single dates, inclusive date ranges and yearly rules (a fixed month and day, such as
// 12-25, or the nth or last weekday of a month, such as the last Monday of May). No shift starts on a
// holiday.
#include <cstdint>
#include <string>
#include <vector>

namespace oee {

struct HolidayRule {
  enum class Kind { dates, yearly_date, yearly_weekday };
  Kind kind = Kind::dates;
  std::string name;
  std::int64_t first_day = 0, last_day = 0;  // dates: inclusive local dates (days since epoch)
  unsigned month = 1;                        // yearly: 1..12
  unsigned day = 1;                          // yearly_date: 1..31
  int weekday = 0;                           // yearly_weekday: ISO weekday, 0 = Monday
  int nth = 1;                               // yearly_weekday: 1..5, or -1 for the last one

  bool covers(std::int64_t local_day) const;
};

struct HolidayCalendar {
  std::vector<HolidayRule> rules;
  bool is_holiday(std::int64_t local_day) const;
};

}  // namespace oee
