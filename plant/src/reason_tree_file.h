#pragma once
// The plant file's reason tree (top-level `reasons:`) and PLC reason code maps (`reason_codes:`, of
// the plant or of a machine), validated with file:line errors.
#include <map>
#include <memory>
#include <string>

#include "oee/core/reason_tree.h"
#include "oee/plant/yaml_fields.h"

namespace oee::plant {

using ReasonCodes = std::map<std::string, std::string, std::less<>>;

std::shared_ptr<const ReasonTree> read_reason_tree(const YamlFields& r, const YAML::Node& list);
// PLC code -> tree code, each tree code checked against `tree` (null: no tree, an error).
ReasonCodes read_reason_codes(const YamlFields& r, const YAML::Node& map, const ReasonTree* tree, const std::string& what);

}  // namespace oee::plant
