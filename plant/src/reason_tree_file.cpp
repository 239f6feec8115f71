#include "reason_tree_file.h"

#include <yaml-cpp/yaml.h>

namespace oee::plant {

namespace {

constexpr std::size_t kCodeBytesMax = 128;  // the longest reason the API accepts

void read_nodes(const YamlFields& r, const YAML::Node& list, const std::string& what, int parent, ReasonTree& tree,
                std::map<std::string, int>& lines) {
  r.expect_list(list, what);
  if (list.size() == 0) r.fail(list, what + ": must not be empty");
  for (std::size_t i = 0; i < list.size(); ++i) {
    const YAML::Node n = list[i];
    const std::string w = what + "[" + std::to_string(i) + "]";
    r.expect_map(n, w);
    r.only_keys(n, w, {"code", "name", "loss", "children"});
    if (!n["code"] || !n["name"]) r.fail(n, w + ": needs 'code' and 'name'");
    std::string code = r.string(n["code"], w + ".code");
    if (code.empty() || code.size() > kCodeBytesMax)
      r.fail(n["code"], w + ".code: must be 1 to " + std::to_string(kCodeBytesMax) + " bytes");
    ReasonLoss loss = ReasonLoss::none;
    if (const auto l = n["loss"]) {
      const std::string name = r.string(l, w + ".loss");
      const auto parsed = parse_reason_loss(name);
      if (!parsed) r.fail(l, w + ".loss: '" + name + "' is not a loss (breakdown, setup, small_stop, starved, blocked, planned)");
      loss = *parsed;
    }
    const int index = tree.add(code, r.string(n["name"], w + ".name"), parent, loss);
    if (index < 0)
      r.fail(n["code"], w + ".code: duplicate code '" + code + "' (first at line " + std::to_string(lines[code]) + ")");
    lines[code] = YamlFields::line(n["code"]);
    if (const auto children = n["children"]) read_nodes(r, children, w + ".children", index, tree, lines);
  }
}

}  // namespace

std::shared_ptr<const ReasonTree> read_reason_tree(const YamlFields& r, const YAML::Node& list) {
  auto tree = std::make_shared<ReasonTree>();
  std::map<std::string, int> lines;
  read_nodes(r, list, "reasons", -1, *tree, lines);
  return tree;
}

ReasonCodes read_reason_codes(const YamlFields& r, const YAML::Node& map, const ReasonTree* tree, const std::string& what) {
  if (!tree) r.fail(map, what + ": needs a reason tree (the top-level 'reasons') to map into");
  r.expect_map(map, what);
  ReasonCodes out;
  for (const auto& kv : map) {
    const std::string plc = r.string(kv.first, what);
    const std::string code = r.string(kv.second, what + "." + plc);
    if (tree->find(plc)) r.fail(kv.first, what + ": '" + plc + "' is a code of the tree itself, not a PLC code to map");
    if (!tree->find(code)) r.fail(kv.second, what + "." + plc + ": '" + code + "' is not a code of the reason tree");
    out[plc] = code;
  }
  return out;
}

}  // namespace oee::plant
