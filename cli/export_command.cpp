// `oee export`: the stored events of [from, to) as CSV, for cold storage or another tool. Reads one
// machine and one day at a time, so memory stays bounded whatever the range.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>

#include "commands.h"
#include "encryption_key_option.h"
#include "oee/core/shift_calendar.h"
#include "oee/plant/plant_file.h"
#include "oee/storage/open_store.h"
#include "oee/storage/postgres_store.h"

namespace oee::cli {

namespace {

void csv_field(std::ostream& out, std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) {
    out << s;
    return;
  }
  out << '"';
  for (char c : s) {
    if (c == '"') out << '"';
    out << c;
  }
  out << '"';
}

}  // namespace

int run_export_command(int argc, char** argv) {
  CLI::App app{"Export stored events to CSV (one row per event, sorted by machine then time).", "oee export"};
  std::string plant_path, url, from_text, to_text, out_path, data_dir = "oee-data";
  std::vector<std::string> machines;
  app.add_option("--plant", plant_path, "plant file (YAML)")->required();
  CLI::Option* storage_option = app.add_option("--storage", url, "sqlite:PATH or postgresql://... (default: DATA_DIR/oee.sqlite)");
  app.add_option("--data-dir", data_dir, "directory of the embedded store (without --storage)")->capture_default_str()->excludes(storage_option);
  app.add_option("--from", from_text, "start (RFC 3339 or epoch ms), inclusive")->required();
  app.add_option("--to", to_text, "end (RFC 3339 or epoch ms), exclusive")->required();
  app.add_option("--machine", machines, "machine path (repeatable; default: every machine of the plant)");
  app.add_option("--out", out_path, "CSV file to write ('-' for stdout)")->required();
  EncryptionKeyOption encryption;
  add_encryption_key_option(app, encryption, "the embedded store");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (storage::is_postgres_url(url) && app.count("--encryption-key-file") > 0) {
    std::fprintf(stderr, "oee export: --encryption-key-file is for the embedded store; PostgreSQL is not encrypted by us\n");
    return 2;
  }
  const auto from = parse_timestamp(from_text), to = parse_timestamp(to_text);
  if (!from || !to || *from >= *to) {
    std::fprintf(stderr, "oee export: --from and --to must be timestamps with from < to\n");
    return 2;
  }
  try {
    storage::check_storage_url(url);
  } catch (const storage::StorageUrlError& e) {
    std::fprintf(stderr, "oee export: --storage: %s\n", e.what());
    return 2;
  }
  if (const std::string why = encryption.load(); !why.empty()) {
    std::fprintf(stderr, "oee export: %s\n", why.c_str());
    return 2;
  }
  storage::StoreOptions store_options;
  store_options.encryption_key = encryption.subkey(fileio::KeyUse::store);
  try {
    const plant::LoadedPlant plant = plant::load_plant_file(plant_path);
    if (machines.empty())
      for (const MachineSpec* m : plant.model.machines()) machines.push_back(m->path);
    for (const std::string& m : machines)
      if (!plant.model.find_machine(m)) {
        std::fprintf(stderr, "oee export: --machine: '%s' is not a machine of the plant\n", m.c_str());
        return 2;
      }
    const ShiftCalendar calendar(plant.model, *plant.zone);
    // Straight to the database: an export has nothing to spill and must not read stale values.
    auto store = storage::is_postgres_url(url)
                     ? storage::open_postgres_store(url, plant.model, calendar)
                     : storage::open_sqlite_store(url.empty() ? data_dir + "/oee.sqlite" : url.substr(7), plant.model, calendar,
                                                   store_options);
    std::ofstream file;
    if (out_path != "-") {
      file.open(out_path, std::ios::binary | std::ios::trunc);
      if (!file) {
        std::fprintf(stderr, "oee export: cannot write %s\n", out_path.c_str());
        return 2;
      }
    }
    std::ostream& out = out_path == "-" ? std::cout : file;
    out << "ts,ts_ms,machine,type,src,seq,state,reason,good,reject,counter,value,rollover,product,at_ms\n";
    std::int64_t rows = 0;
    for (const std::string& m : machines) {
      for (TimeMs day = *from; day < *to; day += kMsPerDay) {
        for (const Event& e : store->machine_events(m, day, std::min(*to, day + kMsPerDay))) {
          out << format_rfc3339(e.ts) << ',' << e.ts << ',';
          csv_field(out, e.machine);
          out << ',' << event_type_name(e.type) << ',';
          csv_field(out, e.src);
          out << ',';
          if (e.seq >= 0) out << e.seq;
          out << ',';
          csv_field(out, e.state);
          out << ',';
          csv_field(out, e.reason);
          out << ',' << e.good << ',' << e.reject << ',';
          if (e.type == EventType::counter) out << counter_name(e.counter);
          out << ',' << e.value << ',' << e.rollover << ',';
          csv_field(out, e.product);
          out << ',';
          if (e.type == EventType::reason) out << e.at;
          out << '\n';
          ++rows;
        }
      }
    }
    out.flush();
    if (!out) {
      std::fprintf(stderr, "oee export: write failed\n");
      return 1;
    }
    std::fprintf(stderr, "oee export: %lld events\n", static_cast<long long>(rows));
    return 0;
  } catch (const plant::PlantFileError& e) {
    std::fprintf(stderr, "oee export: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "oee export: %s\n", e.what());
    return 1;
  }
}

}  // namespace oee::cli

OEE_COMMAND("export", run_export_command, "export stored events to CSV (--storage, --from, --to, --out)")
