#include "oee/auth/audit_chain.h"

#include "oee/auth/accounts.h"
#include "sqlite_db.h"

namespace oee::auth {

namespace sql = storage::sqlite;

namespace {
constexpr const char* kGenesisHash = "0000000000000000000000000000000000000000000000000000000000000000";

void field(std::string& out, std::string_view value) {
  // Length-prefixed, so no choice of field contents can make two different rows hash alike.
  out += std::to_string(value.size());
  out += ':';
  out += value;
  out += '\n';
}

AuditEntry row(sql::Statement& q) {
  return {q.int_at(0), q.int_at(1), q.text_at(2), q.text_at(3), q.text_at(4), q.text_at(5), q.text_at(6), q.text_at(7), q.text_at(8)};
}
constexpr const char* kColumns = "id,ts,actor,action,target,before,after,prev_hash,hash";
}  // namespace

struct AuditChain::Impl {
  explicit Impl(const std::string& path) : db(path) {
    db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
    db.exec(
        "CREATE TABLE IF NOT EXISTS audit(id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, actor TEXT NOT NULL,"
        " action TEXT NOT NULL, target TEXT NOT NULL, before TEXT NOT NULL, after TEXT NOT NULL,"
        " prev_hash TEXT NOT NULL, hash TEXT NOT NULL);");
  }
  sql::Database db;
  std::mutex mutex;
};

AuditChain::AuditChain(const std::string& sqlite_path) : impl_(std::make_unique<Impl>(sqlite_path)) {}
AuditChain::~AuditChain() = default;

std::string AuditChain::entry_hash(const AuditEntry& e) {
  std::string text;
  field(text, e.prev_hash);
  field(text, std::to_string(e.id));
  field(text, std::to_string(e.ts));
  field(text, e.actor);
  field(text, e.action);
  field(text, e.target);
  field(text, e.before);
  field(text, e.after);
  return sha256_hex(text);
}

std::int64_t AuditChain::append(TimeMs ts, std::string_view actor, std::string_view action, std::string_view target,
                                std::string_view before, std::string_view after) {
  std::lock_guard lock(impl_->mutex);
  sql::Transaction tx(impl_->db);
  AuditEntry e{0, ts, std::string(actor), std::string(action), std::string(target), std::string(before), std::string(after), kGenesisHash, {}};
  sql::Statement last(impl_->db, "SELECT id,hash FROM audit ORDER BY id DESC LIMIT 1");
  if (last.step()) {
    e.id = last.int_at(0) + 1;
    e.prev_hash = last.text_at(1);
  } else {
    e.id = 1;
  }
  last.reset();
  e.hash = entry_hash(e);
  sql::Statement(impl_->db, "INSERT INTO audit VALUES(?,?,?,?,?,?,?,?,?)")
      .bind(1, e.id).bind(2, e.ts).bind(3, e.actor).bind(4, e.action).bind(5, e.target).bind(6, e.before)
      .bind(7, e.after).bind(8, e.prev_hash).bind(9, e.hash).run();
  tx.commit();
  return e.id;
}

std::vector<AuditEntry> AuditChain::entries(std::int64_t before_id, std::size_t limit) {
  std::lock_guard lock(impl_->mutex);
  sql::Statement q(impl_->db, std::string("SELECT ") + kColumns + " FROM audit WHERE id<? ORDER BY id DESC LIMIT ?");
  q.bind(1, before_id > 0 ? before_id : INT64_MAX).bind(2, static_cast<std::int64_t>(limit));
  std::vector<AuditEntry> out;
  while (q.step()) out.push_back(row(q));
  return out;
}

AuditVerification AuditChain::verify() {
  std::lock_guard lock(impl_->mutex);
  AuditVerification v;
  sql::Statement q(impl_->db, std::string("SELECT ") + kColumns + " FROM audit ORDER BY id");
  std::string prev = kGenesisHash;
  std::int64_t expected_id = 1;
  while (q.step()) {
    const AuditEntry e = row(q);
    ++v.rows;
    std::string problem;
    if (e.id != expected_id) problem = "row " + std::to_string(expected_id) + " is missing";
    else if (e.prev_hash != prev) problem = "row " + std::to_string(e.id) + " does not link to the row before it";
    else if (entry_hash(e) != e.hash) problem = "row " + std::to_string(e.id) + " does not match its hash (changed after it was written)";
    if (!problem.empty()) {
      v.ok = false;
      v.first_bad_id = e.id;
      v.problem = problem;
      return v;
    }
    prev = e.hash;
    expected_id = e.id + 1;
  }
  return v;
}

}  // namespace oee::auth
