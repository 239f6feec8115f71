#include "oee/core/holiday_calendar.h"

#include "oee/core/time.h"

namespace oee {

namespace {
unsigned days_in_month(int year, unsigned month) {
  const unsigned next_month = month == 12 ? 1 : month + 1;
  const int next_year = month == 12 ? year + 1 : year;
  return static_cast<unsigned>(days_from_civil(next_year, next_month, 1) - days_from_civil(year, month, 1));
}

bool is_nth_weekday(const HolidayRule& r, int year, unsigned month, unsigned day, std::int64_t local_day) {
  if (month != r.month || iso_weekday_from_days(local_day) != r.weekday) return false;
  if (r.nth > 0) return (day - 1) / 7 + 1 == static_cast<unsigned>(r.nth);
  return day + 7 > days_in_month(year, month);  // the last one: no same weekday after it this month
}
}  // namespace

bool HolidayRule::covers(std::int64_t local_day) const {
  if (kind == Kind::dates) return first_day <= local_day && local_day <= last_day;
  int year = 0;
  unsigned m = 0, d = 0;
  civil_from_days(local_day, year, m, d);
  if (kind == Kind::yearly_date) return m == month && d == day;
  return is_nth_weekday(*this, year, m, d, local_day);
}

bool HolidayCalendar::is_holiday(std::int64_t local_day) const {
  for (const HolidayRule& r : rules)
    if (r.covers(local_day)) return true;
  return false;
}

}  // namespace oee
