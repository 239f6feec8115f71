#pragma once
// A throwaway pg_auto_failover formation for tests and benches: a monitor, a primary and a
// synchronous secondary (PostgreSQL 15, Debian's postgresql-15-auto-failover), each `pg_autoctl
// run` in its own process group as the `postgres` OS user, on loopback TCP ports of their own, in
// one temporary directory. The health checks are short so that the monitor promotes the secondary
// within seconds of the primary's loss (kShortHealthChecks, docs/operations.md). Everything is
// killed and removed in the destructor, and by a watchdog child if the test process dies.
#include <signal.h>

#include <array>
#include <chrono>
#include <fstream>
#include <functional>
#include <thread>

#include "postgres_test_cluster.h"

namespace oee::storage::testing {

// The monitor's failure detection, short for tests (defaults: 5 s checks, 20 s before unhealthy,
// 30 s before a lost primary's standby may take writes). The demote timeout must stay above the
// keepers' network_partition_timeout (kKeeperTimeouts): a primary cut off from the monitor and its
// standby demotes itself within that time, before the standby may take writes.
inline constexpr std::array<const char*, 6> kShortHealthChecks = {
    "pgautofailover.health_check_period = 1000",      "pgautofailover.health_check_timeout = 1000",
    "pgautofailover.health_check_max_retries = 1",    "pgautofailover.health_check_retry_delay = 200",
    "pgautofailover.node_considered_unhealthy_timeout = 2000", "pgautofailover.primary_demote_timeout = 3000"};
// Keeper settings (pg_autoctl config set), in seconds.
inline constexpr std::array<const char*, 2> kKeeperTimeouts = {"timeout.network_partition_timeout=2",
                                                               "timeout.prepare_promotion_walreceiver=1"};

class PgAutoFailoverCluster {
 public:
  static constexpr int kNodes = 2;

  // `free_port`: a loopback TCP port nobody listens on (the suite's own helper).
  // `short_health_checks`: kShortHealthChecks on the monitor, else pg_auto_failover's defaults.
  explicit PgAutoFailoverCluster(const std::function<int()>& free_port, bool short_health_checks = true)
      : short_health_checks_(short_health_checks) {
    dir_ = make_server_dir("oee-pgaf-", as_postgres_);
    // Killed with the test process: the process groups listed in DIR/groups, then the directory.
    watchdog_ = std::make_unique<Watchdog>([this] {
      std::ifstream groups(dir_ + "/groups");
      for (pid_t g; groups >> g;) ::kill(-g, SIGKILL);
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    });
    monitor_port_ = free_port();
    for (int& p : ports_) p = free_port();
    create_monitor();
    for (int i = 0; i < kNodes; ++i) create_node(i);
    // Both up: the primary waits for its synchronous standby's flush at each commit.
    for (int i = 0; i < kNodes; ++i)
      if (!reaches(i, i == 0 ? "primary" : "secondary", std::chrono::seconds(60)))
        throw std::runtime_error("pg_auto_failover: node" + std::to_string(i) + " is " + state_of(i));
  }
  ~PgAutoFailoverCluster() {
    for (pid_t g : groups_) ::kill(-g, SIGKILL);
    for (pid_t g : groups_) ::waitpid(g, nullptr, 0);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  PgAutoFailoverCluster(const PgAutoFailoverCluster&) = delete;
  PgAutoFailoverCluster& operator=(const PgAutoFailoverCluster&) = delete;

  // The URL a server uses: both nodes, libpq picks the one that takes writes.
  std::string url() const {
    return "postgresql://127.0.0.1:" + std::to_string(ports_[0]) + ",127.0.0.1:" + std::to_string(ports_[1]) +
           "/oee?user=postgres&target_session_attrs=read-write&connect_timeout=2";
  }
  // One node alone (reads from a standby, or the new primary after a failover).
  std::string node_url(int node) const {
    return "postgresql://127.0.0.1:" + std::to_string(ports_[static_cast<std::size_t>(node)]) + "/oee?user=postgres&connect_timeout=2";
  }
  std::string monitor_url() const {
    return "postgresql://127.0.0.1:" + std::to_string(monitor_port_) + "/pg_auto_failover?user=postgres&connect_timeout=2";
  }
  // The node the monitor has as the one taking writes (primary, or wait_primary: alone, without a
  // standby to wait for), or -1.
  int primary() const {
    for (int i = 0; i < kNodes; ++i) {
      const std::string goal = node_state(i, "goalstate");
      if (goal == "primary" || goal == "wait_primary") return i;
    }
    return -1;
  }
  // The machine of node `i` lost: its postgres and its keeper SIGKILLed at once.
  void kill_node(int i) {
    const pid_t g = groups_[static_cast<std::size_t>(i) + 1];
    ::kill(-g, SIGKILL);
    ::waitpid(g, nullptr, 0);
  }
  // Whether the monitor reports node `i` in `state` (reported and assigned) within the timeout.
  bool reaches(int i, const std::string& state, std::chrono::milliseconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (node_state(i, "reportedstate") != state || node_state(i, "goalstate") != state) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return true;
  }
  // "reported/assigned" of node `i`, for messages.
  std::string state_of(int i) const { return node_state(i, "reportedstate") + "/" + node_state(i, "goalstate"); }
  // The events an oee store on node `i` holds (its sources' counts), or -1 while the node does not
  // answer (it is being promoted).
  std::int64_t stored_events(int i) const {
    try {
      return scalar_of(node_url(i), "SELECT coalesce(sum(events), 0) FROM sources");
    } catch (const std::exception&) {
      return -1;
    }
  }
  // The same on a standby once it has replayed all the WAL it received (its primary is gone): from
  // then on only writes on the promoted node add events. Replayed: the replay position stays put
  // for 200 ms (pg_last_wal_receive_lsn() is no sign: it falls back when the WAL receiver
  // restarts). -1 if the node never got there.
  std::int64_t replayed_events(int i) const {
    const std::string replay_lsn = "SELECT coalesce(pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0'), -1)::bigint";
    std::int64_t last = -2;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      std::int64_t now = -2;
      try {
        now = scalar_of(node_url(i), replay_lsn);
      } catch (const std::exception&) {
      }
      if (now >= 0 && now == last) return stored_events(i);
      last = now;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return -1;
  }
  const std::string& dir() const { return dir_; }

 private:
  std::string data(const std::string& name) const { return dir_ + "/" + name; }
  // pg_autoctl keeps its state under XDG_CONFIG_HOME and XDG_DATA_HOME: ours, not ~postgres's.
  std::vector<std::string> autoctl(std::vector<std::string> args) const {
    args.insert(args.begin(), {"/usr/bin/env", "XDG_CONFIG_HOME=" + dir_ + "/config", "XDG_DATA_HOME=" + dir_ + "/share",
                               "XDG_RUNTIME_DIR=" + dir_ + "/run", "/usr/bin/pg_autoctl"});
    return args;
  }
  void run(std::vector<std::string> args, const char* what) const {
    run_program(autoctl(std::move(args)), dir_ + "/cmd.out", as_postgres_, what);
  }
  std::vector<std::string> common(const std::string& name, int port) const {
    return {"--pgdata", data(name), "--pgport", std::to_string(port), "--hostname", "127.0.0.1", "--auth", "trust", "--no-ssl",
            "--pgctl", std::string(kPostgresBin) + "/pg_ctl"};
  }
  void create_monitor() {
    auto args = common("monitor", monitor_port_);
    args.insert(args.begin(), {"create", "monitor"});
    run(args, "pg_autoctl create monitor");
    run({"config", "set", "--pgdata", data("monitor"), "postgresql.listen_addresses", "127.0.0.1"}, "pg_autoctl config set");
    start_service("monitor");
    wait_until_connects(monitor_url());
    if (!short_health_checks_) return;
    for (const char* setting : kShortHealthChecks) exec_sql(monitor_url(), std::string("ALTER SYSTEM SET ") + setting);
    exec_sql(monitor_url(), "SELECT pg_reload_conf()");
  }
  void create_node(int i) {
    const std::string name = "node" + std::to_string(i);
    auto args = common(name, ports_[static_cast<std::size_t>(i)]);
    args.insert(args.begin(), {"create", "postgres"});
    args.insert(args.end(), {"--name", name, "--pghost", "127.0.0.1", "--listen", "127.0.0.1", "--dbname", "oee", "--monitor",
                             "postgresql://autoctl_node@127.0.0.1:" + std::to_string(monitor_port_) + "/pg_auto_failover?sslmode=disable"});
    run(args, "pg_autoctl create postgres");
    for (const char* setting : kKeeperTimeouts) {
      if (!short_health_checks_) break;
      const std::string s(setting);
      run({"config", "set", "--pgdata", data(name), s.substr(0, s.find('=')), s.substr(s.find('=') + 1)}, "pg_autoctl config set");
    }
    start_service(name);
    const char* first = i == 0 ? "single" : "secondary";
    if (!reaches(i, first, std::chrono::seconds(60)))
      throw std::runtime_error("pg_auto_failover: node" + std::to_string(i) + " never reached " + first + ": " + state_of(i));
  }
  // `pg_autoctl run` of one node, in a process group of its own (a machine to lose at once).
  void start_service(const std::string& name) {
    const pid_t pid = spawn_program(autoctl({"run", "--pgdata", data(name)}), dir_ + "/" + name + ".log", as_postgres_, true);
    groups_.push_back(pid);
    std::ofstream(dir_ + "/groups", std::ios::app) << pid << "\n";  // for the watchdog
  }
  static void wait_until_connects(const std::string& url) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      PGconn* c = PQconnectdb(url.c_str());
      const bool ok = PQstatus(c) == CONNECTION_OK;
      PQfinish(c);
      if (ok) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    throw std::runtime_error("pg_auto_failover: nothing accepts connections at " + url);
  }
  // The monitor's view of node `i` (column reportedstate or goalstate of pgautofailover.node).
  std::string node_state(int i, const char* column) const {
    PGconn* c = PQconnectdb(monitor_url().c_str());
    std::string out;
    if (PQstatus(c) == CONNECTION_OK) {
      const std::string sql = std::string("SELECT ") + column + " FROM pgautofailover.node WHERE nodename = 'node" + std::to_string(i) + "'";
      PGresult* r = PQexec(c, sql.c_str());
      if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) out = PQgetvalue(r, 0, 0);
      PQclear(r);
    }
    PQfinish(c);
    return out;
  }
  bool short_health_checks_;
  std::string dir_;
  bool as_postgres_ = false;
  int monitor_port_ = 0;
  std::array<int, kNodes> ports_{};
  std::vector<pid_t> groups_;  // monitor, node0, node1
  std::unique_ptr<Watchdog> watchdog_;
};

}  // namespace oee::storage::testing
