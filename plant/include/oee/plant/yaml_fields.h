#pragma once
// Reading a YAML tree with the file name at hand, so every complaint names file, line and key
// ("plant.yaml:12: lines[0].machines[1]: unknown key 'speed' (expected one of: …)"). The plant
// file and the edge config read theirs with it, each throwing its own error type.
#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>

namespace YAML {
class Node;
}

namespace oee::plant {

class YamlFields {
 public:
  // Throws the reader's error for (file, line, message); line is 1-based, 0 when unknown.
  using Thrower = void (*)(const std::string& file, int line, const std::string& message);
  YamlFields(std::string file, Thrower thrower) : file_(std::move(file)), thrower_(thrower) {}

  [[noreturn]] void fail(const YAML::Node& at, const std::string& message) const;
  static int line(const YAML::Node& n);  // 1-based, 0 when the node has no position

  void expect_map(const YAML::Node& n, const std::string& what) const;
  void expect_list(const YAML::Node& n, const std::string& what) const;
  // Fails on the first key of the mapping `n` that is not in `allowed`, naming the allowed ones.
  void only_keys(const YAML::Node& n, const std::string& what, std::initializer_list<const char*> allowed) const;
  std::string string(const YAML::Node& n, const std::string& what) const;
  double number(const YAML::Node& n, const std::string& what) const;  // finite
  std::int64_t integer(const YAML::Node& n, const std::string& what, std::int64_t min, std::int64_t max) const;
  bool boolean(const YAML::Node& n, const std::string& what) const;

  const std::string& file() const { return file_; }

 private:
  std::string file_;
  Thrower thrower_;
};

}  // namespace oee::plant
