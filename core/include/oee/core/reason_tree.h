#pragma once
// The plant's tree of stop reason codes (the plant file's top-level `reasons:`). A node may name the
// loss its stops belong to; its children inherit it. Plain data: reading it lives in plant/.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace oee {

// none: the stop keeps the loss of its state.
enum class ReasonLoss : std::uint8_t { none, breakdown, setup, small_stop, starved, blocked, planned };

std::string_view reason_loss_name(ReasonLoss loss);
std::optional<ReasonLoss> parse_reason_loss(std::string_view name);

struct ReasonNode {
  std::string code;
  std::string name;
  int parent = -1;  // index in the tree's nodes; -1 at the top
  int level = 1;    // 1 at the top
  ReasonLoss loss = ReasonLoss::none;  // its own or inherited from the nearest ancestor that has one
};

class ReasonTree {
 public:
  // Adds a node under `parent` (an index returned earlier, or -1); `own_loss` none inherits the
  // parent's. Returns its index, or -1 when the code is already in the tree.
  int add(std::string code, std::string name, int parent, ReasonLoss own_loss);

  bool empty() const { return nodes_.empty(); }
  const std::vector<ReasonNode>& nodes() const { return nodes_; }
  const ReasonNode* find(std::string_view code) const;
  // The code's ancestor at `level` (1 = top), or the code itself when it is at or above that level
  // or not in the tree.
  std::string_view at_level(std::string_view code, int level) const;
  int depth() const { return depth_; }

 private:
  std::vector<ReasonNode> nodes_;
  std::map<std::string, int, std::less<>> index_;
  int depth_ = 0;
};

}  // namespace oee
