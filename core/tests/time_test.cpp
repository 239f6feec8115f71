#include <gtest/gtest.h>

#include "oee/core/time.h"

namespace oee {

TEST(Time, ParsesRfc3339WithOffsetsAndFractions) {
  EXPECT_EQ(parse_timestamp("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_timestamp("1970-01-01T01:00:00+01:00"), 0);
  EXPECT_EQ(parse_timestamp("1970-01-01T00:00:01.5Z"), 1500);
  EXPECT_EQ(parse_timestamp("1970-01-01 00:00:01.123456789Z"), 1123);
  EXPECT_EQ(parse_timestamp("2026-03-29T01:30:00.250-02:30"), parse_timestamp("2026-03-29T04:00:00.250Z"));
  EXPECT_EQ(parse_timestamp("1767225600000"), parse_timestamp("2026-01-01T00:00:00Z"));
  EXPECT_EQ(parse_timestamp("-1000"), -1000);
}

TEST(Time, RejectsMalformedTimestamps) {
  for (const char* bad : {"", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-01-01T24:00:00Z",
                          "2026-01-01T00:00:00", "2026-01-01T00:00:00.Z", "2026-01-01T00:00:00+1:00",
                          "2026-01-01", "12a", "2026-01-01T00:00:00Zjunk", "99999999999999999999999"}) {
    EXPECT_FALSE(parse_timestamp(bad)) << bad;
  }
}

TEST(Time, FormatsAndRoundTrips) {
  EXPECT_EQ(format_rfc3339(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_rfc3339(1500), "1970-01-01T00:00:01.500Z");
  EXPECT_EQ(format_rfc3339(0, 2 * kMsPerHour), "1970-01-01T02:00:00+02:00");
  for (TimeMs t : {TimeMs{-86400001}, TimeMs{951782400123}, TimeMs{1774747800000}, TimeMs{4102444799999}}) {
    EXPECT_EQ(parse_timestamp(format_rfc3339(t)), t);
    EXPECT_EQ(parse_timestamp(format_rfc3339(t, -5 * kMsPerHour - 30 * kMsPerMinute)), t);
  }
}

TEST(Time, CivilDates) {
  EXPECT_EQ(parse_civil_date("1970-01-01"), 0);
  EXPECT_EQ(parse_civil_date("2000-02-29"), 11016);
  EXPECT_FALSE(parse_civil_date("2001-02-29"));
  EXPECT_EQ(format_civil_date(11016), "2000-02-29");
  EXPECT_EQ(iso_weekday_from_days(0), 3);                            // Thursday
  EXPECT_EQ(iso_weekday_from_days(*parse_civil_date("2026-11-30")), 0);  // Monday
}

}  // namespace oee
