#pragma once
// A throwaway PostgreSQL 15 cluster for tests: initdb into a temporary directory, a server on a
// unix socket inside it (no TCP port to collide on), stopped and removed at the end, also when a
// test fails. Runs as the `postgres` OS user when the tests run as root (initdb refuses root).
// fsync is off: these tests kill processes, never the machine, so the OS page cache survives.
#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <libpq-fe.h>

namespace oee::storage::testing {

inline constexpr const char* kPostgresBin = "/usr/lib/postgresql/15/bin";

// Starts a program, as the postgres OS user if `as_postgres`, its output into the file `out`, in a
// session and process group of its own if `own_group` (to be killed with its children); its pid.
inline pid_t spawn_program(std::vector<std::string> args, const std::string& out, bool as_postgres, bool own_group) {
  if (as_postgres) args.insert(args.begin(), {"/usr/sbin/runuser", "-u", "postgres", "--"});
  std::fflush(nullptr);  // the child must not write our buffered output a second time
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    if (own_group) ::setsid();
    const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::chdir("/");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

// Runs a program as spawn_program starts it and waits for it; throws with its output on failure.
inline void run_program(std::vector<std::string> args, const std::string& out, bool as_postgres, const char* what) {
  const pid_t pid = spawn_program(std::move(args), out, as_postgres, false);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string text;
    if (std::FILE* f = std::fopen(out.c_str(), "r")) {
      char buf[4096];
      std::size_t n;
      while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
      std::fclose(f);
    }
    throw std::runtime_error(std::string(what) + " failed: " + text);
  }
}

// Server settings of the tests: no fsync (no test cuts the power), a small server.
inline constexpr const char* kTestServerSettings =
    "-c fsync=off -c full_page_writes=off -c max_connections=60 -c shared_buffers=64MB";

// Runs SQL on a new connection to `url`; throws with the server's message.
inline void exec_sql(const std::string& url, const std::string& sql) {
  PGconn* c = PQconnectdb(url.c_str());
  std::string error;
  if (PQstatus(c) != CONNECTION_OK) {
    error = PQerrorMessage(c);
  } else {
    PGresult* r = PQexec(c, sql.c_str());
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) error = PQresultErrorMessage(r);
    PQclear(r);
  }
  PQfinish(c);
  if (!error.empty()) throw std::runtime_error("postgres test cluster: " + sql + ": " + error);
}

// The first column of the first row of a query, as an integer; throws with the server's message.
inline std::int64_t scalar_of(const std::string& url, const std::string& sql) {
  PGconn* c = PQconnectdb(url.c_str());
  std::int64_t out = -1;
  std::string error;
  if (PQstatus(c) != CONNECTION_OK) {
    error = PQerrorMessage(c);
  } else {
    PGresult* r = PQexec(c, sql.c_str());
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0)
      out = std::stoll(PQgetvalue(r, 0, 0));
    else
      error = PQresultErrorMessage(r);
    PQclear(r);
  }
  PQfinish(c);
  if (!error.empty()) throw std::runtime_error("postgres test cluster: " + sql + ": " + error);
  return out;
}

// A temporary directory for servers of the tests, "<tmp>/<prefix>XXXXXX", mode 0700, owned by the
// postgres OS user when the tests run as root (initdb and pg_autoctl refuse root). `as_postgres`
// says whether programs must run as that user.
inline std::string make_server_dir(const char* prefix, bool& as_postgres) {
  std::string tmpl = (std::filesystem::temp_directory_path() / (std::string(prefix) + "XXXXXX")).string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  as_postgres = false;
  if (::geteuid() == 0) {
    const passwd* pw = ::getpwnam("postgres");
    if (!pw) throw std::runtime_error("running as root but there is no 'postgres' user (scripts/setup.sh installs postgresql-15)");
    if (::chown(tmpl.c_str(), pw->pw_uid, pw->pw_gid) != 0) throw std::runtime_error("chown " + tmpl + " failed");
    as_postgres = true;
  }
  ::chmod(tmpl.c_str(), 0700);
  return tmpl;
}

// A child that outlives a crashed test process: when every copy of the pipe's write end is gone
// (the test process and its forks exited, however they died), it runs `cleanup` (stops servers,
// removes their directory). Held as a member, it is destroyed after its owner's destructor has
// cleaned up, and then finds nothing left to do.
class Watchdog {
 public:
  explicit Watchdog(const std::function<void()>& cleanup) {
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
    std::fflush(nullptr);
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::close(fds[1]);
      char c;
      while (::read(fds[0], &c, 1) > 0) {
      }
      cleanup();
      ::_exit(0);
    }
    ::close(fds[0]);
    ::fcntl(fds[1], F_SETFD, FD_CLOEXEC);  // programs we exec do not keep it open
    fd_ = fds[1];
  }
  ~Watchdog() {
    ::close(fd_);
    ::waitpid(pid_, nullptr, 0);
  }
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

 private:
  int fd_ = -1;
  pid_t pid_ = -1;
};

// A cluster started from a base backup (pg_basebackup) in archive recovery: its settings carry the
// restore_command and the recovery target.
struct FromBaseBackup {
  std::string base_backup;
};

class PostgresCluster {
 public:
  // `settings` may name the cluster's directory as {dir} (e.g. in an archive_command).
  explicit PostgresCluster(std::string settings = kTestServerSettings) : settings_(std::move(settings)) {
    make_dir();
    run({std::string(kPostgresBin) + "/initdb", "-D", data(), "-U", "postgres", "--auth=trust", "-E", "UTF8",
         "--no-sync", "--locale=C"},
        "initdb");
    start();
  }
  PostgresCluster(const FromBaseBackup& from, std::string settings) : settings_(std::move(settings)) {
    make_dir();
    run({"/bin/cp", "-a", from.base_backup, data()}, "copy the base backup");
    run({"/usr/bin/touch", data() + "/recovery.signal"}, "recovery.signal");
    start();
  }
  ~PostgresCluster() {
    try {
      stop();
    } catch (...) {
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  PostgresCluster(const PostgresCluster&) = delete;
  PostgresCluster& operator=(const PostgresCluster&) = delete;

 private:
  void make_dir() {
    dir_ = make_server_dir("oee-pg-", as_postgres_);
    watchdog_ = std::make_unique<Watchdog>([this] {
      if (std::filesystem::exists(data() + "/postmaster.pid")) {
        try {
          run({std::string(kPostgresBin) + "/pg_ctl", "-D", data(), "-w", "-m", "immediate", "stop"}, "pg_ctl stop");
        } catch (...) {
        }
      }
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    });
  }

 public:
  void start() {
    std::string settings = settings_;
    for (auto at = settings.find("{dir}"); at != std::string::npos; at = settings.find("{dir}", at)) settings.replace(at, 5, dir_);
    run({std::string(kPostgresBin) + "/pg_ctl", "-D", data(), "-l", dir_ + "/server.log", "-w", "-t", "60", "-o",
         "-c listen_addresses='' -k " + dir_ + " " + settings,
         "start"},
        "pg_ctl start");
    running_ = true;
  }
  // mode: fast (clean) or immediate (like a crash: recovery from the WAL on the next start).
  void stop(const char* mode = "fast") {
    if (!running_) return;
    run({std::string(kPostgresBin) + "/pg_ctl", "-D", data(), "-w", "-m", mode, "stop"}, "pg_ctl stop");
    running_ = false;
  }
  bool running() const { return running_; }

  const std::string& dir() const { return dir_; }
  std::string url(const std::string& database = "postgres") const {
    return "postgresql:///" + database + "?host=" + dir_ + "&user=postgres";
  }
  // A new empty database; its URL.
  std::string create_database() {
    const std::string name = "t" + std::to_string(++databases_);
    exec("postgres", "CREATE DATABASE " + name);
    return url(name);
  }
  void exec(const std::string& database, const std::string& sql) { exec_sql(url(database), sql); }
  std::int64_t scalar(const std::string& url_, const std::string& sql) { return scalar_of(url_, sql); }

  // Runs a program (as the postgres user when root); throws with its output on failure.
  void run(std::vector<std::string> args, const char* what) const { run_program(std::move(args), dir_ + "/cmd.out", as_postgres_, what); }

 private:
  std::string data() const { return dir_ + "/data"; }
  std::string settings_;
  std::string dir_;
  bool as_postgres_ = false;
  std::unique_ptr<Watchdog> watchdog_;
  bool running_ = false;
  int databases_ = 0;
};

// One cluster per test process, started on first use and stopped at exit.
inline PostgresCluster& shared_postgres() {
  static std::unique_ptr<PostgresCluster> cluster = std::make_unique<PostgresCluster>();
  return *cluster;
}

}  // namespace oee::storage::testing
