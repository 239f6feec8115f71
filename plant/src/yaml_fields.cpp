#include "oee/plant/yaml_fields.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <stdexcept>

namespace oee::plant {

void YamlFields::fail(const YAML::Node& at, const std::string& message) const {
  thrower_(file_, line(at), message);
  throw std::logic_error("YamlFields: the thrower returned");  // it must not
}

int YamlFields::line(const YAML::Node& n) { return n.Mark().is_null() ? 0 : n.Mark().line + 1; }

void YamlFields::expect_map(const YAML::Node& n, const std::string& what) const {
  if (!n.IsMap()) fail(n, what + ": expected a mapping");
}

void YamlFields::expect_list(const YAML::Node& n, const std::string& what) const {
  if (!n.IsSequence()) fail(n, what + ": expected a list");
}

void YamlFields::only_keys(const YAML::Node& n, const std::string& what, std::initializer_list<const char*> allowed) const {
  for (const auto& kv : n) {
    const std::string key = kv.first.as<std::string>();
    bool ok = false;
    for (const char* a : allowed) ok = ok || key == a;
    if (!ok) {
      std::string list;
      for (const char* a : allowed) list += std::string(list.empty() ? "" : ", ") + a;
      fail(kv.first, what + ": unknown key '" + key + "' (expected one of: " + list + ")");
    }
  }
}

std::string YamlFields::string(const YAML::Node& n, const std::string& what) const {
  if (!n.IsScalar()) fail(n, what + ": expected a string");
  return n.as<std::string>();
}

double YamlFields::number(const YAML::Node& n, const std::string& what) const {
  if (!n.IsScalar()) fail(n, what + ": expected a number");
  double v = 0;
  if (!YAML::convert<double>::decode(n, v) || !std::isfinite(v)) fail(n, what + ": '" + n.Scalar() + "' is not a number");
  return v;
}

std::int64_t YamlFields::integer(const YAML::Node& n, const std::string& what, std::int64_t min, std::int64_t max) const {
  if (!n.IsScalar()) fail(n, what + ": expected an integer");
  long long v = 0;
  if (!YAML::convert<long long>::decode(n, v)) fail(n, what + ": '" + n.Scalar() + "' is not an integer");
  if (v < min || v > max)
    fail(n, what + ": " + std::to_string(v) + " is out of range [" + std::to_string(min) + ", " + std::to_string(max) + "]");
  return v;
}

bool YamlFields::boolean(const YAML::Node& n, const std::string& what) const {
  bool v = false;
  if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v)) fail(n, what + ": expected true or false");
  return v;
}

}  // namespace oee::plant
