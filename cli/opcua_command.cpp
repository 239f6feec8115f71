// `oee opcua endpoints|browse|read|write|subscribe URL ...`: the OPC UA client for people on the
// floor. Prints one JSON object per line; exit 0 on success, 2 with the status name on failure, 3
// when `subscribe` ends while the connection is lost (it dropped and never came back).
#include <CLI/CLI.hpp>
#include <signal.h>

#include <atomic>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <map>
#include <mutex>
#include <optional>
#include <nlohmann/json.hpp>
#include <set>

#include "commands.h"
#include "oee/edge/packml_preset.h"
#include "oee/opcua/browse_paths.h"
#include "oee/opcua/client.h"
#include "oee/opcua/endpoint_selection.h"
#include "oee/opcua/pki.h"

OEE_COMMAND("opcua", run_opcua_command, "OPC UA client: endpoints, browse, read, write, subscribe");

namespace oee::cli {
namespace {

using nlohmann::json;
namespace ua = oee::opcua;

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

void print_line(const json& j) {
  static std::mutex out_mutex;
  std::lock_guard lock(out_mutex);
  std::fputs(dump(j).c_str(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

json to_json(const ua::DataValue& v);
json to_json(const ua::Variant& v);

json diagnostic_to_json(const ua::DiagnosticInfo& d) {
  json j = json::object();
  if (d.symbolic_id >= 0) j["symbolic_id"] = d.symbolic_id;
  if (!d.additional_info.empty()) j["additional_info"] = d.additional_info;
  if (d.has_inner_status) j["inner_status"] = ua::status_name(d.inner_status);
  if (d.inner) j["inner"] = diagnostic_to_json(*d.inner);
  return j;
}

json scalar_to_json(ua::BuiltinType type, const ua::Scalar& s) {
  using T = ua::BuiltinType;
  return std::visit(
      [type](const auto& x) -> json {
        using X = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<X, std::monostate>) {
          return nullptr;
        } else if constexpr (std::is_same_v<X, float> || std::is_same_v<X, double>) {
          if (std::isfinite(x)) return x;
          return std::isnan(x) ? "NaN" : (x > 0 ? "Infinity" : "-Infinity");
        } else if constexpr (std::is_arithmetic_v<X>) {
          return x;
        } else if constexpr (std::is_same_v<X, std::string>) {
          if (type == T::byte_string) return ua::base64_encode(x);
          return x;
        } else if constexpr (std::is_same_v<X, ua::DateTime>) {
          return x.to_iso8601();
        } else if constexpr (std::is_same_v<X, ua::Guid> || std::is_same_v<X, ua::NodeId> ||
                             std::is_same_v<X, ua::ExpandedNodeId>) {
          return x.to_string();
        } else if constexpr (std::is_same_v<X, ua::StatusCode>) {
          return ua::status_name(x);
        } else if constexpr (std::is_same_v<X, ua::QualifiedName>) {
          return std::to_string(x.namespace_index) + ":" + x.name;
        } else if constexpr (std::is_same_v<X, ua::LocalizedText>) {
          return json{{"locale", x.locale}, {"text", x.text}};
        } else if constexpr (std::is_same_v<X, ua::ExtensionObject>) {
          return json{{"type_id", x.type_id.to_string()}, {"encoding", static_cast<int>(x.encoding)},
                      {"body", ua::base64_encode(x.body)}};
        } else if constexpr (std::is_same_v<X, std::shared_ptr<ua::DataValue>>) {
          return x ? to_json(*x) : json(nullptr);
        } else if constexpr (std::is_same_v<X, std::shared_ptr<ua::Variant>>) {
          return x ? json{{"type", ua::builtin_type_name(x->type)}, {"value", to_json(*x)}} : json(nullptr);
        } else {
          return x ? diagnostic_to_json(*x) : json(nullptr);
        }
      },
      s);
}

json to_json(const ua::Variant& v) {
  if (!v.is_array) return v.values.empty() ? json(nullptr) : scalar_to_json(v.type, v.values.front());
  json a = json::array();
  for (const auto& s : v.values) a.push_back(scalar_to_json(v.type, s));
  return a;
}

json to_json(const ua::DataValue& v) {
  return json{{"value", to_json(v.value)}, {"type", ua::builtin_type_name(v.value.type)},
              {"status", ua::status_name(v.status)}};
}

json value_line(const std::string& node, const ua::DataValue& v) {
  json j;
  j["node"] = node;
  j["value"] = v.has_value ? to_json(v.value) : json(nullptr);
  j["type"] = ua::builtin_type_name(v.value.type);
  if (!v.value.dimensions.empty()) j["dimensions"] = v.value.dimensions;
  j["status"] = ua::status_name(v.status);
  j["source_ts"] = v.source_timestamp.ticks ? json(v.source_timestamp.to_iso8601()) : json(nullptr);
  j["server_ts"] = v.server_timestamp.ticks ? json(v.server_timestamp.to_iso8601()) : json(nullptr);
  return j;
}

// `subscribe` ended (by --count, --duration-s or a signal) while the connection was down.
constexpr int kExitConnectionLost = 3;

int fail(const ua::StatusCode status, const std::string& detail) {
  std::fprintf(stderr, "oee opcua: %s%s%s\n", ua::status_name(status).c_str(), detail.empty() ? "" : ": ",
               detail.c_str());
  return 2;
}

ua::NodeId parse_node(const std::string& text) {
  auto id = ua::NodeId::parse(text);
  if (!id) throw ua::Error(ua::status::bad_node_id_invalid, "not a NodeId: '" + text + "' (e.g. ns=2;s=Line1.State, i=2258)");
  return *id;
}

template <class T>
T parse_integer(const std::string& text) {
  T v{};
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    throw ua::Error(ua::status::bad_type_mismatch, "'" + text + "' is not a valid integer for this type");
  }
  return v;
}

ua::DateTime parse_date_time(const std::string& text) {
  std::tm tm{};
  int millis = 0;
  char zone = 0;
  if (std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                  &tm.tm_sec, &millis) == 7 ||
      std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                  &tm.tm_sec, &zone) == 7) {
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return ua::DateTime::from_unix_ms(static_cast<int64_t>(timegm(&tm)) * 1000 + millis);
  }
  return ua::DateTime::from_unix_ms(parse_integer<int64_t>(text));
}

// One value of a built-in type from its command-line text.
ua::Scalar parse_scalar(ua::BuiltinType type, const std::string& text) {
  using T = ua::BuiltinType;
  auto bad = [&](const char* what) { return ua::Error(ua::status::bad_type_mismatch, "'" + text + "' is not " + what); };
  switch (type) {
    case T::boolean:
      if (text == "true" || text == "1") return true;
      if (text == "false" || text == "0") return false;
      throw bad("a Boolean (true/false)");
    case T::sbyte: return static_cast<int8_t>(parse_integer<int8_t>(text));
    case T::byte: return static_cast<uint8_t>(parse_integer<uint8_t>(text));
    case T::int16: return parse_integer<int16_t>(text);
    case T::uint16: return parse_integer<uint16_t>(text);
    case T::int32: return parse_integer<int32_t>(text);
    case T::uint32: return parse_integer<uint32_t>(text);
    case T::int64: return parse_integer<int64_t>(text);
    case T::uint64: return parse_integer<uint64_t>(text);
    case T::float_:
    case T::double_: {
      char* end = nullptr;
      const double d = std::strtod(text.c_str(), &end);
      if (text.empty() || *end) throw bad("a number");
      if (type == T::float_) return static_cast<float>(d);
      return d;
    }
    case T::string:
    case T::xml_element: return text;
    case T::byte_string: {
      auto bytes = ua::base64_decode(text);
      if (!bytes) throw bad("Base64");
      return *bytes;
    }
    case T::date_time: return parse_date_time(text);
    case T::guid: {
      auto g = ua::Guid::parse(text);
      if (!g) throw bad("a Guid");
      return *g;
    }
    case T::node_id: return parse_node(text);
    case T::expanded_node_id: return ua::ExpandedNodeId{parse_node(text), {}, 0};
    case T::status_code: {
      const uint32_t code = ua::status_code_from_name(text);
      if (code == 0xFFFFFFFFu) return ua::StatusCode{parse_integer<uint32_t>(text)};
      return ua::StatusCode{code};
    }
    case T::qualified_name: {
      const size_t colon = text.find(':');
      if (colon == std::string::npos) return ua::QualifiedName{0, text};
      return ua::QualifiedName{parse_integer<uint16_t>(text.substr(0, colon)), text.substr(colon + 1)};
    }
    case T::localized_text: return ua::LocalizedText{"", text};
    default: throw ua::Error(ua::status::bad_type_mismatch, std::string("cannot write values of type ") + ua::builtin_type_name(type));
  }
}

// Appends the leaves of a (nested) JSON array in row-major order; records each level's length
// and insists every row of a level has the same one (a matrix, not a ragged list).
void flatten_rows(ua::BuiltinType type, const json& a, size_t level, std::vector<int32_t>& dims,
                  std::vector<ua::Scalar>& out) {
  if (level == dims.size()) dims.push_back(static_cast<int32_t>(a.size()));
  if (dims[level] != static_cast<int32_t>(a.size()))
    throw ua::Error(ua::status::bad_type_mismatch, "the rows of a matrix must all have the same length");
  for (const auto& e : a) {
    if (e.is_array() != a.front().is_array())
      throw ua::Error(ua::status::bad_type_mismatch, "a matrix row mixes values and rows");
    if (e.is_array()) {
      flatten_rows(type, e, level + 1, dims, out);
    } else {
      out.push_back(parse_scalar(type, e.is_string() ? e.get<std::string>() : e.dump()));
    }
  }
}

// --value is a scalar's text, or a JSON array for array nodes; nested arrays ([[1,2,3],[4,5,6]])
// are matrices and go out with their ArrayDimensions. A flat array for a node that holds a matrix
// of the same size keeps the node's dimensions.
ua::Variant parse_value(ua::BuiltinType type, bool is_array, const std::vector<int32_t>& node_dimensions,
                        const std::string& text) {
  if (!is_array && !(text.size() > 1 && text.front() == '[')) return ua::Variant::scalar(type, parse_scalar(type, text));
  const json parsed = json::parse(text, nullptr, false);
  if (!parsed.is_array()) throw ua::Error(ua::status::bad_type_mismatch, "array nodes take a JSON array, e.g. [1,2,3]");
  std::vector<int32_t> dims;
  std::vector<ua::Scalar> values;
  flatten_rows(type, parsed, 0, dims, values);
  ua::Variant v = ua::Variant::array(type, std::move(values));
  if (dims.size() >= 2) {
    v.dimensions = std::move(dims);
  } else if (node_dimensions.size() >= 2) {
    int64_t product = 1;
    for (int32_t d : node_dimensions) product *= d;
    if (product != static_cast<int64_t>(v.values.size()))
      throw ua::Error(ua::status::bad_type_mismatch, "the node holds a matrix of " + std::to_string(product) +
                                                         " values; give them all, or as rows: [[1,2,3],[4,5,6]]");
    v.dimensions = node_dimensions;
  }
  return v;
}

json endpoint_json(const ua::EndpointDescription& e) {
  static const char* kModes[] = {"Invalid", "None", "Sign", "SignAndEncrypt"};
  static const char* kTokenTypes[] = {"Anonymous", "UserName", "Certificate", "IssuedToken"};
  json tokens = json::array();
  for (const auto& t : e.user_identity_tokens) {
    const auto type = static_cast<uint32_t>(t.token_type);
    tokens.push_back({{"policy_id", t.policy_id},
                      {"type", type < 4 ? kTokenTypes[type] : "Unknown"},
                      {"security_policy", t.security_policy_uri}});
  }
  const auto mode = static_cast<uint32_t>(e.security_mode);
  return json{{"url", e.endpoint_url},
              {"security_mode", mode < 4 ? kModes[mode] : "Unknown"},
              {"security_policy", e.security_policy_uri},
              {"security_level", e.security_level},
              {"server", e.server.application_uri},
              {"user_tokens", tokens}};
}

struct CommonOptions {
  std::string url;
  std::string user;
  std::string password;
  uint32_t timeout_ms = 10000;
  std::string security_policy = "None";
  std::string security_mode;
  bool allow_deprecated_policies = false;
  std::string certificate, private_key;
  std::string user_certificate, user_private_key;
  std::string pki_dir;
};

void add_common(CLI::App& cmd, CommonOptions& o) {
  cmd.add_option("url", o.url, "server endpoint, e.g. opc.tcp://plc1:4840")->required();
  cmd.add_option("--user", o.user, "user name (the password is encrypted for the server)");
  cmd.add_option("--password", o.password, "password for --user");
  cmd.add_option("--timeout-ms", o.timeout_ms, "timeout of each request")->capture_default_str();
  cmd.add_option("--security-policy", o.security_policy,
                 "None, Basic256Sha256, Aes128_Sha256_RsaOaep, Aes256_Sha256_RsaPss (Basic128Rsa15, Basic256 with "
                 "--allow-deprecated-policies), or best: the most secure endpoint the server offers")
      ->capture_default_str();
  cmd.add_option("--security-mode", o.security_mode, "Sign or SignAndEncrypt (default: the best the policy offers)")
      ->check(CLI::IsMember({"Sign", "SignAndEncrypt"}));
  cmd.add_flag("--allow-deprecated-policies", o.allow_deprecated_policies, "allow Basic128Rsa15 and Basic256");
  cmd.add_option("--pki-dir", o.pki_dir,
                 "PKI directory (own/, trusted/, issuers/, rejected/): our certificate, created on first use, and the "
                 "verification of the server's (an unknown one goes to rejected/)");
  cmd.add_option("--certificate", o.certificate, "our application certificate (DER or PEM), for a secured policy")
      ->check(CLI::ExistingFile);
  cmd.add_option("--private-key", o.private_key, "the private key of --certificate (PEM or DER)")->check(CLI::ExistingFile);
  cmd.add_option("--user-certificate", o.user_certificate, "log in as this X.509 user (DER or PEM)")
      ->check(CLI::ExistingFile);
  cmd.add_option("--user-private-key", o.user_private_key, "the private key of --user-certificate")
      ->check(CLI::ExistingFile);
}

// `listing_endpoints`: `oee opcua endpoints`, which opens no session and verifies the server's
// certificates with --pki-dir whatever the policy.
ua::ClientConfig client_config(const CommonOptions& o, bool listing_endpoints = false) {
  // Security policy None signs and encrypts nothing and checks no certificate: these would be ignored.
  if (o.security_policy == "None" && !listing_endpoints &&
      (!o.security_mode.empty() || !o.pki_dir.empty() || !o.certificate.empty())) {
    throw ua::Error(ua::status::bad_invalid_argument, "--security-mode, --pki-dir and --certificate have no effect with "
                                                      "--security-policy None (give best or a policy)");
  }
  ua::ClientConfig c;
  c.endpoint_url = o.url;
  c.user_name = o.user;
  c.password = o.password;
  c.request_timeout_ms = o.timeout_ms;
  c.connect_timeout_ms = std::min<uint32_t>(o.timeout_ms, 10000);
  c.security_policy = o.security_policy;
  if (!o.security_mode.empty()) c.security_mode = ua::parse_security_mode(o.security_mode);
  c.allow_deprecated_policies = o.allow_deprecated_policies;
  if (o.certificate.empty() != o.private_key.empty()) {
    throw ua::Error(ua::status::bad_invalid_argument, "--certificate and --private-key go together");
  }
  if (!o.pki_dir.empty() && c.security_policy != "None") {
    // The PKI gives our certificate (or checks the given files) and verifies the server's.
    auto pki = std::make_shared<ua::Pki>(o.pki_dir);
    const ua::OwnCertificate& own = o.certificate.empty()
                                        ? pki->own_certificate(c.application_uri)
                                        : pki->use_own_certificate(o.certificate, o.private_key, c.application_uri);
    c.credentials = ua::ApplicationCredentials{own.certificate_der, own.private_key_pem};
    c.verify_server_certificate = [pki, url = o.url](std::string_view der, const ua::EndpointDescription& e) {
      pki->verify_server_certificate(der, e, url);
    };
  } else if (!o.certificate.empty()) {
    c.credentials = ua::load_credentials(o.certificate, o.private_key);
  }
  if (c.security_policy != "None" && c.credentials.certificate_der.empty()) {
    throw ua::Error(ua::status::bad_invalid_argument,
                    "--security-policy " + c.security_policy + " needs --pki-dir or --certificate and --private-key");
  }
  if (o.user_certificate.empty() != o.user_private_key.empty()) {
    throw ua::Error(ua::status::bad_invalid_argument, "--user-certificate and --user-private-key go together");
  }
  // One identity: a password alone would log in anonymously, and a certificate would win over a name.
  if (!o.password.empty() && o.user.empty()) throw ua::Error(ua::status::bad_invalid_argument, "--password needs --user");
  if (!o.user.empty() && !o.user_certificate.empty())
    throw ua::Error(ua::status::bad_invalid_argument, "give --user or --user-certificate, not both");
  if (!o.user_certificate.empty()) {
    const auto user = ua::load_credentials(o.user_certificate, o.user_private_key);
    c.user_certificate_der = user.certificate_der;
    c.user_private_key = user.private_key;
  }
  return c;
}

json certificate_json(const std::string& der) {
  if (der.empty()) return nullptr;
  try {
    const ua::CertificateInfo info = ua::describe_certificate(der);
    return json{{"subject", info.subject},         {"issuer", info.issuer},
                {"thumbprint", info.thumbprint},   {"not_before", ua::format_utc(info.not_before)},
                {"not_after", ua::format_utc(info.not_after)}, {"application_uri", info.uris},
                {"dns_names", info.dns_names},     {"ip_addresses", info.ip_addresses}};
  } catch (const ua::Error& e) {
    return json{{"error", e.what()}};
  }
}

// With a PKI directory, each endpoint's certificate is verified as a connection would: an unknown
// one lands in rejected/, and the line says so (the trust workflow starts here).
json verification_json(const ua::Pki& pki, const ua::EndpointDescription& e, const std::string& url) {
  try {
    pki.verify_server_certificate(e.server_certificate, e, url);
    return json{{"status", "Good"}};
  } catch (const ua::Error& error) {
    return json{{"status", ua::status_name(error.status())}, {"detail", error.what()}};
  }
}

// Lists the endpoints with their server certificate; "best" marks the one `security_policy: best` picks.
int run_endpoints(const CommonOptions& o, const std::string& pki_dir) {
  ua::ClientConfig c = client_config(o, true);
  c.create_session = false;
  c.reconnect = false;
  ua::Client client(c);
  client.connect();
  const auto endpoints = client.get_endpoints();
  const auto best = ua::select_best_endpoint(endpoints);
  std::optional<ua::Pki> pki;
  if (!pki_dir.empty()) pki.emplace(pki_dir);
  for (size_t i = 0; i < endpoints.size(); ++i) {
    json line = endpoint_json(endpoints[i]);
    line["best"] = best == i;
    line["server_certificate"] = certificate_json(endpoints[i].server_certificate);
    if (pki) line["certificate_verification"] = verification_json(*pki, endpoints[i], o.url);
    print_line(line);
  }
  return 0;
}

int run_browse_csv(ua::Client& client, const ua::NodeId& start, int depth);
int run_browse_packml(ua::Client& client, const ua::NodeId& start, int depth, bool csv);

int run_browse(const CommonOptions& o, const std::string& start, int depth, bool packml, bool csv) {
  ua::ClientConfig c = client_config(o);
  c.reconnect = false;
  ua::Client client(c);
  client.connect();
  if (packml) return run_browse_packml(client, parse_node(start), depth, csv);
  if (csv) return run_browse_csv(client, parse_node(start), depth);
  std::vector<ua::NodeId> level{parse_node(start)};
  std::set<std::string> seen{level.front().to_string()};
  for (int d = 1; d <= depth && !level.empty(); ++d) {
    std::vector<ua::BrowseDescription> descriptions;
    for (const auto& n : level) descriptions.push_back(ua::BrowseDescription{n});
    const auto results = client.browse(descriptions);
    std::vector<ua::NodeId> next;
    for (size_t i = 0; i < results.size(); ++i) {
      if (results[i].status.is_bad()) return fail(results[i].status, "browsing " + level[i].to_string());
      for (const auto& r : results[i].references) {
        const std::string id = r.node_id.to_string();
        print_line({{"node", id},
                    {"parent", level[i].to_string()},
                    {"depth", d},
                    {"browse_name", std::to_string(r.browse_name.namespace_index) + ":" + r.browse_name.name},
                    {"display_name", r.display_name.text},
                    {"node_class", ua::node_class_name(r.node_class)},
                    {"type_definition", r.type_definition.to_string()},
                    {"reference_type", r.reference_type_id.to_string()}});
        if (r.node_id.server_index == 0 && r.node_id.namespace_uri.empty() && seen.insert(id).second) {
          next.push_back(r.node_id.node_id);
        }
      }
    }
    level = std::move(next);
  }
  return 0;
}

// A CSV cell for the edge's tags_csv: quoted, as node ids may hold commas.
std::string csv_cell(const std::string& text) { return "\"" + text + "\""; }

// `browse --csv`: every variable below the start node as a tags_csv row with machine and signal
// left to fill (the edge refuses a row without them, so nothing half-filled goes live).
int run_browse_csv(ua::Client& client, const ua::NodeId& start, int depth) {
  std::printf("# tags_csv skeleton (docs/edge.md): fill in machine and signal for the tags to read, delete the rest\n");
  std::printf("node,machine,signal\n");
  std::vector<std::pair<ua::NodeId, std::string>> level{{start, ""}};
  std::set<std::string> seen{start.to_string()};
  for (int d = 1; d <= depth && !level.empty(); ++d) {
    std::vector<ua::BrowseDescription> descriptions;
    for (const auto& n : level) descriptions.push_back(ua::BrowseDescription{n.first});
    const auto results = client.browse(descriptions);
    std::vector<std::pair<ua::NodeId, std::string>> next;
    for (size_t i = 0; i < results.size(); ++i) {
      if (results[i].status.is_bad()) return fail(results[i].status, "browsing " + level[i].first.to_string());
      for (const auto& r : results[i].references) {
        const std::string path = (level[i].second.empty() ? "" : level[i].second + ".") + r.browse_name.name;
        if (r.node_class == ua::NodeClass::variable)
          std::printf("# %s\n%s,,\n", path.c_str(), csv_cell(r.node_id.to_string()).c_str());
        if (r.node_id.server_index == 0 && r.node_id.namespace_uri.empty() && seen.insert(r.node_id.to_string()).second)
          next.emplace_back(r.node_id.node_id, path);
      }
    }
    level = std::move(next);
  }
  std::fflush(stdout);
  return 0;
}

// `browse --packml`: the PackML objects below the start node and, for each, the PackTags the
// edge's preset reads, as JSON lines or (with --csv) a tags_csv table with the signals filled in.
int run_browse_packml(ua::Client& client, const ua::NodeId& start, int depth, bool csv) {
  std::vector<std::string> paths;
  for (const auto& p : edge::kPackTagSignals) paths.emplace_back(p.path);
  const auto objects = ua::find_packml_objects(client, start, depth);
  if (csv) std::printf("node,machine,signal\n");
  for (const auto& object : objects) {
    const std::string name = (object.parent_path.empty() ? "" : object.parent_path + ".") + object.browse_name.name;
    const auto nodes = ua::resolve_browse_paths(client, object.node, paths);
    if (csv)
      std::printf("# PackML object %s (%s): fill in the machine, or use one tag {preset: packml, node: \"%s\", machine: ...}\n",
                  name.c_str(), object.node.to_string().c_str(), object.node.to_string().c_str());
    for (size_t i = 0; i < nodes.size(); ++i) {
      if (!nodes[i]) continue;
      const std::string signal = edge::signal_text(edge::kPackTagSignals[i]);
      if (csv) {
        std::printf("%s,,%s\n", csv_cell(nodes[i]->to_string()).c_str(), signal.c_str());
      } else {
        print_line({{"object", object.node.to_string()}, {"object_name", name}, {"tag", paths[i]},
                    {"node", nodes[i]->to_string()}, {"signal", signal}});
      }
    }
  }
  std::fflush(stdout);
  if (objects.empty()) std::fprintf(stderr, "oee opcua: no PackML object (Status.StateCurrent and Admin) found\n");
  return 0;
}

int run_read(const CommonOptions& o, const std::vector<std::string>& nodes) {
  std::vector<ua::ReadValueId> ids;
  for (const auto& n : nodes) ids.push_back({parse_node(n), ua::AttributeId::value, {}});
  ua::ClientConfig c = client_config(o);
  c.reconnect = false;
  ua::Client client(c);
  client.connect();
  const auto values = client.read(ids);
  ua::StatusCode worst;
  std::string worst_node;
  for (size_t i = 0; i < values.size(); ++i) {
    print_line(value_line(nodes[i], values[i]));
    if (values[i].status.is_bad() && worst.is_good()) {
      worst = values[i].status;
      worst_node = nodes[i];
    }
  }
  return worst.is_bad() ? fail(worst, worst_node) : 0;
}

int run_write(const CommonOptions& o, const std::string& node_text, const std::string& value_text,
              const std::string& type_name) {
  const ua::NodeId node = parse_node(node_text);
  ua::ClientConfig c = client_config(o);
  c.reconnect = false;
  ua::Client client(c);
  client.connect();
  ua::BuiltinType type;
  bool is_array = false;
  std::vector<int32_t> dimensions;
  if (!type_name.empty()) {
    bool ok = false;
    type = ua::builtin_type_from_name(type_name, &ok);
    if (!ok) return fail(ua::status::bad_type_mismatch, "unknown --type '" + type_name + "' (Boolean, Int32, Double, String, ...)");
  } else {
    // Without --type, write what the node holds now.
    const auto current = client.read_value(node);
    if (current.status.is_bad()) return fail(current.status, node_text);
    type = current.value.type;
    is_array = current.value.is_array;
    dimensions = current.value.dimensions;
    if (type == ua::BuiltinType::null) return fail(ua::status::bad_type_mismatch, "node has no value; give --type");
  }
  ua::WriteValue w{node, ua::AttributeId::value, {}, {}};
  w.value.has_value = true;
  w.value.value = parse_value(type, is_array, dimensions, value_text);
  const auto result = client.write(std::span<const ua::WriteValue>(&w, 1)).front();
  print_line({{"node", node_text}, {"type", ua::builtin_type_name(type)}, {"status", ua::status_name(result)}});
  return result.is_bad() ? fail(result, node_text) : 0;
}

int run_subscribe(const CommonOptions& o, const std::vector<std::string>& nodes, double interval_ms,
                  double sampling_ms, uint64_t count, double duration_s, uint32_t queue_size, bool summary_only) {
  std::vector<ua::MonitoredItemRequest> items;
  for (const auto& n : nodes) {
    ua::MonitoredItemRequest item;
    item.node_id = parse_node(n);
    item.sampling_interval_ms = sampling_ms;
    item.queue_size = queue_size;
    items.push_back(item);
  }
  // Stop signals go to sigwait below only; block them before the client starts its threads.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  ua::Client client(client_config(o));
  // Whether the connection is down now: lost and not (yet) back decides the exit code.
  std::atomic<bool> down{false};
  client.set_event_handler([&down](const ua::ClientEvent& e) {
    if (e.kind == ua::ClientEvent::Kind::connection_lost) down = true;
    if (e.kind == ua::ClientEvent::Kind::reconnected) down = false;
    json j{{"event", ua::client_event_kind_name(e.kind)}, {"status", ua::status_name(e.status)}, {"detail", e.detail}};
    if (e.subscription) j["subscription"] = e.subscription;
    if (e.from.ticks) j["from"] = e.from.to_iso8601();
    if (e.to.ticks) j["to"] = e.to.to_iso8601();
    if (e.first_sequence_number) j["sequence_numbers"] = {e.first_sequence_number, e.last_sequence_number};
    if (e.client_handle) j["client_handle"] = e.client_handle;
    if (e.retry_delay_ms) j["retry_delay_ms"] = e.retry_delay_ms;
    std::fprintf(stderr, "%s\n", dump(j).c_str());
  });
  client.connect();
  std::map<uint32_t, const std::string*> names;  // client handle -> node text
  std::mutex names_mutex;
  std::atomic<uint64_t> received{0};
  const uint32_t subscription = client.create_subscription(
      ua::SubscriptionSettings{interval_ms, 60, 10, 0, 0},
      [&](uint32_t, uint32_t, std::span<const ua::DataChange> changes) {
        if (summary_only) {
          received += changes.size();
          return;
        }
        std::lock_guard lock(names_mutex);
        for (const auto& change : changes) {
          if (count && received.load() >= count) return;
          auto it = names.find(change.client_handle);
          print_line(value_line(it == names.end() ? std::to_string(change.client_handle) : *it->second, *change.value));
          ++received;
        }
      });
  {
    std::lock_guard lock(names_mutex);
    const auto results = client.create_monitored_items(subscription, items);
    for (size_t i = 0; i < results.size(); ++i) {
      if (results[i].status.is_bad()) return fail(results[i].status, nodes[i]);
      names[results[i].client_handle] = &nodes[i];
    }
  }
  std::fprintf(stderr, "%s\n", dump(json{{"event", "subscribed"}, {"items", items.size()}}).c_str());
  const auto started = std::chrono::steady_clock::now();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(duration_s);
  const timespec tick{0, 250 * 1000 * 1000};
  for (;;) {
    if (count && received.load() >= count) break;
    if (duration_s > 0 && std::chrono::steady_clock::now() >= deadline) break;
    if (sigtimedwait(&stop_signals, nullptr, &tick) > 0) break;
  }
  client.disconnect();
  if (summary_only) {
    const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started;
    print_line({{"values", received.load()}, {"items", items.size()}, {"seconds", elapsed.count()}});
  }
  if (down) {
    std::fprintf(stderr, "oee opcua: the connection was lost and did not come back before the end\n");
    return kExitConnectionLost;
  }
  return 0;
}

}  // namespace

int run_opcua_command(int argc, char** argv) {
  CLI::App app{"OPC UA client (opc.tcp; SecurityPolicy None or --security-policy/--security-mode with --certificate/"
               "--private-key; anonymous, --user/--password or --user-certificate). Prints JSON lines "
               "{\"node\",\"value\",\"type\",\"status\",\"source_ts\",\"server_ts\"}; exits 2 with the status name "
               "on failure, 3 when subscribe ends with the connection lost. See docs/opcua.md.",
               "oee opcua"};
  app.require_subcommand(1);
  CommonOptions common;

  auto* endpoints = app.add_subcommand("endpoints", "list the server's endpoints, login policies and certificates");
  add_common(*endpoints, common);
  endpoints->get_option("url")->required(false);
  endpoints->add_option("--endpoint", common.url, "server endpoint (instead of the URL argument)")
      ->excludes(endpoints->get_option("url"));

  auto* browse = app.add_subcommand("browse", "list the nodes below a node (hierarchical references)");
  add_common(*browse, common);
  std::string browse_node = "i=85";
  int depth = 1;
  browse->add_option("--node", browse_node, "where to start (default: the Objects folder i=85)")->capture_default_str();
  browse->add_option("--depth", depth, "levels to descend (default 1; 6 with --packml)")->check(CLI::Range(1, 64));
  bool browse_packml = false, browse_csv = false;
  browse->add_flag("--packml", browse_packml, "find PackML objects and print the PackTags the edge's preset reads");
  browse->add_flag("--csv", browse_csv, "print a tags_csv table for the edge (variables; with --packml: the PackTags)");

  auto* read = app.add_subcommand("read", "read the values of nodes");
  add_common(*read, common);
  std::vector<std::string> read_nodes;
  read->add_option("--node", read_nodes, "node id, e.g. ns=2;s=Line1.State (repeatable)")->required();

  auto* write = app.add_subcommand("write", "write a node's value and print the server's verdict");
  add_common(*write, common);
  std::string write_node, write_value, write_type;
  write->add_option("--node", write_node, "node id")->required();
  write->add_option("--value", write_value, "value as text; a JSON array for array nodes")->required();
  write->add_option("--type", write_type, "built-in type (Boolean, Int32, Double, String, ...); default: the node's current type");

  auto* subscribe = app.add_subcommand("subscribe", "print every data change of nodes until --count, --duration-s or Ctrl-C");
  add_common(*subscribe, common);
  std::vector<std::string> subscribe_nodes;
  double interval_ms = 1000, sampling_ms = 0, duration_s = 0;
  uint64_t count = 0;
  uint32_t queue_size = 10;
  subscribe->add_option("--node", subscribe_nodes, "node id (repeatable)")->required();
  subscribe->add_option("--interval-ms", interval_ms, "publishing interval")->capture_default_str();
  subscribe->add_option("--sampling-ms", sampling_ms, "sampling interval (0: every change the server sees)")->capture_default_str();
  subscribe->add_option("--queue-size", queue_size, "values the server queues per item between publishes")->capture_default_str();
  subscribe->add_option("--count", count, "stop after this many values (0: no limit)");
  subscribe->add_option("--duration-s", duration_s, "stop after this many seconds (0: no limit)");
  bool summary_only = false;
  subscribe->add_flag("--summary", summary_only, "print no values, only a count at the end (for load tests)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    if (*endpoints && common.url.empty()) return fail(ua::status::bad_tcp_endpoint_url_invalid, "give the server URL, e.g. --endpoint opc.tcp://plc1:4840");
    if (*endpoints) return run_endpoints(common, common.pki_dir);
    if (*browse) {
      if (browse_packml && browse->count("--depth") == 0) depth = 6;
      return run_browse(common, browse_node, depth, browse_packml, browse_csv);
    }
    if (*read) return run_read(common, read_nodes);
    if (*write) return run_write(common, write_node, write_value, write_type);
    if (*subscribe) return run_subscribe(common, subscribe_nodes, interval_ms, sampling_ms, count, duration_s, queue_size,
                                          summary_only);
  } catch (const ua::Error& e) {
    return fail(e.status(), std::string(e.what()).substr(std::min(std::string(e.what()).size(), ua::status_name(e.status()).size() + 2)));
  } catch (const std::exception& e) {
    return fail(ua::status::bad_unexpected_error, e.what());
  }
  return 2;
}

}  // namespace oee::cli
