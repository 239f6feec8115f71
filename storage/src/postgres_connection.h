#pragma once
// RAII over libpq: a connection, results, parameterised statements (text format, int64 and text
// parameters), COPY FROM STDIN. Every failure throws PgError with the server's message.
#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace oee::storage::pg {

class PgError : public std::runtime_error {
 public:
  PgError(const std::string& what, bool connection_lost, std::string sqlstate = {})
      : std::runtime_error(what), connection_lost_(connection_lost), sqlstate_(std::move(sqlstate)) {}
  // The connection is gone (server down, restarted, network): the caller may retry on a new one.
  bool connection_lost() const { return connection_lost_; }
  // The server's SQLSTATE ("23505": unique violation); empty when libpq raised the error itself.
  const std::string& sqlstate() const { return sqlstate_; }

 private:
  bool connection_lost_;
  std::string sqlstate_;
};

class Result {
 public:
  Result() = default;
  explicit Result(PGresult* r) : r_(r, &PQclear) {}
  int rows() const { return r_ ? PQntuples(r_.get()) : 0; }
  bool is_null(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
  std::int64_t int_at(int row, int col) const;  // integer or boolean column, text or binary format
  std::string text_at(int row, int col) const { return {PQgetvalue(r_.get(), row, col), static_cast<std::size_t>(PQgetlength(r_.get(), row, col))}; }
  std::string_view view_at(int row, int col) const { return {PQgetvalue(r_.get(), row, col), static_cast<std::size_t>(PQgetlength(r_.get(), row, col))}; }
  std::int64_t affected() const;

 private:
  std::shared_ptr<PGresult> r_;
};

// Parameters of one statement, kept as text (libpq's text format).
class Params {
 public:
  Params& add(std::int64_t v) { values_.push_back(std::to_string(v)); nulls_.push_back(false); return *this; }
  Params& add(std::string_view v) { values_.emplace_back(v); nulls_.push_back(false); return *this; }
  Params& add(const char* v) { return add(std::string_view(v)); }
  Params& add(const std::string& v) { return add(std::string_view(v)); }
  Params& null() { values_.emplace_back(); nulls_.push_back(true); return *this; }
  // A PostgreSQL array literal of integers ("{1,2,3}").
  Params& add_array(const std::vector<std::int64_t>& v);
  int size() const { return static_cast<int>(values_.size()); }
  std::vector<const char*> pointers() const;

 private:
  std::vector<std::string> values_;
  std::vector<bool> nulls_;
};

class Connection {
 public:
  // `conninfo`: a libpq connection URI or key=value string.
  explicit Connection(const std::string& conninfo);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  PGconn* handle() { return conn_; }
  bool ok() const { return conn_ && PQstatus(conn_) == CONNECTION_OK; }
  // Several statements, no parameters.
  void exec(const char* sql);
  void exec(const std::string& sql) { exec(sql.c_str()); }
  Result query(const char* sql, const Params& params = {});
  Result query(const std::string& sql, const Params& params = {}) { return query(sql.c_str(), params); }
  // Named prepared statement, prepared on first use on this connection.
  Result prepared(const char* name, const char* sql, const Params& params);
  // The same with the result in binary format: integers travel as their bytes, which spares the
  // server their text and the client the parsing (many-row reads of events). Only for results whose
  // columns are integers, booleans or text (Result reads nothing else in binary).
  Result prepared_binary(const char* name, const char* sql, const Params& params);

  // A prepared statement sent without waiting for its result, which `receive` then returns: the
  // server runs it while this thread does other work (or another connection's statement). One at a
  // time per connection; nothing else may run on the connection in between.
  void send_prepared(const char* name, const char* sql, const Params& params, bool binary_result);
  Result receive(const char* what);

  // COPY ... FROM STDIN: the statement, then data in the COPY text format, then the end.
  void copy_begin(const char* sql);
  void copy_data(std::string_view bytes);
  void copy_end();

 private:
  [[noreturn]] void fail(const std::string& what);
  Result run_prepared(const char* name, const char* sql, const Params& params, int result_format);
  Result check(PGresult* r, const char* what);
  PGconn* conn_ = nullptr;
  std::vector<std::string> prepared_;
};

// Escapes text for the COPY text format (backslash, tab, newline, carriage return).
void append_copy_text(std::string& out, std::string_view text);

class Transaction {
 public:
  explicit Transaction(Connection& c, const char* begin = "BEGIN") : c_(c) { c_.exec(begin); }
  ~Transaction();
  void commit();

 private:
  Connection& c_;
  bool done_ = false;
};

}  // namespace oee::storage::pg
