// `oee replay`: KPIs of a node and window from a plant file and a .jsonl event file.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>

#include "commands.h"
#include "oee/codec/event_json.h"
#include "oee/codec/json_writer.h"
#include "oee/codec/kpi_json.h"
#include "oee/codec/run_json.h"
#include "oee/core/history_corrections.h"
#include "oee/core/plant_history.h"
#include "oee/core/production_run.h"
#include "oee/plant/plant_file.h"
#include "table_output.h"

namespace oee::cli {

namespace {

struct BadInput : std::runtime_error {
  using std::runtime_error::runtime_error;
};

TimeMs timestamp_option(const std::string& text, const char* name) {
  const auto t = parse_timestamp(text);
  if (!t) throw BadInput(std::string(name) + ": '" + text + "' is not an RFC 3339 timestamp or epoch milliseconds");
  return *t;
}

// Reads every event; a malformed line, an unknown machine or an unmappable state is bad input.
std::vector<Event> read_events(const std::string& path, const PlantModel& plant) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw BadInput(path + ": cannot open the file");
  std::vector<Event> events;
  std::string line, error;
  std::size_t line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    Event e;
    if (!codec::parse_event(line, e, error)) throw BadInput(path + ":" + std::to_string(line_number) + ": " + error);
    const MachineSpec* m = plant.find_machine(e.machine);
    if (!m) throw BadInput(path + ":" + std::to_string(line_number) + ": unknown machine '" + e.machine + "'");
    if (e.type == EventType::state && !m->resolve_state(e.state))
      throw BadInput(path + ":" + std::to_string(line_number) + ": state '" + e.state + "' is neither canonical nor in " +
                     e.machine + "'s states map");
    events.push_back(std::move(e));
  }
  return events;
}

// One correction as GET /api/v1/corrections writes it (docs/api.md); false when it is not one.
bool correction_of(const nlohmann::json& j, Event& e) {
  if (!j.is_object()) return false;
  const auto text = [&](const char* name) { return j.contains(name) && j[name].is_string() ? j[name].get<std::string>() : std::string(); };
  const std::string kind = text("kind"), name = text("name");
  const auto ts = parse_timestamp(text("ts")), at = parse_timestamp(text("at"));
  if (!ts || !at) return false;
  e.type = EventType::correction;
  e.machine = text("machine");
  e.ts = *ts;
  e.at = *at;
  e.by = text("by");
  e.why = text("why");
  if (kind == "reclassify") {
    const auto until = parse_timestamp(text("until"));
    if (!until) return false;
    e.until = *until;
    e.state = text("state");
    e.reason = text("reason");
  } else if (kind == "rejects") {
    e.correction = CorrectionKind::rejects;
    e.reject = j.value("reject", std::int64_t{0});
  } else if (kind == "void_reading") {
    e.correction = CorrectionKind::void_reading;
    if (name != "total" && name != "good" && name != "reject") return false;
    e.counter = name == "total" ? CounterName::total : name == "good" ? CounterName::good : CounterName::reject;
  } else {
    return false;
  }
  if (j.contains("src") && j["src"].is_string() && j.contains("seq") && j["seq"].is_number_integer()) {
    e.src = j["src"].get<std::string>();
    e.seq = j["seq"].get<std::int64_t>();
  }
  return true;
}

// --corrections: the document GET /api/v1/corrections answers; each must be a correction of a
// machine of the plant that the engine can apply.
void add_corrections(const std::string& path, const PlantModel& plant, std::vector<Event>& events) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw BadInput(path + ": cannot open the file");
  const nlohmann::json doc = nlohmann::json::parse(in, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("corrections") || !doc["corrections"].is_array())
    throw BadInput(path + ": not a document of GET /api/v1/corrections ({\"corrections\":[...]})");
  std::size_t i = 0;
  for (const nlohmann::json& j : doc["corrections"]) {
    Event e;
    const MachineSpec* m = correction_of(j, e) ? plant.find_machine(e.machine) : nullptr;
    if (!m || !correction_is_applicable(*m, e))
      throw BadInput(path + ": correction " + std::to_string(i) + ": not a correction of a machine of the plant");
    events.push_back(std::move(e));
    ++i;
  }
}

// --by run: the runs of one machine that overlap [from, to), each reported whole up to as_of
// (a work order's target is the whole order's, not the window's).
std::string run_reports_json(const plant::LoadedPlant& plant, std::span<const Event> all, const std::string& node,
                             TimeMs from, TimeMs to, TimeMs as_of) {
  const MachineSpec* machine = plant.model.find_machine(node);
  if (!machine) throw BadInput("--by run: --node must be a machine ('" + node + "' is not)");
  std::vector<Event> events;
  for (const Event& e : all)
    if (e.machine == node) events.push_back(e);
  const MachineHistory history = MachineHistory::build(*machine, events);
  std::vector<ProductionRun> runs = production_runs(events);
  std::vector<RunReport> reports = run_reports(runs, history.counts(), as_of);
  std::erase_if(reports, [&](const RunReport& r) { return r.end <= from || r.start >= to; });
  std::string out;
  codec::append_run_reports_json(out, reports, plant.zone->offset_ms_at(from));
  return out + '\n';
}

// --by cause: a constraint-mode line's starved and blocked time by root-cause machine, largest first.
std::string stop_causes_json(const plant::LoadedPlant& plant, const PlantHistory& history, const std::string& node,
                             TimeMs from, TimeMs to, TimeMs as_of) {
  const LineSpec* line = plant.model.find_line(node);
  if (!line || !line->constraint_machine())
    throw BadInput("--by cause: --node must be a line in kpi mode constraint ('" + node + "' is not)");
  const ShiftCalendar calendar(plant.model, *plant.zone);
  std::string out;
  codec::JsonWriter json(out);
  json.begin_array();
  for (const LineStopCause& c : history.line_stop_causes(calendar, node, from, to, as_of)) {
    json.begin_object().string_field("machine", c.machine).string_field("constraint_state", state_name(c.constraint_state));
    json.number_field("loss_s", static_cast<double>(c.loss_ms) / 1000.0).int_field("stops", c.stop_count).end_object();
  }
  json.end_array();
  return out + '\n';
}

}  // namespace

int run_replay_command(int argc, char** argv) {
  CLI::App app{"Compute KPIs (availability, performance, quality, OEE, losses…) of a node over a window from a "
               "plant file and a .jsonl file of events.",
               "oee replay"};
  std::string plant_path, events_path, corrections_path, from_text, to_text, node, by = "none", format = "json", as_of_text;
  app.add_option("--plant", plant_path, "plant file (YAML)")->required();
  app.add_option("--events", events_path, "events, one JSON object per line")->required();
  app.add_option("--corrections", corrections_path,
                 "corrections of the history, as GET /api/v1/corrections answers them (docs/oee-model.md)");
  app.add_option("--from", from_text, "window start (RFC 3339 or epoch ms)")->required();
  app.add_option("--to", to_text, "window end, exclusive")->required();
  app.add_option("--node", node, "node path (site, site/area, …/line, …/machine); default: the whole plant");
  app.add_option("--by", by,
                 "group by hour, day, shift (in the plant's time zone) or crew (the plant's rotation), report the "
                 "production runs of a machine (run), or a constraint-mode line's starved and blocked time by "
                 "root-cause machine (cause)")
      ->check(CLI::IsMember({"none", "hour", "day", "shift", "crew", "run", "cause"}));
  app.add_option("--format", format, "json or table")->check(CLI::IsMember({"json", "table"}));
  app.add_option("--as-of", as_of_text, "the instant the data is complete up to (default: --to): the last state lasts until it");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    const TimeMs from = timestamp_option(from_text, "--from");
    const TimeMs to = timestamp_option(to_text, "--to");
    if (to <= from) throw BadInput("--to must be after --from");
    const TimeMs as_of = as_of_text.empty() ? to : timestamp_option(as_of_text, "--as-of");
    const plant::LoadedPlant plant = plant::load_plant_file(plant_path);
    if (!plant.model.has_node(node)) throw BadInput("--node: '" + node + "' is not a node of " + plant_path);
    if (by == "crew" && plant.model.rotation.empty()) throw BadInput("--by crew: " + plant_path + " has no rotation (crews)");
    std::vector<Event> events = read_events(events_path, plant.model);
    if (!corrections_path.empty()) add_corrections(corrections_path, plant.model, events);
    if (by == "run") {
      if (format != "json") throw BadInput("--by run: only --format json");
      const std::string out = run_reports_json(plant, events, node, from, to, as_of);
      std::fwrite(out.data(), 1, out.size(), stdout);
      return 0;
    }
    const ShiftCalendar calendar(plant.model, *plant.zone);
    const PlantHistory history = PlantHistory::build(plant.model, events);
    if (by == "cause") {
      if (format != "json") throw BadInput("--by cause: only --format json");
      const std::string out = stop_causes_json(plant, history, node, from, to, as_of);
      std::fwrite(out.data(), 1, out.size(), stdout);
      return 0;
    }
    const std::vector<NodeKpis> rows = history.node_kpis(calendar, node, *parse_grouping(by), from, to, as_of);

    const std::string node_name = node.empty() ? std::string("plant") : node;
    const ShiftCalendar node_calendar = calendar.for_node(node);  // its site's zone, or UTC across zones
    if (format == "table") {
      print_kpi_table(stdout, rows, node_name, node_calendar.zone());
      return 0;
    }
    std::string out;
    const bool grouped = by != "none";
    if (grouped) out += "[\n";
    for (std::size_t i = 0; i < rows.size(); ++i) {
      if (grouped && i) out += ",\n";
      codec::append_kpi_json(out, rows[i].totals,
                             {node_name, rows[i].bucket.range.start, rows[i].bucket.range.end, rows[i].bucket.shift,
                              node_calendar.zone().offset_ms_at(rows[i].bucket.range.start), rows[i].bucket.crew});
    }
    if (grouped) out += "\n]";
    out += '\n';
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
  } catch (const BadInput& e) {
    std::fprintf(stderr, "oee replay: %s\n", e.what());
  } catch (const plant::PlantFileError& e) {
    std::fprintf(stderr, "oee replay: %s\n", e.what());
  }
  return 2;
}

}  // namespace oee::cli

OEE_COMMAND("replay", run_replay_command, "compute KPIs of a node and window from a plant file and an event file")
