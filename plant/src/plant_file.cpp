#include "oee/plant/plant_file.h"
#include "oee/plant/packml_states.h"
#include "oee/plant/yaml_fields.h"
#include "sparkplug_mapping.h"
#include "reason_tree_file.h"
#include "alert_rules_file.h"
#include "schedule_file.h"
#include "downtime_file.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

namespace oee::plant {

PlantFileError::PlantFileError(std::string file, int line, std::string message)
    : std::runtime_error(file + (line > 0 ? ":" + std::to_string(line) : std::string()) + ": " + message),
      file_(std::move(file)),
      line_(line),
      message_(std::move(message)) {}

namespace {

// The plant file's reader: the common YAML fields, and ids, times of day and weekdays.
class Reader : public YamlFields {
 public:
  explicit Reader(std::string file)
      : YamlFields(std::move(file), [](const std::string& f, int line, const std::string& message) {
          throw PlantFileError(f, line, message);
        }) {}

  std::string id(const YAML::Node& parent, const std::string& what) const {
    const YAML::Node n = parent["id"];
    if (!n) fail(parent, what + ": missing 'id'");
    std::string v = string(n, what + ".id");
    if (v.empty() || v.find('/') != std::string::npos || v.size() > 64)
      fail(n, what + ".id: '" + v + "' must be 1 to 64 characters without '/'");
    return v;
  }
  int time_of_day(const YAML::Node& n, const std::string& what) const {
    const std::string s = string(n, what);
    int h = -1, m = -1;
    char colon = 0;
    std::istringstream in(s);
    in >> h >> colon >> m;
    if (!in || colon != ':' || !in.eof() || h < 0 || h > 24 || m < 0 || m > 59 || (h == 24 && m != 0) || s.size() != 5)
      fail(n, what + ": '" + s + "' is not a time of day HH:MM");
    return (h * 60 + m) % (24 * 60);
  }
  std::array<bool, 7> weekdays(const YAML::Node& n, const std::string& what) const {
    expect_list(n, what);
    std::array<bool, 7> days{};
    for (const auto& d : n) {
      const int w = weekday(string(d, what));
      if (w < 0) fail(d, what + ": '" + d.Scalar() + "' is not a weekday (mon … sun)");
      days[static_cast<std::size_t>(w)] = true;
    }
    return days;
  }
  static int weekday(const std::string& s) {
    static const char* kNames[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    std::string lower;
    for (char c : s) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (int i = 0; i < 7; ++i)
      if (lower.rfind(kNames[i], 0) == 0 && lower.size() >= 3) return i;
    return -1;
  }

};

std::int64_t seconds_to_us(const Reader& r, const YAML::Node& n, const std::string& what, bool allow_zero) {
  const double s = r.number(n, what);
  if (s < 0 || (!allow_zero && s == 0) || s > 1e6) r.fail(n, what + ": must be " + (allow_zero ? ">= 0" : "> 0") + " seconds");
  return std::llround(s * 1e6);
}

// `states`: a map raw value -> canonical state, the preset name `packml`, or a map with
// `preset: packml` whose other entries override the preset's choice for those raw values.
void read_states(const Reader& r, const YAML::Node& s, const std::string& what, MachineSpec& m) {
  auto apply_preset = [&](const YAML::Node& at) {
    const std::string preset = r.string(at, what + ".states");
    if (preset != "packml") r.fail(at, what + ".states: unknown preset '" + preset + "' (packml, or a map raw value -> state)");
    for (const auto& p : kPackmlStates) m.state_map[std::to_string(p.value)] = p.state;
  };
  if (s.IsScalar()) return apply_preset(s);
  r.expect_map(s, what + ".states");
  if (const auto preset = s["preset"]) apply_preset(preset);
  for (const auto& kv : s) {
    const std::string raw = r.string(kv.first, what + ".states");
    if (raw == "preset") continue;
    const std::string canonical = r.string(kv.second, what + ".states." + raw);
    const auto state = parse_state(canonical);
    if (!state)
      r.fail(kv.second, what + ".states." + raw + ": '" + canonical +
                            "' is not a state (running, stopped, setup, starved, blocked, planned_stop)");
    m.state_map[raw] = *state;
  }
}

MachineSpec read_machine(const Reader& r, const YAML::Node& n, const std::string& parent_path, const std::string& what,
                         const PlantModel& plant, const ReasonCodes& plant_reason_codes) {
  r.expect_map(n, what);
  r.only_keys(n, what, {"id", "name", "ideal_cycle_time_s", "products", "micro_stop_threshold_s", "startup_window_s",
                        "no_data_after_s", "states", "targets", "description", "sparkplug", "reason_codes"});
  MachineSpec m;
  m.id = r.id(n, what);
  m.path = parent_path + "/" + m.id;
  m.name = n["name"] ? r.string(n["name"], what + ".name") : m.id;
  if (n["description"]) m.description = r.string(n["description"], what + ".description");
  if (!n["ideal_cycle_time_s"]) r.fail(n, what + ": missing 'ideal_cycle_time_s' (seconds per part at ideal speed)");
  m.ideal_cycle_us = seconds_to_us(r, n["ideal_cycle_time_s"], what + ".ideal_cycle_time_s", false);
  if (const auto p = n["products"]) {
    r.expect_map(p, what + ".products");
    for (const auto& kv : p) {
      const std::string product = r.string(kv.first, what + ".products");
      m.product_cycle_us[product] = seconds_to_us(r, kv.second, what + ".products." + product, false);
    }
  }
  if (const auto v = n["micro_stop_threshold_s"])
    m.micro_stop_threshold_ms = seconds_to_us(r, v, what + ".micro_stop_threshold_s", true) / 1000;
  if (const auto v = n["startup_window_s"]) m.startup_window_ms = seconds_to_us(r, v, what + ".startup_window_s", true) / 1000;
  if (const auto v = n["no_data_after_s"]) m.no_data_after_ms = seconds_to_us(r, v, what + ".no_data_after_s", true) / 1000;
  if (const auto v = n["sparkplug"]) m.sparkplug = read_sparkplug_mapping(r, v, what + ".sparkplug");
  if (const auto s = n["states"]) read_states(r, s, what, m);
  if (const auto t = n["targets"]) {
    r.expect_map(t, what + ".targets");
    r.only_keys(t, what + ".targets", {"oee", "availability", "performance", "quality"});
    auto target = [&](const char* key, double& out) {
      if (const auto v = t[key]) {
        out = r.number(v, what + ".targets." + key);
        if (out <= 0 || out > 1) r.fail(v, what + ".targets." + key + ": must be a fraction in (0, 1]");
      }
    };
    target("oee", m.targets.oee);
    target("availability", m.targets.availability);
    target("performance", m.targets.performance);
    target("quality", m.targets.quality);
  }
  m.reasons = plant.reasons;
  m.reason_codes = plant_reason_codes;
  if (const auto codes = n["reason_codes"])
    for (auto& [plc, code] : read_reason_codes(r, codes, plant.reasons.get(), what + ".reason_codes")) m.reason_codes[plc] = code;
  return m;
}

template <typename F>
void read_children(const Reader& r, const YAML::Node& parent, const char* key, const std::string& what, F&& each) {
  const YAML::Node list = parent[key];
  if (!list) r.fail(parent, what + ": missing '" + key + "'");
  r.expect_list(list, (what == "plant" ? std::string() : what + ".") + key);
  if (list.size() == 0) r.fail(list, (what == "plant" ? std::string() : what + ".") + key + ": must not be empty");
  std::set<std::string> ids;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string child_what = (what == "plant" ? std::string() : what + ".") + key + "[" + std::to_string(i) + "]";
    r.expect_map(list[i], child_what);
    const std::string id = r.id(list[i], child_what);
    if (!ids.insert(id).second) r.fail(list[i]["id"], child_what + ".id: duplicate id '" + id + "'");
    each(list[i], child_what, id);
  }
}

// A line's `kpi:` (after its machines, which it names by id).
LineKpiSpec read_line_kpi(const Reader& r, const YAML::Node& n, const LineSpec& line, const std::string& what) {
  r.expect_map(n, what);
  r.only_keys(n, what, {"mode", "constraint", "outfeed"});
  LineKpiSpec k;
  const std::string mode = n["mode"] ? r.string(n["mode"], what + ".mode") : "sum";
  if (mode == "sum") {
    for (const char* key : {"constraint", "outfeed"})
      if (n[key]) r.fail(n[key], what + "." + key + ": has no effect in mode sum (set mode: constraint)");
    return k;
  }
  if (mode != "constraint") r.fail(n["mode"], what + ".mode: '" + mode + "' is not a mode (sum, constraint)");
  k.mode = LineKpiMode::constraint;
  if (!n["constraint"] || !n["outfeed"]) r.fail(n, what + ": mode constraint needs 'constraint' and 'outfeed' (machine ids of the line)");
  k.constraint = r.string(n["constraint"], what + ".constraint");
  k.outfeed = r.string(n["outfeed"], what + ".outfeed");
  for (const auto& [key, id] : {std::pair{"constraint", k.constraint}, std::pair{"outfeed", k.outfeed}})
    if (line.machine_index(id) < 0) r.fail(n[key], what + "." + key + ": '" + id + "' is not a machine of line " + line.id);
  return k;
}

ShiftSpec read_shift(const Reader& r, const YAML::Node& n, const std::string& what) {
  r.expect_map(n, what);
  r.only_keys(n, what, {"name", "start", "end", "breaks", "days"});
  ShiftSpec s;
  if (!n["name"]) r.fail(n, what + ": missing 'name'");
  s.name = r.string(n["name"], what + ".name");
  if (!n["start"] || !n["end"]) r.fail(n, what + ": needs 'start' and 'end' (HH:MM)");
  s.start_minute = r.time_of_day(n["start"], what + ".start");
  s.end_minute = r.time_of_day(n["end"], what + ".end");
  const int length = (s.end_minute - s.start_minute + 1440 - 1) % 1440 + 1;  // 1..1440
  if (const auto b = n["breaks"]) {
    r.expect_list(b, what + ".breaks");
    for (std::size_t i = 0; i < b.size(); ++i) {
      const std::string bw = what + ".breaks[" + std::to_string(i) + "]";
      r.expect_map(b[i], bw);
      r.only_keys(b[i], bw, {"start", "end", "name"});
      if (!b[i]["start"] || !b[i]["end"]) r.fail(b[i], bw + ": needs 'start' and 'end' (HH:MM)");
      BreakSpec br{r.time_of_day(b[i]["start"], bw + ".start"), r.time_of_day(b[i]["end"], bw + ".end"), {}};
      if (b[i]["name"]) br.name = r.string(b[i]["name"], bw + ".name");
      const int offset = (br.start_minute - s.start_minute + 1440) % 1440;
      const int blen = (br.end_minute - br.start_minute + 1440) % 1440;
      if (blen == 0 || offset + blen > length) r.fail(b[i], bw + ": must lie inside the shift " + s.name);
      s.breaks.push_back(br);
    }
  }
  if (const auto d = n["days"]) {
    s.weekdays = r.weekdays(d, what + ".days");
    if (d.size() == 0) r.fail(d, what + ".days: must not be empty (the shift would never run)");
  }
  return s;
}

// A list of shifts with distinct names (the plant's, a site's or a line's).
std::vector<ShiftSpec> read_shifts(const Reader& r, const YAML::Node& shifts, const std::string& what) {
  r.expect_list(shifts, what);
  std::vector<ShiftSpec> out;
  std::set<std::string> names;
  for (std::size_t i = 0; i < shifts.size(); ++i) {
    const std::string sw = what + "[" + std::to_string(i) + "]";
    out.push_back(read_shift(r, shifts[i], sw));
    if (!names.insert(out.back().name).second) r.fail(shifts[i]["name"], sw + ".name: duplicate shift '" + out.back().name + "'");
  }
  return out;
}

// A site's own `timezone` and `shifts` (docs/configuration.md, "Schedules").
void read_site_schedule(const Reader& r, const YAML::Node& sn, const std::string& sw, SiteSpec& site) {
  if (const auto tz = sn["timezone"]) {
    site.timezone = r.string(tz, sw + ".timezone");
    try {
      site.zone = make_time_zone(site.timezone);
    } catch (const std::invalid_argument& e) {
      r.fail(tz, sw + ".timezone: " + e.what());
    }
  }
  if (const auto shifts = sn["shifts"]) site.shifts = read_shifts(r, shifts, sw + ".shifts");
}

// Keys that cannot take effect are errors, not silently ignored: without shifts every hour is planned
// production time, so non-production days change nothing; a shift that only starts on
// non-production weekdays never runs.
void check_non_production_days_take_effect(const Reader& r, const YAML::Node& root, const PlantModel& p) {
  if (p.shifts.empty())
    r.fail(root["non_production_days"], "non_production_days: has no effect without shifts (with no shifts every hour "
                                        "is planned production time): add shifts or remove it");
  for (std::size_t i = 0; i < p.shifts.size(); ++i) {
    bool runs = false;
    for (std::size_t w = 0; w < 7; ++w) runs = runs || (p.shifts[i].weekdays[w] && p.production_weekdays[w]);
    if (!runs)
      r.fail(root["shifts"][i], "shifts[" + std::to_string(i) + "]: the shift " + p.shifts[i].name +
                                    " only starts on non_production_days weekdays: it would never run");
  }
}

}  // namespace

LoadedPlant load_plant_yaml(std::string_view text, const std::string& file) {
  const Reader r(file);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    throw PlantFileError(file, e.mark.is_null() ? 0 : e.mark.line + 1, "invalid YAML: " + e.msg);
  }
  if (!root.IsMap()) throw PlantFileError(file, 1, "expected a mapping with timezone, shifts and sites");
  LoadedPlant out;
  PlantModel& p = out.model;
  try {
    r.only_keys(root, "plant", {"timezone", "shifts", "non_production_days", "sites", "name", "reasons", "reason_codes",
                               "holidays", "rotation", "alerts", "downtime"});
    if (root["name"]) p.name = r.string(root["name"], "name");
    if (const auto reasons = root["reasons"]) p.reasons = read_reason_tree(r, reasons);
    ReasonCodes plant_reason_codes;
    if (const auto codes = root["reason_codes"]) plant_reason_codes = read_reason_codes(r, codes, p.reasons.get(), "reason_codes");
    if (const auto tz = root["timezone"]) {
      p.timezone = r.string(tz, "timezone");
      try {
        out.zone = make_time_zone(p.timezone);
      } catch (const std::invalid_argument& e) {
        r.fail(tz, std::string("timezone: ") + e.what());
      }
    } else {
      out.zone = make_time_zone("UTC");
    }
    if (const auto shifts = root["shifts"]) p.shifts = read_shifts(r, shifts, "shifts");
    if (const auto days = root["non_production_days"]) {
      r.expect_list(days, "non_production_days");
      for (const auto& d : days) {
        const std::string s = r.string(d, "non_production_days");
        if (const int w = Reader::weekday(s); w >= 0 && s.size() <= 9) {
          p.production_weekdays[static_cast<std::size_t>(w)] = false;
        } else if (const auto date = parse_civil_date(s)) {
          p.non_production_dates.push_back(*date);
        } else {
          r.fail(d, "non_production_days: '" + s + "' is neither a weekday (mon … sun) nor a date YYYY-MM-DD");
        }
      }
      check_non_production_days_take_effect(r, root, p);
    }
    if (const auto h = root["holidays"]) {
      if (p.shifts.empty()) r.fail(h, "holidays: has no effect without shifts (with no shifts every hour is planned production time)");
      p.holidays = read_holidays(r, h);
    }
    if (const auto rot = root["rotation"]) p.rotation = read_rotation(r, rot, p.shifts);
    read_children(r, root, "sites", "plant", [&](const YAML::Node& sn, const std::string& sw, const std::string& sid) {
      r.only_keys(sn, sw, {"id", "name", "areas", "timezone", "shifts"});
      SiteSpec site{sid, sid, sn["name"] ? r.string(sn["name"], sw + ".name") : sid, {}};
      read_site_schedule(r, sn, sw, site);
      read_children(r, sn, "areas", sw, [&](const YAML::Node& an, const std::string& aw, const std::string& aid) {
        r.only_keys(an, aw, {"id", "name", "lines"});
        AreaSpec area{aid, site.path + "/" + aid, an["name"] ? r.string(an["name"], aw + ".name") : aid, {}};
        read_children(r, an, "lines", aw, [&](const YAML::Node& ln, const std::string& lw, const std::string& lid) {
          r.only_keys(ln, lw, {"id", "name", "machines", "kpi", "shifts"});
          LineSpec line{lid, area.path + "/" + lid, ln["name"] ? r.string(ln["name"], lw + ".name") : lid, {}};
          if (const auto shifts = ln["shifts"]) line.shifts = read_shifts(r, shifts, lw + ".shifts");
          read_children(r, ln, "machines", lw, [&](const YAML::Node& mn, const std::string& mw, const std::string&) {
            line.machines.push_back(read_machine(r, mn, line.path, mw, p, plant_reason_codes));
          });
          if (const auto kpi = ln["kpi"]) line.kpi = read_line_kpi(r, kpi, line, lw + ".kpi");
          area.lines.push_back(std::move(line));
        });
        site.areas.push_back(std::move(area));
      });
      p.sites.push_back(std::move(site));
    });
    if (const auto downtime = root["downtime"]) p.downtime = read_downtime(r, downtime, p);
    if (const auto alerts = root["alerts"]) read_alerts(r, alerts, p, p.alert_rules, out.alert_notifications);
  } catch (const YAML::Exception& e) {
    throw PlantFileError(file, e.mark.is_null() ? 0 : e.mark.line + 1, e.msg);
  }
  return out;
}

LoadedPlant load_plant_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw PlantFileError(path, 0, "cannot open the file");
  std::ostringstream text;
  text << in.rdbuf();
  return load_plant_yaml(text.str(), path);
}

}  // namespace oee::plant
