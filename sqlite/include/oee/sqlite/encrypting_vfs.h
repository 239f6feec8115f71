#pragma once
// An encrypting SQLite VFS over the default (unix) one: every page of the main database and of its
// WAL is sealed with libsodium's XChaCha20-Poly1305 (a random nonce per write, nonce and tag in
// the page's 40 reserved bytes, the page number as additional data). The first 100 bytes of page 1
// (SQLite's file header: page size, reserved bytes) stay in plain text so that SQLite can open the
// file; they are authenticated with page 1. WAL frame headers stay plain (SQLite checksums what it
// sees, the plain page). Rollback-journal pages and temporary files are refused, never written in
// plain text: encrypted databases run in WAL mode with temp_store=MEMORY. docs/security.md.
#include <array>
#include <string>

namespace oee::sqlite {

using PageKey = std::array<unsigned char, 32>;

// Bytes each page reserves for the nonce and the tag; a database whose header reserves this many
// is taken as encrypted.
inline constexpr int kEncryptedReserveBytes = 40;

// The name of a VFS that encrypts with `key` (registered once per distinct key, never default).
const char* encrypting_vfs(const PageKey& key);

// Whether `key` opens the database at `path`: its page 1, or, while that is not written yet, the
// first frame of its WAL (true for a new database). Checked before SQLite opens the file: WAL
// recovery with a wrong key would see no valid frame, and SQLite would then drop the WAL's
// committed frames when the connection closes.
bool key_opens(const std::string& path, const PageKey& key);

// The last page this thread failed to authenticate ("wrong encryption key or corrupted page N of
// FILE"), cleared by the call; empty when none.
std::string take_decrypt_failure();

}  // namespace oee::sqlite
