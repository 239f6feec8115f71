// Secure-channel chunks: joining, aborts, limits and sequence numbers.
#include <gtest/gtest.h>

#include "oee/opcua/binary_encoding.h"
#include "oee/opcua/chunk_assembler.h"

namespace oee::opcua {
namespace {

std::vector<uint8_t> chunk(char type, uint32_t sequence, uint32_t request, const std::string& body) {
  std::vector<uint8_t> out;
  BinaryWriter w(out);
  w.bytes("MSG", 3);
  w.u8(static_cast<uint8_t>(type));
  w.u32(0);
  w.u32(7);  // channel
  w.u32(1);  // token
  w.u32(sequence);
  w.u32(request);
  w.bytes(body.data(), body.size());
  const auto size = static_cast<uint32_t>(out.size());
  for (int i = 0; i < 4; ++i) out[4 + i] = static_cast<uint8_t>(size >> (8 * i));
  return out;
}

TEST(ChunkAssembler, JoinsIntermediateChunksPerRequest) {
  ChunkAssembler a;
  auto c1 = chunk('C', 1, 10, "hel");
  auto c2 = chunk('C', 2, 11, "oth");
  auto c3 = chunk('F', 3, 10, "lo");
  auto c4 = chunk('F', 4, 11, "er");
  EXPECT_FALSE(a.add_chunk(c1));
  EXPECT_FALSE(a.add_chunk(c2));
  auto m1 = a.add_chunk(c3);
  ASSERT_TRUE(m1);
  EXPECT_EQ(std::string(m1->body.begin(), m1->body.end()), "hello");
  EXPECT_EQ(m1->request_id, 10u);
  EXPECT_EQ(m1->chunk_count, 2u);
  auto m2 = a.add_chunk(c4);
  ASSERT_TRUE(m2);
  EXPECT_EQ(std::string(m2->body.begin(), m2->body.end()), "other");
  EXPECT_EQ(a.open_messages(), 0u);
}

TEST(ChunkAssembler, AbortChunkFailsOnlyItsRequest) {
  ChunkAssembler a;
  auto c1 = chunk('C', 1, 10, "part");
  std::vector<uint8_t> reason;
  BinaryWriter w(reason);
  w.u32(0x80B90000u);
  w.string("too big");
  auto abort = chunk('A', 2, 10, std::string(reason.begin(), reason.end()));
  EXPECT_FALSE(a.add_chunk(c1));
  auto m = a.add_chunk(abort);
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->aborted);
  EXPECT_EQ(status_name(m->abort_status), "BadResponseTooLarge");
  EXPECT_EQ(m->abort_reason, "too big");
  auto next = chunk('F', 3, 12, "ok");
  EXPECT_TRUE(a.add_chunk(next));
}

TEST(ChunkAssembler, EnforcesNegotiatedLimits) {
  ChunkAssembler a(ChunkLimits{8192, 10, 3, 16});
  auto c1 = chunk('C', 1, 1, "123456");
  auto c2 = chunk('F', 2, 1, "78901");
  EXPECT_FALSE(a.add_chunk(c1));
  try {
    a.add_chunk(c2);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(status_name(e.status()), "BadTcpMessageTooLarge");
  }
  ChunkAssembler b(ChunkLimits{8192, 0, 2, 16});
  auto d1 = chunk('C', 1, 1, "a");
  auto d2 = chunk('C', 2, 1, "b");
  auto d3 = chunk('F', 3, 1, "c");
  b.add_chunk(d1);
  b.add_chunk(d2);
  EXPECT_THROW(b.add_chunk(d3), Error);
}

TEST(ChunkAssembler, RejectsSequenceGapsAndMalformedHeaders) {
  ChunkAssembler a;
  auto c1 = chunk('F', 5, 1, "x");
  auto c2 = chunk('F', 7, 2, "y");
  EXPECT_TRUE(a.add_chunk(c1));
  try {
    a.add_chunk(c2);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(status_name(e.status()), "BadSequenceNumberInvalid");
  }
  ChunkAssembler b;
  auto bad_size = chunk('F', 1, 1, "x");
  bad_size[4] = 0xFF;
  EXPECT_THROW(b.add_chunk(bad_size), Error);
  auto bad_type = chunk('X', 1, 1, "x");
  EXPECT_THROW(b.add_chunk(bad_type), Error);
}

TEST(ChunkAssembler, AcceptsTheSequenceNumberWrap) {
  ChunkAssembler a;
  auto c1 = chunk('F', 4294967000u, 1, "x");
  auto c2 = chunk('F', 1, 2, "y");
  EXPECT_TRUE(a.add_chunk(c1));
  EXPECT_TRUE(a.add_chunk(c2));
}

}  // namespace
}  // namespace oee::opcua
