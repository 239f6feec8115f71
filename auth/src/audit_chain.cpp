#include "oee/auth/audit_chain.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>

#include "oee/auth/accounts.h"
#include "oee/sqlite/sqlite_db.h"

namespace oee::auth {

namespace sql = ::oee::sqlite;

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

constexpr std::string_view kAnchorMagic = "oee-audit-head v1";
struct Head {
  std::int64_t id = 0;
  std::string hash;
};

// Replaces the anchor file atomically (write, fsync, rename): a crash leaves the old or the new.
bool write_anchor(const std::filesystem::path& path, const Head& head) {
  const std::string text = std::string(kAnchorMagic) + "\n" + std::to_string(head.id) + " " + head.hash + "\n";
  const std::string temporary = path.string() + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!written || std::rename(temporary.c_str(), path.c_str()) != 0) return false;
  const int dir = ::open(path.parent_path().empty() ? "." : path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
  return true;
}

// nullopt when the file is missing; a head with id -1 when it is there but unreadable.
std::optional<Head> read_anchor(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::string magic;
  Head head;
  if (!std::getline(in, magic) || magic != kAnchorMagic || !(in >> head.id >> head.hash) || head.id < 1 || head.hash.size() != 64)
    return Head{-1, {}};
  return head;
}
}  // namespace

std::string AuditChain::anchor_path(const std::string& sqlite_path) {
  return std::filesystem::path(sqlite_path).replace_extension(".audit-head").string();
}

struct AuditChain::Impl {
  Impl(const std::string& path, const std::array<unsigned char, 32>* key) : db(path, false, key) {
    db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
    db.exec(
        "CREATE TABLE IF NOT EXISTS audit(id INTEGER PRIMARY KEY, ts INTEGER NOT NULL, actor TEXT NOT NULL,"
        " action TEXT NOT NULL, target TEXT NOT NULL, before TEXT NOT NULL, after TEXT NOT NULL,"
        " prev_hash TEXT NOT NULL, hash TEXT NOT NULL);"
        // 'anchored': the head anchor file has been written, so its absence means it was removed.
        "CREATE TABLE IF NOT EXISTS audit_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);");
  }
  sql::Database db;
  std::mutex mutex;
  std::filesystem::path anchor;
};

AuditChain::AuditChain(const std::string& sqlite_path, const std::array<unsigned char, 32>* key)
    : impl_(std::make_unique<Impl>(sqlite_path, key)) {
  impl_->anchor = anchor_path(sqlite_path);
}
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
  sql::Statement(impl_->db, "INSERT OR IGNORE INTO audit_meta VALUES('anchored','1')").run();
  tx.commit();
  // After the commit: a crash in between leaves the anchor one row behind, which verify accepts
  // (the rows after it are covered by their links). Best effort: the next append writes it again.
  write_anchor(impl_->anchor, {e.id, e.hash});
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

std::int64_t AuditChain::rows_naming(std::string_view name) {
  std::lock_guard lock(impl_->mutex);
  sql::Statement q(impl_->db, "SELECT count(*) FROM audit WHERE actor=?1 OR target=?1");
  q.bind(1, name).step();
  return q.int_at(0);
}

AuditVerification AuditChain::verify() {
  std::lock_guard lock(impl_->mutex);
  AuditVerification v;
  sql::Statement q(impl_->db, std::string("SELECT ") + kColumns + " FROM audit ORDER BY id");
  const std::optional<Head> anchor = read_anchor(impl_->anchor);
  std::string anchored_hash;  // the chain's hash of the anchor's row
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
    if (anchor && e.id == anchor->id) anchored_hash = e.hash;
  }
  // The tail: the anchor (written after every append) names the newest row the chain had.
  const std::int64_t after_last = expected_id;
  auto broken = [&](std::string problem, std::int64_t bad_id) {
    v.ok = false;
    v.first_bad_id = bad_id;
    v.problem = std::move(problem);
    return v;
  };
  const std::string name = impl_->anchor.filename().string();
  if (!anchor) {
    sql::Statement meta(impl_->db, "SELECT 1 FROM audit_meta WHERE key='anchored'");
    if (meta.step()) return broken("the head anchor " + name + " is missing, so a cut-off tail cannot be ruled out", after_last);
    return v;  // written before anchors existed: the first append writes one
  }
  if (anchor->id < 0) return broken("the head anchor " + name + " is unreadable", after_last);
  if (anchor->id >= after_last)
    return broken("rows " + std::to_string(after_last) + " to " + std::to_string(anchor->id) +
                  " are missing: the newest rows were cut off (the head anchor " + name + " records " +
                  std::to_string(anchor->id) + " rows)", after_last);
  if (anchored_hash != anchor->hash)
    return broken("row " + std::to_string(anchor->id) + " is not the row the head anchor " + name +
                  " recorded: the newest rows were replaced", anchor->id);
  v.anchored_rows = anchor->id;
  return v;
}

}  // namespace oee::auth
