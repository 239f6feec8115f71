#include "oee/opcua/browse_paths.h"

#include <map>

namespace oee::opcua {
namespace {

// Children of nodes, each node browsed once (PackTags share their parents: Admin, Status).
class ChildIndex {
 public:
  explicit ChildIndex(Client& client) : client_(client) {}

  const std::vector<ReferenceDescription>& children(const NodeId& node) {
    const std::string key = node.to_string();
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second;
    BrowseDescription d{node};
    auto result = client_.browse(std::span<const BrowseDescription>(&d, 1)).front();
    if (result.status.is_bad()) result.references.clear();  // an unbrowsable node has no path below it
    return cache_.emplace(key, std::move(result.references)).first->second;
  }

  std::optional<NodeId> child(const NodeId& node, const std::string& name) {
    for (const auto& r : children(node)) {
      const bool local = r.node_id.server_index == 0 && r.node_id.namespace_uri.empty();
      if (local && (r.browse_name.name == name || r.browse_name.name == name + "[0]")) return r.node_id.node_id;
    }
    return std::nullopt;
  }

  std::optional<NodeId> follow(const NodeId& start, const std::string& path) {
    std::optional<NodeId> at = start;
    for (size_t begin = 0; at && begin <= path.size();) {
      const size_t dot = std::min(path.find('.', begin), path.size());
      at = child(*at, path.substr(begin, dot - begin));
      begin = dot + 1;
    }
    return at;
  }

 private:
  Client& client_;
  std::map<std::string, std::vector<ReferenceDescription>> cache_;
};

}  // namespace

std::vector<std::optional<NodeId>> resolve_browse_paths(Client& client, const NodeId& start,
                                                        std::span<const std::string> paths) {
  ChildIndex index(client);
  std::vector<std::optional<NodeId>> out;
  for (const auto& p : paths) out.push_back(index.follow(start, p));
  return out;
}

std::vector<PackmlObject> find_packml_objects(Client& client, const NodeId& start, int depth) {
  ChildIndex index(client);
  std::vector<PackmlObject> found;
  std::vector<std::pair<NodeId, std::string>> level{{start, ""}};  // node, dotted path to it
  std::map<std::string, bool> seen{{start.to_string(), true}};
  for (int d = 1; d <= depth && !level.empty(); ++d) {
    std::vector<std::pair<NodeId, std::string>> next;
    for (const auto& [node, path] : level) {
      for (const auto& r : index.children(node)) {
        if (r.node_class != NodeClass::object || r.node_id.server_index != 0 || !r.node_id.namespace_uri.empty()) continue;
        const NodeId child = r.node_id.node_id;
        if (!seen.emplace(child.to_string(), true).second) continue;
        if (index.follow(child, "Status.StateCurrent") && index.child(child, "Admin")) {
          found.push_back({child, r.browse_name, path});
        } else {
          next.emplace_back(child, path.empty() ? r.browse_name.name : path + "." + r.browse_name.name);
        }
      }
    }
    level = std::move(next);
  }
  return found;
}

}  // namespace oee::opcua
