#include "postgres_connection.h"

#include <algorithm>
#include <charconv>

namespace oee::storage::pg {

std::int64_t Result::int_at(int row, int col) const {
  const char* v = PQgetvalue(r_.get(), row, col);
  std::int64_t out = 0;
  const std::size_t n = static_cast<std::size_t>(PQgetlength(r_.get(), row, col));
  if (PQfformat(r_.get(), col) == 1) {  // big-endian two's complement of 1 (boolean), 2, 4 or 8 bytes
    std::uint64_t u = n > 0 && (static_cast<unsigned char>(v[0]) & 0x80) && n > 1 ? ~std::uint64_t{0} : 0;
    for (std::size_t i = 0; i < n; ++i) u = (u << 8) | static_cast<unsigned char>(v[i]);
    return static_cast<std::int64_t>(u);
  }
  if (n == 1 && (v[0] == 't' || v[0] == 'f')) return v[0] == 't';  // booleans
  std::from_chars(v, v + n, out);
  return out;
}

std::int64_t Result::affected() const {
  const char* n = PQcmdTuples(r_.get());
  return n && *n ? std::stoll(n) : 0;
}

Params& Params::add_array(const std::vector<std::int64_t>& v) {
  std::string s = "{";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(v[i]);
  }
  s += '}';
  values_.push_back(std::move(s));
  nulls_.push_back(false);
  return *this;
}

std::vector<const char*> Params::pointers() const {
  std::vector<const char*> out;
  out.reserve(values_.size());
  for (std::size_t i = 0; i < values_.size(); ++i) out.push_back(nulls_[i] ? nullptr : values_[i].c_str());
  return out;
}

Connection::Connection(const std::string& conninfo) {
  conn_ = PQconnectdb(conninfo.c_str());
  if (PQstatus(conn_) != CONNECTION_OK) {
    // The destructor will not run: free the failed connection here.
    std::string msg = std::string("postgresql: cannot connect: ") + (conn_ ? PQerrorMessage(conn_) : "out of memory");
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    PQfinish(conn_);
    conn_ = nullptr;
    throw PgError(msg, true);
  }
  // Notices (e.g. "relation already exists, skipping") are not errors; keep them off stderr.
  PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
}

Connection::~Connection() {
  if (conn_) PQfinish(conn_);
}

void Connection::fail(const std::string& what) {
  std::string msg = what + ": " + (conn_ ? PQerrorMessage(conn_) : "out of memory");
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  throw PgError(msg, !conn_ || PQstatus(conn_) != CONNECTION_OK);
}

Result Connection::check(PGresult* r, const char* what) {
  Result out(r);
  const auto status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_COPY_IN) return out;
  std::string msg = std::string("postgresql: ") + what + ": " +
                    (r && *PQresultErrorMessage(r) ? PQresultErrorMessage(r) : PQerrorMessage(conn_));
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  // Lost: libpq says so, or the error has no SQLSTATE (raised by libpq itself: "server closed the
  // connection unexpectedly" leaves the status OK until the next call), or the server says it is
  // going away or not ready (class 08, 57P01-57P03).
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  const std::string_view code = state ? state : "";
  const bool lost = PQstatus(conn_) != CONNECTION_OK || code.empty() || code.starts_with("08") || code == "57P01" ||
                    code == "57P02" || code == "57P03";
  throw PgError(msg, lost, std::string(code));
}

void Connection::exec(const char* sql) { check(PQexec(conn_, sql), sql); }

Result Connection::query(const char* sql, const Params& params) {
  const auto p = params.pointers();
  return check(PQexecParams(conn_, sql, params.size(), nullptr, p.data(), nullptr, nullptr, 0), sql);
}

Result Connection::prepared(const char* name, const char* sql, const Params& params) { return run_prepared(name, sql, params, 0); }

Result Connection::prepared_binary(const char* name, const char* sql, const Params& params) {
  return run_prepared(name, sql, params, 1);
}

Result Connection::run_prepared(const char* name, const char* sql, const Params& params, int result_format) {
  if (std::find(prepared_.begin(), prepared_.end(), name) == prepared_.end()) {
    check(PQprepare(conn_, name, sql, params.size(), nullptr), sql);
    prepared_.emplace_back(name);
  }
  const auto p = params.pointers();
  return check(PQexecPrepared(conn_, name, params.size(), p.data(), nullptr, nullptr, result_format), sql);
}

void Connection::send_prepared(const char* name, const char* sql, const Params& params, bool binary_result) {
  if (std::find(prepared_.begin(), prepared_.end(), name) == prepared_.end()) {
    check(PQprepare(conn_, name, sql, params.size(), nullptr), sql);
    prepared_.emplace_back(name);
  }
  const auto p = params.pointers();
  if (PQsendQueryPrepared(conn_, name, params.size(), p.data(), nullptr, nullptr, binary_result ? 1 : 0) != 1)
    throw PgError(std::string("postgresql: ") + sql + ": " + PQerrorMessage(conn_), true);  // the session is unusable
}

Result Connection::receive(const char* what) {
  PGresult* first = PQgetResult(conn_);
  if (first == nullptr) throw PgError(std::string("postgresql: ") + what + ": no result: " + PQerrorMessage(conn_), true);
  while (PGresult* more = PQgetResult(conn_)) PQclear(more);  // the connection is idle again
  return check(first, what);
}

void Connection::copy_begin(const char* sql) { check(PQexec(conn_, sql), sql); }

void Connection::copy_data(std::string_view bytes) {
  if (PQputCopyData(conn_, bytes.data(), static_cast<int>(bytes.size())) != 1)
    throw PgError(std::string("postgresql: COPY data: ") + PQerrorMessage(conn_), true);
}

void Connection::copy_end() {
  if (PQputCopyEnd(conn_, nullptr) != 1) fail("postgresql: COPY end");
  while (PGresult* r = PQgetResult(conn_)) check(r, "COPY");
}

void append_copy_text(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      default: out += c;
    }
  }
}

Transaction::~Transaction() {
  if (!done_ && PQstatus(c_.handle()) == CONNECTION_OK) {
    PGresult* r = PQexec(c_.handle(), "ROLLBACK");
    PQclear(r);
  }
}

void Transaction::commit() {
  c_.exec("COMMIT");
  done_ = true;
}

}  // namespace oee::storage::pg
