#include "oee/core/time.h"

#include <charconv>
#include <cstdio>

namespace oee {

std::int64_t days_from_civil(int year, unsigned month, unsigned day) {
  year -= month <= 2;
  const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(year - era * 400);
  const unsigned doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, int& year, unsigned& month, unsigned& day) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  day = doy - (153 * mp + 2) / 5 + 1;
  month = mp < 10 ? mp + 3 : mp - 9;
  year = static_cast<int>(y + (month <= 2));
}

int iso_weekday_from_days(std::int64_t days) {
  // 1970-01-01 was a Thursday (3).
  const std::int64_t w = (days + 3) % 7;
  return static_cast<int>(w < 0 ? w + 7 : w);
}

namespace {

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

unsigned days_in_month(int year, unsigned month) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2) {
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return leap ? 29 : 28;
  }
  return kDays[month - 1];
}

}  // namespace

std::optional<std::int64_t> parse_civil_date(std::string_view s) {
  int y = 0, m = 0, d = 0;
  if (s.size() != 10 || !digits(s, 0, 4, y) || s[4] != '-' || !digits(s, 5, 2, m) || s[7] != '-' ||
      !digits(s, 8, 2, d))
    return std::nullopt;
  if (m < 1 || m > 12 || d < 1 || static_cast<unsigned>(d) > days_in_month(y, m)) return std::nullopt;
  return days_from_civil(y, m, d);
}

std::optional<TimeMs> parse_timestamp(std::string_view s) {
  if (s.empty() || s.size() > 64) return std::nullopt;
  // Integer epoch milliseconds.
  if (s.find_first_not_of("-0123456789") == std::string_view::npos) {
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    if (v < kTimeMin || v > kTimeMax) return std::nullopt;
    return v;
  }
  auto date = parse_civil_date(s.substr(0, std::min<std::size_t>(10, s.size())));
  if (!date || s.size() < 19) return std::nullopt;
  if (s[10] != 'T' && s[10] != 't' && s[10] != ' ') return std::nullopt;
  int hh = 0, mm = 0, ss = 0;
  if (!digits(s, 11, 2, hh) || s[13] != ':' || !digits(s, 14, 2, mm) || s[16] != ':' ||
      !digits(s, 17, 2, ss))
    return std::nullopt;
  if (hh > 23 || mm > 59 || ss > 60) return std::nullopt;  // 60: leap second, folded into the next
  std::size_t pos = 19;
  std::int64_t frac_ms = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    std::size_t n = 0;
    std::int64_t scale = 100;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (n < 3) frac_ms += (s[pos] - '0') * scale, scale /= 10;
      ++pos, ++n;
    }
    if (n == 0 || n > 12) return std::nullopt;
  }
  std::int64_t offset_ms = 0;
  if (pos >= s.size()) return std::nullopt;  // RFC 3339 requires an offset
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int oh = 0, om = 0;
    if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !digits(s, pos + 4, 2, om) || oh > 23 || om > 59)
      return std::nullopt;
    offset_ms = (oh * 60 + om) * kMsPerMinute * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  return *date * kMsPerDay + hh * kMsPerHour + mm * kMsPerMinute + ss * kMsPerSecond + frac_ms -
         offset_ms;
}

std::string format_rfc3339(TimeMs t, std::int64_t offset_ms) {
  const TimeMs local = t + offset_ms;
  const std::int64_t days = floor_to(local, kMsPerDay) / kMsPerDay;
  const std::int64_t ms_of_day = local - days * kMsPerDay;
  int y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  const int hh = static_cast<int>(ms_of_day / kMsPerHour);
  const int mi = static_cast<int>(ms_of_day / kMsPerMinute % 60);
  const int ss = static_cast<int>(ms_of_day / kMsPerSecond % 60);
  const int ms = static_cast<int>(ms_of_day % 1000);
  char buf[48];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d", y, m, d, hh, mi, ss);
  if (ms != 0) n += std::snprintf(buf + n, sizeof buf - n, ".%03d", ms);
  if (offset_ms == 0) {
    buf[n++] = 'Z';
    buf[n] = 0;
  } else {
    const std::int64_t a = offset_ms < 0 ? -offset_ms : offset_ms;
    n += std::snprintf(buf + n, sizeof buf - n, "%c%02d:%02d", offset_ms < 0 ? '-' : '+',
                       static_cast<int>(a / kMsPerHour), static_cast<int>(a / kMsPerMinute % 60));
  }
  return std::string(buf, static_cast<std::size_t>(n));
}

std::string format_rfc3339(TimeMs t) { return format_rfc3339(t, 0); }

std::string format_civil_date(std::int64_t days) {
  int y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  char buf[40];  // room for any int year: -O3 checks the worst case
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", y, m, d);
  return buf;
}

}  // namespace oee
