#pragma once
// The audit trail of every write (who, what, when, before and after) as a hash chain: each row's
// hash covers its fields and the previous row's hash, so changing, inserting or deleting a row in
// the middle breaks every later link, which `oee audit verify` finds. Cutting off the newest rows
// leaves a valid shorter chain, so after every append the chain's head (row count and last hash)
// is also written to an anchor file beside the database (auth.audit-head); verify compares the
// two. Whoever can rewrite both files consistently is not caught: ship the head elsewhere too.
#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "oee/core/time.h"

namespace oee::auth {

struct AuditEntry {
  std::int64_t id = 0;
  TimeMs ts = 0;
  std::string actor;   // user or token name
  std::string action;  // "reason.assign", "user.create", …
  std::string target;  // what was written (machine path and instant, user name, token id)
  std::string before;  // JSON, or empty
  std::string after;   // JSON, or empty
  std::string prev_hash, hash;
};

struct AuditVerification {
  bool ok = true;
  std::int64_t rows = 0;
  std::int64_t first_bad_id = 0;  // 0 when ok; the row after the last one for a cut-off tail
  std::int64_t anchored_rows = 0;  // rows the head anchor vouches for (0: no anchor yet)
  std::string problem;
};

class AuditChain {
 public:
  // `key`: the database's encryption key (as AccountsOptions::encryption_key), if it has one.
  explicit AuditChain(const std::string& sqlite_path, const std::array<unsigned char, 32>* key = nullptr);
  ~AuditChain();
  // Appends and commits one entry; returns its id.
  std::int64_t append(TimeMs ts, std::string_view actor, std::string_view action, std::string_view target,
                      std::string_view before, std::string_view after);
  // Newest first; `before_id` 0 = from the newest.
  std::vector<AuditEntry> entries(std::int64_t before_id, std::size_t limit);
  AuditVerification verify();
  // Rows written before pseudonyms whose actor or target is `name`: an erasure cannot change them
  // without breaking the chain, so it reports them (docs/security.md, "Privacy").
  std::int64_t rows_naming(std::string_view name);

  // The hash of an entry given the previous one's (hex SHA-256 over length-prefixed fields).
  static std::string entry_hash(const AuditEntry& e);
  // The head anchor file of a chain in `sqlite_path` (same directory, extension .audit-head).
  static std::string anchor_path(const std::string& sqlite_path);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace oee::auth
