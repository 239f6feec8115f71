// The durable queue with a key: records come back, nothing is plain on disk, torn tails still
// recover, a record tampered with (its CRC made to match, as an attacker would) is reported and
// never delivered, and a wrong key or a queue of the other format is refused with nothing cut.
#include "temp_dir.h"
#include "oee/edge/durable_queue.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using oee::edge::DurableQueue;
using oee::edge::DurableQueueOptions;
using oee::edge::QueueRecord;

namespace {

struct TempDir : oee::edge::testing::TempDir {
  TempDir() : oee::edge::testing::TempDir("oee-queue-enc-") {}
};

std::array<unsigned char, 32> key_of(unsigned char fill) {
  std::array<unsigned char, 32> k;
  k.fill(fill);
  return k;
}

DurableQueueOptions sealed(const fs::path& dir, unsigned char key = 9) {
  DurableQueueOptions o;
  o.dir = dir.string();
  o.encryption_key = key_of(key);
  return o;
}

std::string payload_for(std::uint64_t i) { return "Press-Line-7 count " + std::to_string(i); }

void write_records(DurableQueueOptions o, std::uint64_t count) {
  DurableQueue q(std::move(o));
  for (std::uint64_t i = 0; i < count; ++i) q.append(payload_for(i));
  q.flush();
}

std::vector<QueueRecord> read_all(DurableQueue& q) {
  std::vector<QueueRecord> out;
  std::uint64_t from = 0;
  while (q.read(from, 1000, 1 << 20, out) > 0) from = out.back().id + 1;
  return out;
}

fs::path only_segment(const fs::path& dir) {
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ".log") return e.path();
  return {};
}

std::string file_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string error_of(auto&& action) {
  try {
    action();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "no error";
}

TEST(DurableQueueEncryption, SealedRecordsComeBackAndNothingIsPlainOnDisk) {
  TempDir dir;
  write_records(sealed(dir.path), 200);
  EXPECT_EQ(file_bytes(only_segment(dir.path)).find("Press-Line-7"), std::string::npos);
  DurableQueue q(sealed(dir.path));
  const auto all = read_all(q);
  ASSERT_EQ(all.size(), 200u);
  for (std::uint64_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].payload, payload_for(i));
}

TEST(DurableQueueEncryption, ATornSealedTailStillRecoversToTheLastWholeRecord) {
  TempDir dir;
  write_records(sealed(dir.path), 100);
  const auto seg = only_segment(dir.path);
  fs::resize_file(seg, fs::file_size(seg) - 5);
  DurableQueue q(sealed(dir.path));
  const auto all = read_all(q);
  ASSERT_EQ(all.size(), 99u);
  EXPECT_EQ(all.back().payload, payload_for(98));
}

// Flips a byte of record `index`'s sealed payload and rewrites its CRC32C: only the AEAD tag can
// tell then.
void tamper_record(const fs::path& seg, int index) {
  std::string bytes = file_bytes(seg);
  std::size_t at = 8;  // after the segment magic
  for (int i = 0; i < index; ++i) {
    std::uint32_t length = 0;
    std::memcpy(&length, bytes.data() + at, 4);
    at += 24 + length;
  }
  std::uint32_t length = 0;
  std::memcpy(&length, bytes.data() + at, 4);
  bytes[at + 24 + 30] = static_cast<char>(bytes[at + 24 + 30] ^ 0x20);
  std::uint32_t crc = oee::edge::crc32c(0, &length, 4);
  crc = oee::edge::crc32c(crc, bytes.data() + at + 8, 16);
  crc = oee::edge::crc32c(crc, bytes.data() + at + 24, length);
  std::memcpy(bytes.data() + at + 4, &crc, 4);
  std::ofstream(seg, std::ios::binary | std::ios::trunc) << bytes;
}

TEST(DurableQueueEncryption, ATamperedRecordWithAMatchingCrcIsNeverDelivered) {
  TempDir dir;
  write_records(sealed(dir.path), 100);
  tamper_record(only_segment(dir.path), 50);
  DurableQueue q(sealed(dir.path));
  const auto all = read_all(q);
  ASSERT_EQ(all.size(), 50u);  // up to the tampered one; the rest of its segment is skipped
  for (std::uint64_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].payload, payload_for(i));
}

TEST(DurableQueueEncryption, AWrongKeyIsRefusedAndNothingIsCut) {
  TempDir dir;
  write_records(sealed(dir.path), 100);
  const auto size = fs::file_size(only_segment(dir.path));
  EXPECT_NE(error_of([&] { DurableQueue q(sealed(dir.path, 10)); }).find("wrong encryption key"), std::string::npos);
  EXPECT_EQ(fs::file_size(only_segment(dir.path)), size);
  DurableQueue q(sealed(dir.path));
  EXPECT_EQ(read_all(q).size(), 100u);
}

TEST(DurableQueueEncryption, AQueueOfTheOtherFormatIsRefusedUnlessEmpty) {
  TempDir plain_dir, sealed_dir;
  DurableQueueOptions plain;
  plain.dir = plain_dir.path.string();
  write_records(plain, 10);
  EXPECT_NE(error_of([&] { DurableQueue q(sealed(plain_dir.path)); }).find("written without an encryption key"),
            std::string::npos);
  write_records(sealed(sealed_dir.path), 10);
  plain.dir = sealed_dir.path.string();
  EXPECT_NE(error_of([&] { DurableQueue q(plain); }).find("is encrypted: give its key"), std::string::npos);

  // A drained plain queue takes the key: what comes next is sealed.
  plain.dir = plain_dir.path.string();
  {
    DurableQueue q(plain);
    q.ack_until(q.next_id());
  }
  write_records(sealed(plain_dir.path), 5);
  EXPECT_EQ(file_bytes(only_segment(plain_dir.path)).find("Press-Line-7"), std::string::npos);
  DurableQueue q(sealed(plain_dir.path));
  EXPECT_EQ(read_all(q).size(), 5u);
}

}  // namespace
