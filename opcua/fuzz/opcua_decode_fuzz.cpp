// libFuzzer target: the OPC UA Binary decoder on hostile bytes. The first byte picks what to
// decode; anything that decodes must re-encode and decode to the same bytes.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "oee/opcua/binary_encoding.h"
#include "service_messages.h"

using namespace oee::opcua;

namespace {

template <class Decode, class Encode>
void round_trip(const uint8_t* data, size_t size, Decode decode, Encode encode) {
  BinaryReader r(data, size);
  auto value = decode(r);
  std::vector<uint8_t> once;
  BinaryWriter w1(once);
  encode(w1, value);
  BinaryReader again(once);
  auto value2 = decode(again);
  std::vector<uint8_t> twice;
  BinaryWriter w2(twice);
  encode(w2, value2);
  if (once != twice) std::abort();  // encoding is not stable: a decoder/encoder mismatch
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t selector = data[0] % 8;
  ++data;
  --size;
  try {
    switch (selector) {
      case 0:
        round_trip(data, size, [](BinaryReader& r) { return r.variant(); },
                   [](BinaryWriter& w, const Variant& v) { w.variant(v); });
        break;
      case 1:
        round_trip(data, size, [](BinaryReader& r) { return r.data_value(); },
                   [](BinaryWriter& w, const DataValue& v) { w.data_value(v); });
        break;
      case 2:
        round_trip(data, size, [](BinaryReader& r) { return r.diagnostic_info(); },
                   [](BinaryWriter& w, const DiagnosticInfo& v) { w.diagnostic_info(v); });
        break;
      case 3:
        round_trip(data, size, [](BinaryReader& r) { return r.expanded_node_id(); },
                   [](BinaryWriter& w, const ExpandedNodeId& v) { w.expanded_node_id(v); });
        break;
      case 4: {
        BinaryReader r(data, size);
        decode_endpoint_description(r);
        break;
      }
      case 5: {
        BinaryReader r(data, size);
        decode_reference_description(r);
        break;
      }
      case 6: {
        BinaryReader r(data, size);
        begin_response(r, type_id::read_response, "Read");
        r.array([&] { return r.data_value(); });
        skip_diagnostic_infos(r);
        break;
      }
      default: {
        BinaryReader r(data, size);
        r.extension_object();
        r.localized_text();
        r.qualified_name();
        r.guid();
        break;
      }
    }
  } catch (const Error&) {
    // malformed input is expected: it must fail cleanly, which it just did
  }
  return 0;
}
