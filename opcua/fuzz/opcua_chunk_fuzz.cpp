// libFuzzer target: the secure-channel chunk assembler fed a hostile stream. The input is a
// sequence of records (2-byte length, bytes); each record is one received UA-TCP message.
#include <cstdint>
#include <vector>

#include "oee/opcua/chunk_assembler.h"

using namespace oee::opcua;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ChunkAssembler assembler(ChunkLimits{8192, 64 * 1024, 16, 4});
  size_t offset = 0;
  while (offset + 2 <= size) {
    const size_t length = static_cast<size_t>(data[offset]) | static_cast<size_t>(data[offset + 1]) << 8;
    offset += 2;
    if (length > size - offset) break;
    std::vector<uint8_t> chunk(data + offset, data + offset + length);
    offset += length;
    try {
      auto message = assembler.add_chunk(chunk);
      if (message && !message->aborted && message->body.size() > 64 * 1024) __builtin_trap();  // limit broken
    } catch (const Error&) {
      return 0;  // a protocol violation closes the channel: nothing more is read from it
    }
    if (assembler.open_messages() > 4) __builtin_trap();
  }
  return 0;
}
