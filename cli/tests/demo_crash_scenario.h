#pragma once
// The demo crash scenario shared by the serve tests (SQLite and PostgreSQL): `oee serve --demo` is
// SIGKILLed in the middle of storing its simulated history, restarted, and its KPIs must then equal
// an independent offline computation of the same events (`oee simulate` + `oee replay`).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "../../server/tests/http_client.h"
#include "child_process.h"
#include "oee/core/time.h"

namespace oee::testing {

// Runs the oee binary with a shell argument string; expects `want_status` and returns the output.
inline std::string run_oee(const std::string& args, int want_status = 0) {
  const std::string command = std::string(OEE_BINARY) + " " + args + " 2>&1";
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = pclose(p);
  EXPECT_EQ(WIFEXITED(status) ? WEXITSTATUS(status) : -1, want_status) << command << "\n" << out;
  return out;
}

// The port of "listening on http://127.0.0.1:PORT" in a server's output; 0 when absent.
inline std::uint16_t listening_port(const std::string& output) {
  const std::string prefix = "listening on http://127.0.0.1:";
  const std::size_t at = output.find(prefix);
  return at == std::string::npos ? 0 : static_cast<std::uint16_t>(std::stoi(output.substr(at + prefix.size())));
}

// Starts `serve` `crashes` times and SIGKILLs each run at a random moment once it has stored some
// history: just after its first or second progress line (one per 6 simulated hours; a run re-reads
// what was stored before), never after it caught up. The moment follows the ingest's progress, not
// the clock: the SQLite store takes a whole simulated day in well under a second.
inline void kill_during_history_ingest(const std::vector<std::string>& serve, const std::filesystem::path& dir,
                                       int crashes, std::chrono::seconds progress_timeout) {
  std::mt19937 rng(static_cast<unsigned>(::getpid()) ^ static_cast<unsigned>(std::time(nullptr)));
  const std::string progress = "demo: simulated history stored up to";
  for (int crash = 0; crash < crashes; ++crash) {
    ChildProcess server(serve, (dir / ("serve-" + std::to_string(crash) + ".log")).string());
    ASSERT_TRUE(server.wait_for_output("listening on", std::chrono::seconds(30))) << server.output();
    const std::size_t lines = 1 + rng() % 2;
    const auto deadline = std::chrono::steady_clock::now() + progress_timeout;
    auto progress_lines = [&] {
      const std::string out = server.output();
      std::size_t n = 0;
      for (auto at = out.find(progress); at != std::string::npos; at = out.find(progress, at + 1)) ++n;
      return n;
    };
    while (progress_lines() < lines && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ASSERT_GE(progress_lines(), lines) << server.output();
    std::this_thread::sleep_for(std::chrono::microseconds(rng() % 20'000));  // the subject: a kill at a random moment
    EXPECT_EQ(server.kill(SIGKILL), -SIGKILL);
    EXPECT_EQ(server.output().find("caught up"), std::string::npos) << "the kill came after the ingest: " << server.output();
  }
}

// Waits until the simulator's source has no gaps and the hour after `window_end` is fully known,
// then checks the source statistics.
inline void wait_until_caught_up(std::uint16_t port, const std::string& auth, TimeMs window_end, int attempts) {
  std::string sources;
  for (int i = 0; i < attempts; ++i) {
    sources = http_get(port, "/api/v1/sources", auth).body;
    const auto kpis = http_get(port, "/api/v1/kpis?from=" + format_rfc3339(window_end) +
                                         "&to=" + format_rfc3339(window_end + kMsPerHour), auth).body;
    if (sources.find("\"gaps\":[]") != std::string::npos && kpis.find("\"total_count\":0,") == std::string::npos &&
        kpis.find("\"unknown_time_s\":0,") != std::string::npos)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_NE(sources.find("\"src\":\"sim\""), std::string::npos) << sources;
  EXPECT_NE(sources.find("\"seq_min\":0,"), std::string::npos) << sources;
  EXPECT_NE(sources.find("\"gaps\":[]"), std::string::npos) << sources;
}

// The server's KPIs of [start, window_end) for the plant, a line and a machine equal, byte for byte,
// `oee replay` of the same simulated events, and have no no-data time.
inline void expect_kpis_equal_offline_replay(std::uint16_t port, const std::string& auth, const std::filesystem::path& dir,
                                             TimeMs start, TimeMs window_end) {
  const std::string from = format_rfc3339(start), to = format_rfc3339(window_end);
  const std::string as_of = format_rfc3339(window_end + kMsPerHour);
  const std::string events = (dir / "events.jsonl").string();
  run_oee("simulate --plant " + std::string(OEE_DEMO_PLANT_FILE) + " --seed 1 --from " + from + " --to " + as_of +
          " --out " + events);
  for (const std::string node : {"", "berlin/bottling/pet1", "berlin/bottling/glass2/filler"}) {
    const std::string node_arg = node.empty() ? "" : " --node " + node;
    std::string offline = run_oee("replay --plant " + std::string(OEE_DEMO_PLANT_FILE) + " --events " + events +
                                  " --from " + from + " --to " + to + " --as-of " + as_of + node_arg);
    offline.erase(offline.find_last_not_of('\n') + 1);
    const auto online = http_get(port, "/api/v1/kpis?from=" + from + "&to=" + to + (node.empty() ? "" : "&node=" + node), auth);
    ASSERT_EQ(online.status, 200) << online.body;
    EXPECT_EQ(online.body, offline) << "node " << node;
    // The demo plant's no_data_after_s finds no silence: the feed sends heartbeats, and a restarted
    // feed regenerates everything since the demo's start, so the kills leave none either.
    EXPECT_NE(online.body.find("\"no_data_s\":0,"), std::string::npos) << online.body;
  }
}

}  // namespace oee::testing
