#include "oee/core/plant_model.h"

namespace oee {

std::int64_t MachineSpec::cycle_us_for(std::string_view product) const {
  if (!product.empty()) {
    auto it = product_cycle_us.find(product);
    if (it != product_cycle_us.end()) return it->second;
  }
  return ideal_cycle_us;
}

std::optional<State> MachineSpec::resolve_state(std::string_view value) const {
  auto it = state_map.find(value);
  if (it != state_map.end()) return it->second;
  return parse_state(value);
}

std::ptrdiff_t LineSpec::machine_index(std::string_view machine_id) const {
  for (std::size_t i = 0; i < machines.size(); ++i)
    if (machines[i].id == machine_id) return static_cast<std::ptrdiff_t>(i);
  return -1;
}

namespace {
const MachineSpec* kpi_machine(const LineSpec& line, const std::string& id) {
  const std::ptrdiff_t i = line.kpi.mode == LineKpiMode::constraint ? line.machine_index(id) : -1;
  return i < 0 ? nullptr : &line.machines[static_cast<std::size_t>(i)];
}
}  // namespace

const MachineSpec* LineSpec::constraint_machine() const { return kpi_machine(*this, kpi.constraint); }
const MachineSpec* LineSpec::outfeed_machine() const { return kpi_machine(*this, kpi.outfeed); }

std::vector<const MachineSpec*> PlantModel::machines() const {
  std::vector<const MachineSpec*> out;
  for (const auto& s : sites)
    for (const auto& a : s.areas)
      for (const auto& l : a.lines)
        for (const auto& m : l.machines) out.push_back(&m);
  return out;
}

const MachineSpec* PlantModel::find_machine(std::string_view path) const {
  for (const auto& s : sites)
    for (const auto& a : s.areas)
      for (const auto& l : a.lines)
        for (const auto& m : l.machines)
          if (m.path == path) return &m;
  return nullptr;
}

namespace {
std::string_view trim_slashes(std::string_view p) {
  while (!p.empty() && p.front() == '/') p.remove_prefix(1);
  while (!p.empty() && p.back() == '/') p.remove_suffix(1);
  return p;
}
bool at_or_below(std::string_view path, std::string_view node) {
  if (node.empty()) return true;
  return path == node || (path.size() > node.size() && path.starts_with(node) && path[node.size()] == '/');
}
}  // namespace

std::vector<const MachineSpec*> PlantModel::machines_under(std::string_view node_path) const {
  const std::string_view node = trim_slashes(node_path);
  std::vector<const MachineSpec*> out;
  for (const MachineSpec* m : machines())
    if (at_or_below(m->path, node)) out.push_back(m);
  return out;
}

const LineSpec* PlantModel::find_line(std::string_view node_path) const {
  const std::string_view node = trim_slashes(node_path);
  for (const auto& s : sites)
    for (const auto& a : s.areas)
      for (const auto& l : a.lines)
        if (l.path == node) return &l;
  return nullptr;
}

const SiteSpec* PlantModel::find_site(std::string_view node_path) const {
  const std::string_view node = trim_slashes(node_path);
  const std::string_view site = node.substr(0, node.find('/'));
  for (const auto& s : sites)
    if (!site.empty() && s.path == site) return &s;
  return nullptr;
}

bool PlantModel::has_node(std::string_view node_path) const {
  const std::string_view node = trim_slashes(node_path);
  if (node.empty()) return true;
  for (const auto& s : sites) {
    if (s.path == node) return true;
    for (const auto& a : s.areas) {
      if (a.path == node) return true;
      for (const auto& l : a.lines) {
        if (l.path == node) return true;
        for (const auto& m : l.machines)
          if (m.path == node) return true;
      }
    }
  }
  return false;
}

}  // namespace oee
