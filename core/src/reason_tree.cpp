#include "oee/core/reason_tree.h"

#include <algorithm>
#include <array>

namespace oee {

namespace {
constexpr std::array<std::string_view, 7> kLossNames = {"none",    "breakdown", "setup",  "small_stop",
                                                        "starved", "blocked",   "planned"};
}

std::string_view reason_loss_name(ReasonLoss loss) { return kLossNames[static_cast<std::size_t>(loss)]; }

std::optional<ReasonLoss> parse_reason_loss(std::string_view name) {
  // "none" is the absence of a loss, not something a file may write.
  for (std::size_t i = 1; i < kLossNames.size(); ++i)
    if (kLossNames[i] == name) return static_cast<ReasonLoss>(i);
  return std::nullopt;
}

int ReasonTree::add(std::string code, std::string name, int parent, ReasonLoss own_loss) {
  if (index_.count(code) != 0) return -1;
  ReasonNode node{std::move(code), std::move(name), parent, 1, own_loss};
  if (parent >= 0) {
    const ReasonNode& p = nodes_[static_cast<std::size_t>(parent)];
    node.level = p.level + 1;
    if (node.loss == ReasonLoss::none) node.loss = p.loss;
  }
  depth_ = std::max(depth_, node.level);
  const int index = static_cast<int>(nodes_.size());
  index_.emplace(node.code, index);
  nodes_.push_back(std::move(node));
  return index;
}

const ReasonNode* ReasonTree::find(std::string_view code) const {
  const auto it = index_.find(code);
  return it == index_.end() ? nullptr : &nodes_[static_cast<std::size_t>(it->second)];
}

std::string_view ReasonTree::at_level(std::string_view code, int level) const {
  const ReasonNode* n = find(code);
  if (!n) return code;
  while (n->level > level && n->parent >= 0) n = &nodes_[static_cast<std::size_t>(n->parent)];
  return n->code;
}

}  // namespace oee
