#pragma once
// Finding nodes by browse names instead of node ids: PackTags sit at the same browse paths on
// every PackML machine ("Status.StateCurrent"), while their node ids are the vendor's choice.
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "oee/opcua/client.h"

namespace oee::opcua {

// Follows each dotted path ("Admin.StopReason.ID") from `start` along forward hierarchical
// references. A path element matches a browse name in any namespace; "X" also matches "X[0]",
// how PLCs flatten an array of structures (ProdProcessedCount[0].AccCount). nullopt where a
// path does not exist. Each node is browsed at most once.
std::vector<std::optional<NodeId>> resolve_browse_paths(Client& client, const NodeId& start,
                                                        std::span<const std::string> paths);

struct PackmlObject {
  NodeId node;
  QualifiedName browse_name;
  std::string parent_path;  // browse names from the start node, dotted ("" = a child of it)
};

// The PackML objects at most `depth` levels below `start`: objects with a Status.StateCurrent
// and an Admin child (the PackTags structure). The search does not descend into those it found.
std::vector<PackmlObject> find_packml_objects(Client& client, const NodeId& start, int depth);

}  // namespace oee::opcua
