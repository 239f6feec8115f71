// Read, Write, Browse and BrowseNext, batched within the server's operation limits.
#include <algorithm>

#include "client_impl.h"

namespace oee::opcua {
namespace {

// Batch size for a limit the server announced (0 = none announced).
size_t batch_size(uint32_t limit, size_t fallback) { return limit ? limit : fallback; }

template <class T, class F>
void for_each_batch(std::span<const T> items, size_t batch, F&& run) {
  for (size_t offset = 0; offset < items.size(); offset += batch) {
    run(items.subspan(offset, std::min(batch, items.size() - offset)));
  }
}

void expect_count(size_t got, size_t wanted, const char* service) {
  if (got != wanted) {
    throw Error(status::bad_decoding_error, std::string(service) + ": " + std::to_string(got) + " results for " +
                                                std::to_string(wanted) + " operations");
  }
}

}  // namespace

std::vector<DataValue> Client::read(std::span<const ReadValueId> nodes) {
  Impl& d = *impl_;
  std::vector<DataValue> results;
  results.reserve(nodes.size());
  for_each_batch(nodes, batch_size(operation_limits().max_nodes_per_read, 5000), [&](std::span<const ReadValueId> batch) {
    auto body = d.call(type_id::read_request, [&](BinaryWriter& w) {
      w.f64(0);   // maxAge: current values
      w.u32(2);   // TimestampsToReturn Both
      w.i32(static_cast<int32_t>(batch.size()));
      for (const auto& n : batch) encode_read_value_id(w, n);
    });
    try {
      BinaryReader r(body);
      begin_response(r, type_id::read_response, "Read");
      auto values = r.array([&] { return r.data_value(); });
      expect_count(values.size(), batch.size(), "Read");
      for (auto& v : values) results.push_back(std::move(v));
    } catch (const DecodeError& e) {
      throw Error(status::bad_decoding_error, std::string("Read response: ") + e.what());
    }
  });
  return results;
}

DataValue Client::read_value(const NodeId& node) {
  const ReadValueId id{node, AttributeId::value, {}};
  return read(std::span<const ReadValueId>(&id, 1)).front();
}

std::vector<StatusCode> Client::write(std::span<const WriteValue> nodes) {
  Impl& d = *impl_;
  std::vector<StatusCode> results;
  results.reserve(nodes.size());
  for_each_batch(nodes, batch_size(operation_limits().max_nodes_per_write, 5000), [&](std::span<const WriteValue> batch) {
    auto body = d.call(type_id::write_request, [&](BinaryWriter& w) {
      w.i32(static_cast<int32_t>(batch.size()));
      for (const auto& n : batch) {
        w.node_id(n.node_id);
        w.u32(static_cast<uint32_t>(n.attribute_id));
        if (n.index_range.empty()) w.null_string(); else w.string(n.index_range);
        w.data_value(n.value);
      }
    });
    try {
      BinaryReader r(body);
      begin_response(r, type_id::write_response, "Write");
      auto statuses = r.array([&] { return r.status_code(); });
      expect_count(statuses.size(), batch.size(), "Write");
      results.insert(results.end(), statuses.begin(), statuses.end());
    } catch (const DecodeError& e) {
      throw Error(status::bad_decoding_error, std::string("Write response: ") + e.what());
    }
  });
  return results;
}

std::vector<BrowseResult> Client::browse(std::span<const BrowseDescription> nodes) {
  Impl& d = *impl_;
  std::vector<BrowseResult> results;
  results.reserve(nodes.size());
  auto decode_results = [](BinaryReader& r, std::vector<BrowseResult>& out, std::vector<std::string>& continuation) {
    const size_t n = r.array_length();
    for (size_t i = 0; i < n; ++i) {
      BrowseResult result;
      result.status = r.status_code();
      continuation.push_back(r.string());
      result.references = r.array([&] { return decode_reference_description(r); });
      out.push_back(std::move(result));
    }
    skip_diagnostic_infos(r);
  };
  for_each_batch(nodes, batch_size(operation_limits().max_nodes_per_browse, 1000), [&](std::span<const BrowseDescription> batch) {
    auto body = d.call(type_id::browse_request, [&](BinaryWriter& w) {
      w.node_id({});   // view: the whole address space
      w.date_time({});
      w.u32(0);
      w.u32(d.config.max_references_per_node);
      w.i32(static_cast<int32_t>(batch.size()));
      for (const auto& b : batch) {
        w.node_id(b.node_id);
        w.u32(static_cast<uint32_t>(b.direction));
        w.node_id(b.reference_type_id);
        w.boolean(b.include_subtypes);
        w.u32(b.node_class_mask);
        w.u32(b.result_mask);
      }
    });
    std::vector<BrowseResult> batch_results;
    std::vector<std::string> continuation;
    try {
      BinaryReader r(body);
      begin_response(r, type_id::browse_response, "Browse");
      decode_results(r, batch_results, continuation);
      expect_count(batch_results.size(), batch.size(), "Browse");
    } catch (const DecodeError& e) {
      throw Error(status::bad_decoding_error, std::string("Browse response: ") + e.what());
    }
    // Follow continuation points until every node's references are complete.
    for (size_t i = 0; i < batch_results.size(); ++i) {
      while (!continuation[i].empty()) {
        const std::string point = continuation[i];
        auto next = d.call(type_id::browse_next_request, [&](BinaryWriter& w) {
          w.boolean(false);  // releaseContinuationPoints
          w.i32(1);
          w.string(point);
        });
        std::vector<BrowseResult> more;
        std::vector<std::string> more_continuation;
        try {
          BinaryReader r(next);
          begin_response(r, type_id::browse_next_response, "BrowseNext");
          decode_results(r, more, more_continuation);
          expect_count(more.size(), 1, "BrowseNext");
        } catch (const DecodeError& e) {
          throw Error(status::bad_decoding_error, std::string("BrowseNext response: ") + e.what());
        }
        if (more[0].status.is_bad()) {
          batch_results[i].status = more[0].status;
          break;
        }
        auto& refs = batch_results[i].references;
        refs.insert(refs.end(), std::make_move_iterator(more[0].references.begin()),
                    std::make_move_iterator(more[0].references.end()));
        continuation[i] = more_continuation[0];
      }
    }
    for (auto& result : batch_results) results.push_back(std::move(result));
  });
  return results;
}

}  // namespace oee::opcua
