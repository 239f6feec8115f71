#include <gtest/gtest.h>

#include "oee/core/shift_calendar.h"

namespace oee {

namespace {
std::int64_t day(const char* s) { return *parse_civil_date(s); }

HolidayCalendar sample_holidays() {
  HolidayCalendar h;
  HolidayRule once;
  once.first_day = once.last_day = day("2026-11-11");
  HolidayRule range;
  range.first_day = day("2026-12-24");
  range.last_day = day("2027-01-01");
  HolidayRule christmas;
  christmas.kind = HolidayRule::Kind::yearly_date;
  christmas.month = 12;
  christmas.day = 25;
  HolidayRule memorial;  // the last Monday of May
  memorial.kind = HolidayRule::Kind::yearly_weekday;
  memorial.month = 5;
  memorial.weekday = 0;
  memorial.nth = -1;
  HolidayRule thanksgiving;  // the fourth Thursday of November
  thanksgiving.kind = HolidayRule::Kind::yearly_weekday;
  thanksgiving.month = 11;
  thanksgiving.weekday = 3;
  thanksgiving.nth = 4;
  h.rules = {once, range, christmas, memorial, thanksgiving};
  return h;
}
}  // namespace

TEST(HolidayCalendar, DatesRangesAndYearlyRules) {
  const HolidayCalendar h = sample_holidays();
  EXPECT_TRUE(h.is_holiday(day("2026-11-11")));
  EXPECT_FALSE(h.is_holiday(day("2027-11-11")));  // a single date does not repeat
  EXPECT_FALSE(h.is_holiday(day("2026-12-23")));
  EXPECT_TRUE(h.is_holiday(day("2026-12-24")));  // a range includes both ends
  EXPECT_TRUE(h.is_holiday(day("2027-01-01")));
  EXPECT_FALSE(h.is_holiday(day("2027-01-02")));
  EXPECT_TRUE(h.is_holiday(day("2031-12-25")));   // yearly
  EXPECT_TRUE(h.is_holiday(day("2026-05-25")));   // last Monday of May 2026
  EXPECT_FALSE(h.is_holiday(day("2026-05-18")));  // a Monday, not the last
  EXPECT_TRUE(h.is_holiday(day("2027-05-31")));
  EXPECT_TRUE(h.is_holiday(day("2026-11-26")));   // fourth Thursday of November 2026
  EXPECT_FALSE(h.is_holiday(day("2026-11-19")));
  EXPECT_TRUE(h.is_holiday(day("2027-11-25")));
}

TEST(HolidayCalendar, NoShiftStartsOnAHoliday) {
  PlantModel plant;
  plant.shifts.push_back({"early", 6 * 60, 14 * 60, {}});
  plant.holidays = sample_holidays();
  const FixedOffsetZone utc;
  const ShiftCalendar cal(plant, utc);
  const auto thanksgiving = cal.occurrences(*parse_timestamp("2026-11-25T00:00:00Z"), *parse_timestamp("2026-11-28T00:00:00Z"));
  ASSERT_EQ(thanksgiving.size(), 2u);
  EXPECT_EQ(thanksgiving[0].local_day, day("2026-11-25"));
  EXPECT_EQ(thanksgiving[1].local_day, day("2026-11-27"));
}

}  // namespace oee
