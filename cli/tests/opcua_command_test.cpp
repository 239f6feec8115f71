// `oee opcua ...` against a real node-opcua server (opcua/tests/peer/server.js): JSON lines on
// stdout, exit 0 on success, exit 2 with the status name on stderr on failure.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "opcua_peer.h"

namespace {

using nlohmann::json;
using oee::opcua::testing::OpcuaPeer;
using oee::opcua::testing::PeerOptions;

struct RunResult {
  int exit_code = -1;
  std::vector<json> lines;  // stdout, one JSON object per line
  std::string stdout_text;
  std::string stderr_text;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Child {
  pid_t pid = -1;
  std::string dir, out, err;
};

Child start_oee(std::vector<std::string> args) {
  char dir[] = "/tmp/oee-opcua-cli-XXXXXX";
  EXPECT_TRUE(::mkdtemp(dir));
  Child c{-1, dir, std::string(dir) + "/out", std::string(dir) + "/err"};
  args.insert(args.begin(), {OEE_BINARY, "opcua"});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  c.pid = ::fork();
  if (c.pid == 0) {
    const int out_fd = ::open(c.out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err_fd = ::open(c.err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return c;
}

RunResult wait_oee(const Child& c, bool json_lines = true) {
  // Bounded: a command that hangs is killed and fails the test with what it printed.
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  bool hung = false;
  while (::waitpid(c.pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      hung = true;
      ::kill(c.pid, SIGKILL);
      ::waitpid(c.pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_FALSE(hung) << "oee opcua did not end within 60 s; stderr: " << slurp(c.err);
  RunResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.stdout_text = slurp(c.out);
  std::istringstream lines(r.stdout_text);
  for (std::string line; json_lines && std::getline(lines, line);) {
    json j = json::parse(line, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << "not JSON: " << line;
    r.lines.push_back(std::move(j));
  }
  r.stderr_text = slurp(c.err);
  std::system(("rm -rf " + c.dir).c_str());
  return r;
}

RunResult run_oee(std::vector<std::string> args, bool json_lines = true) {
  return wait_oee(start_oee(std::move(args)), json_lines);
}

class OpcuaCommandTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    peer_ = new OpcuaPeer(PeerOptions{5, 200, false});
    peer_->start();
  }
  static void TearDownTestSuite() {
    delete peer_;
    peer_ = nullptr;
  }
  static inline OpcuaPeer* peer_ = nullptr;
};

TEST_F(OpcuaCommandTest, ReadPrintsOneJsonLinePerNode) {
  const auto r = run_oee({"read", peer_->url(), "--node", "ns=1;s=Scalar.LocalizedText", "--node", "ns=1;s=Array.Matrix",
                          "--node", "ns=1;s=Scalar.ByteString"});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  ASSERT_EQ(r.lines.size(), 3u);
  const json& text = r.lines[0];
  EXPECT_EQ(text["node"], "ns=1;s=Scalar.LocalizedText");
  EXPECT_EQ(text["type"], "LocalizedText");
  EXPECT_EQ(text["status"], "Good");
  EXPECT_EQ(text["value"]["text"], "Geschwindigkeit");
  EXPECT_TRUE(text["source_ts"].is_string());
  EXPECT_TRUE(text["server_ts"].is_string());
  EXPECT_EQ(r.lines[1]["value"], json({1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(r.lines[1]["dimensions"], json({2, 3}));
  EXPECT_EQ(r.lines[2]["value"], "AAEC/v8=");
}

TEST_F(OpcuaCommandTest, FailuresExit2WithTheStatusName) {
  const auto unknown = run_oee({"read", peer_->url(), "--node", "ns=1;s=Nope"});
  EXPECT_EQ(unknown.exit_code, 2);
  ASSERT_EQ(unknown.lines.size(), 1u);
  EXPECT_EQ(unknown.lines[0]["status"], "BadNodeIdUnknown");
  EXPECT_NE(unknown.stderr_text.find("BadNodeIdUnknown"), std::string::npos) << unknown.stderr_text;
  const auto syntax = run_oee({"read", peer_->url(), "--node", "ns=1"});
  EXPECT_EQ(syntax.exit_code, 2);
  EXPECT_NE(syntax.stderr_text.find("BadNodeIdInvalid"), std::string::npos) << syntax.stderr_text;
  const auto password = run_oee({"read", peer_->url(), "--node", "i=2258", "--user", "operator", "--password", "nope"});
  EXPECT_EQ(password.exit_code, 2);
  EXPECT_NE(password.stderr_text.find("BadUserAccessDenied"), std::string::npos) << password.stderr_text;
  const auto nobody = run_oee({"read", "opc.tcp://127.0.0.1:1", "--node", "i=2258"});
  EXPECT_EQ(nobody.exit_code, 2);
  EXPECT_NE(nobody.stderr_text.find("BadConnectionRejected"), std::string::npos) << nobody.stderr_text;
  EXPECT_EQ(run_oee({"read", "--help"}, false).exit_code, 0);
  EXPECT_EQ(run_oee({"frobnicate"}, false).exit_code, 2);
}

TEST_F(OpcuaCommandTest, WriteUsesTheNodesTypeAndReadsBack) {
  auto w = run_oee({"write", peer_->url(), "--node", "ns=1;s=Scalar.UInt16", "--value", "1234"});
  ASSERT_EQ(w.exit_code, 0) << w.stderr_text;
  EXPECT_EQ(w.lines.at(0)["status"], "Good");
  EXPECT_EQ(w.lines.at(0)["type"], "UInt16");
  auto r = run_oee({"read", peer_->url(), "--node", "ns=1;s=Scalar.UInt16", "--user", "operator", "--password", "secret"});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_EQ(r.lines.at(0)["value"], 1234);
  auto a = run_oee({"write", peer_->url(), "--node", "ns=1;s=Array.String", "--value", R"(["x","y"])"});
  ASSERT_EQ(a.exit_code, 0) << a.stderr_text;
  EXPECT_EQ(run_oee({"read", peer_->url(), "--node", "ns=1;s=Array.String"}).lines.at(0)["value"], json({"x", "y"}));
  auto bad = run_oee({"write", peer_->url(), "--node", "ns=1;s=Scalar.UInt16", "--value", "70000"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.stderr_text.find("BadTypeMismatch"), std::string::npos) << bad.stderr_text;
  auto typed = run_oee({"write", peer_->url(), "--node", "ns=1;s=Scalar.Boolean", "--value", "1.5", "--type", "Double"});
  EXPECT_EQ(typed.exit_code, 2);
  EXPECT_NE(typed.stderr_text.find("BadTypeMismatch"), std::string::npos) << typed.stderr_text;
}

TEST_F(OpcuaCommandTest, BrowseEndpointsAndSubscribe) {
  const auto b = run_oee({"browse", peer_->url(), "--node", "ns=1;s=OeeTest", "--depth", "2"});
  ASSERT_EQ(b.exit_code, 0) << b.stderr_text;
  bool found = false;
  for (const auto& line : b.lines) found |= line["node"] == "ns=1;s=Scalar.Boolean" && line["depth"] == 2;
  EXPECT_TRUE(found);
  const auto e = run_oee({"endpoints", peer_->url()});
  ASSERT_EQ(e.exit_code, 0) << e.stderr_text;
  bool none = false;
  for (const auto& line : e.lines) none |= line["security_mode"] == "None";
  EXPECT_TRUE(none);
  const auto s = run_oee({"subscribe", peer_->url(), "--node", "ns=1;s=Counter.0", "--node", "ns=1;s=Counter.1",
                          "--interval-ms", "200", "--count", "6"});
  ASSERT_EQ(s.exit_code, 0) << s.stderr_text;
  ASSERT_EQ(s.lines.size(), 6u);
  for (const auto& line : s.lines) {
    EXPECT_EQ(line["type"], "UInt32");
    EXPECT_EQ(line["status"], "Good");
  }
}

// SHA-1 of the DER of a PEM certificate file, as lowercase hex (computed here, not by oee).
std::string pem_thumbprint(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return "missing " + path;
  X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  if (!cert) return "unreadable " + path;
  unsigned char* der = nullptr;
  const int n = i2d_X509(cert, &der);
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(der, static_cast<size_t>(n), digest);
  OPENSSL_free(der);
  X509_free(cert);
  char hex[2 * SHA_DIGEST_LENGTH + 1];
  for (int i = 0; i < SHA_DIGEST_LENGTH; ++i) std::snprintf(hex + 2 * i, 3, "%02x", digest[i]);
  return hex;
}

// The server's real certificate goes through the PKI as a connection would check it: unknown at
// first (copied to rejected/), trusted once the file is moved to trusted/certs/.
TEST_F(OpcuaCommandTest, EndpointsListSecuredEndpointsAndVerifyTheServerCertificate) {
  namespace fs = std::filesystem;
  char dir[] = "/tmp/oee-opcua-pki-XXXXXX";
  ASSERT_TRUE(::mkdtemp(dir));
  const fs::path pki = dir;
  const std::string thumbprint = pem_thumbprint(peer_->certificate_file());
  const auto first = run_oee({"endpoints", "--endpoint", peer_->url(), "--pki-dir", pki.string()});
  ASSERT_EQ(first.exit_code, 0) << first.stderr_text;
  std::set<std::string> secured;
  int best = 0;
  for (const auto& line : first.lines) {
    const json& cert = line["server_certificate"];
    EXPECT_EQ(cert["thumbprint"], thumbprint) << line.dump();
    EXPECT_NE(cert["subject"].get<std::string>().find("CN = NodeOPCUA@"), std::string::npos) << line.dump();
    EXPECT_EQ(cert["application_uri"], json::array({line["server"]})) << line.dump();
    EXPECT_LT(cert["not_before"].get<std::string>(), cert["not_after"].get<std::string>());
    EXPECT_EQ(line["certificate_verification"]["status"], "BadCertificateUntrusted") << line.dump();
    EXPECT_FALSE(line["user_tokens"].empty());
    if (line["security_mode"] != "None") {
      secured.insert(line["security_mode"].get<std::string>() + " " + line["security_policy"].get<std::string>());
    }
    if (line["best"] == true) {
      ++best;
      EXPECT_EQ(line["security_mode"], "SignAndEncrypt");
      EXPECT_EQ(line["security_policy"], "http://opcfoundation.org/UA/SecurityPolicy#Aes256_Sha256_RsaPss");
    }
  }
  EXPECT_EQ(best, 1);
  for (const char* mode : {"Sign", "SignAndEncrypt"}) {
    for (const char* policy : {"Basic256Sha256", "Aes128_Sha256_RsaOaep", "Aes256_Sha256_RsaPss"}) {
      EXPECT_EQ(secured.count(std::string(mode) + " http://opcfoundation.org/UA/SecurityPolicy#" + policy), 1u)
          << mode << " " << policy;
    }
  }
  const fs::path rejected = pki / "rejected" / (thumbprint + ".der");
  ASSERT_TRUE(fs::exists(rejected));
  EXPECT_NE(first.lines.at(0)["certificate_verification"]["detail"].get<std::string>().find(rejected.string()),
            std::string::npos);

  fs::rename(rejected, pki / "trusted/certs" / rejected.filename());
  const auto trusted = run_oee({"endpoints", peer_->url(), "--pki-dir", pki.string()});
  ASSERT_EQ(trusted.exit_code, 0) << trusted.stderr_text;
  ASSERT_EQ(trusted.lines.size(), first.lines.size());
  for (const auto& line : trusted.lines) EXPECT_EQ(line["certificate_verification"]["status"], "Good") << line.dump();

  const auto no_url = run_oee({"endpoints"});
  EXPECT_EQ(no_url.exit_code, 2);
  EXPECT_NE(no_url.stderr_text.find("--endpoint"), std::string::npos) << no_url.stderr_text;
  fs::remove_all(pki);
}

// Issue 15: a matrix goes out with its ArrayDimensions (a flat array would be BadTypeMismatch).
TEST_F(OpcuaCommandTest, WritesAMatrixWithItsDimensions) {
  auto rows = run_oee({"write", peer_->url(), "--node", "ns=1;s=Array.Matrix", "--value", "[[6,5,4],[3,2,1]]"});
  ASSERT_EQ(rows.exit_code, 0) << rows.stderr_text;
  auto r = run_oee({"read", peer_->url(), "--node", "ns=1;s=Array.Matrix"});
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  EXPECT_EQ(r.lines.at(0)["value"], json({6, 5, 4, 3, 2, 1}));
  EXPECT_EQ(r.lines.at(0)["dimensions"], json({2, 3}));
  // A flat array of the matrix's size takes the node's dimensions.
  auto flat = run_oee({"write", peer_->url(), "--node", "ns=1;s=Array.Matrix", "--value", "[1,2,3,4,5,6]"});
  ASSERT_EQ(flat.exit_code, 0) << flat.stderr_text;
  EXPECT_EQ(run_oee({"read", peer_->url(), "--node", "ns=1;s=Array.Matrix"}).lines.at(0)["value"], json({1, 2, 3, 4, 5, 6}));
  auto ragged = run_oee({"write", peer_->url(), "--node", "ns=1;s=Array.Matrix", "--value", "[[1,2,3],[4,5]]"});
  EXPECT_EQ(ragged.exit_code, 2);
  EXPECT_NE(ragged.stderr_text.find("same length"), std::string::npos) << ragged.stderr_text;
  auto short_flat = run_oee({"write", peer_->url(), "--node", "ns=1;s=Array.Matrix", "--value", "[1,2]"});
  EXPECT_EQ(short_flat.exit_code, 2);
  EXPECT_NE(short_flat.stderr_text.find("matrix of 6 values"), std::string::npos) << short_flat.stderr_text;
}

// Issue 15: `subscribe --duration-s` ends 0 when the connection is up, 3 when it dropped for good.
TEST(OpcuaSubscribeExit, LostConnectionExits3CleanEndExits0) {
  OpcuaPeer peer(PeerOptions{2, 200, false});
  peer.start();
  const auto clean = run_oee({"subscribe", peer.url(), "--node", "ns=1;s=Counter.0", "--interval-ms", "200",
                              "--duration-s", "1"});
  EXPECT_EQ(clean.exit_code, 0) << clean.stderr_text;
  EXPECT_FALSE(clean.lines.empty());
  const Child c = start_oee({"subscribe", peer.url(), "--node", "ns=1;s=Counter.0", "--interval-ms", "200",
                             "--duration-s", "4"});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (slurp(c.err).find("\"subscribed\"") == std::string::npos && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  peer.kill_hard();
  const auto lost = wait_oee(c);
  EXPECT_EQ(lost.exit_code, 3) << lost.stderr_text;
  EXPECT_NE(lost.stderr_text.find("connection_lost"), std::string::npos) << lost.stderr_text;
  EXPECT_NE(lost.stderr_text.find("did not come back"), std::string::npos) << lost.stderr_text;
}

// `oee edge --config FILE --check` with a tags_csv table: the exit code and what it printed.
std::pair<int, std::string> edge_check_with_tags(const std::string& csv) {
  char dir[] = "/tmp/oee-opcua-csv-XXXXXX";
  EXPECT_TRUE(::mkdtemp(dir));
  const std::string d = dir;
  std::ofstream(d + "/plant.yaml") << "timezone: UTC\nsites: [{id: p, areas: [{id: a, lines: [{id: l, machines: "
                                      "[{id: packer, ideal_cycle_time_s: 1, states: packml}]}]}]}]\n";
  std::ofstream(d + "/tags.csv") << csv;
  std::ofstream(d + "/edge.yaml") << "id: e1\ndata_dir: " << d << "/data\nmqtt: {brokers: [\"mqtt://127.0.0.1:1\"]}\n"
                                  << "plant: plant.yaml\nsources:\n  - {type: opcua, endpoint: \"opc.tcp://127.0.0.1:1\", "
                                     "tags_csv: tags.csv}\n";
  const std::string cmd = std::string(OEE_BINARY) + " edge --config " + d + "/edge.yaml --check > " + d + "/out 2>&1";
  const int status = std::system(cmd.c_str());
  const std::string out = slurp(d + "/out");
  std::system(("rm -rf " + d).c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

std::string fill_machine(std::string csv) {
  for (size_t at = 0; (at = csv.find(",,", at)) != std::string::npos;) csv.replace(at, 2, ",p/a/l/packer,");
  return csv;
}

// Issue 15: `browse --packml` finds the PackML object by its PackTags structure (not its node ids)
// and prints the preset's tags; with --csv a table the edge loads once the machine is filled in.
TEST_F(OpcuaCommandTest, BrowsePackmlFindsThePackTagsOfEachPackmlObject) {
  const auto r = run_oee({"browse", peer_->url(), "--packml"});  // from Objects, 6 levels down
  ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
  std::map<std::string, std::pair<std::string, std::string>> tags;  // tag -> node, signal
  for (const auto& line : r.lines) {
    EXPECT_EQ(line["object"], "ns=1;s=Packer");  // not the Conveyor beside it
    EXPECT_EQ(line["object_name"], "OeeTest.Line1.Packer");
    tags[line["tag"]] = {line["node"], line["signal"]};
  }
  ASSERT_EQ(tags.size(), 6u) << r.stdout_text;
  EXPECT_EQ(tags["Status.StateCurrent"], std::make_pair(std::string("ns=1;i=7011"), std::string("state")));
  EXPECT_EQ(tags["Admin.ProdProcessedCount.AccCount"], std::make_pair(std::string("ns=1;i=7014"), std::string("counter:total")));
  // The server flattens the array: ProdDefectiveCount[0].AccCount.
  EXPECT_EQ(tags["Admin.ProdDefectiveCount.AccCount"], std::make_pair(std::string("ns=1;i=7015"), std::string("counter:reject")));
  EXPECT_EQ(tags["Admin.StopReason.ID"], std::make_pair(std::string("ns=1;i=7016"), std::string("reason")));
  EXPECT_EQ(tags["Status.MachSpeed"].second, "sample:MachSpeed");
  EXPECT_EQ(tags["Status.CurMachSpeed"].second, "sample:CurMachSpeed");
  // Too shallow a search finds nothing, and says so.
  const auto shallow = run_oee({"browse", peer_->url(), "--packml", "--depth", "2"});
  EXPECT_EQ(shallow.exit_code, 0);
  EXPECT_TRUE(shallow.lines.empty());
  EXPECT_NE(shallow.stderr_text.find("no PackML object"), std::string::npos) << shallow.stderr_text;

  const auto csv = run_oee({"browse", peer_->url(), "--packml", "--csv"}, false);
  ASSERT_EQ(csv.exit_code, 0) << csv.stderr_text;
  EXPECT_EQ(csv.stdout_text.rfind("node,machine,signal\n", 0), 0u) << csv.stdout_text;
  EXPECT_NE(csv.stdout_text.find("\"ns=1;i=7015\",,counter:reject\n"), std::string::npos) << csv.stdout_text;
  const auto filled = edge_check_with_tags(fill_machine(csv.stdout_text));
  EXPECT_EQ(filled.first, 0) << filled.second;
}

// Issue 15: `browse --csv` writes a tags_csv skeleton of the variables below a node; the edge
// refuses it until machine and signal are filled in, and loads it then.
TEST_F(OpcuaCommandTest, BrowseCsvWritesATagsCsvSkeletonForTheEdge) {
  const auto csv = run_oee({"browse", peer_->url(), "--node", "ns=1;s=Scalars", "--csv"}, false);
  ASSERT_EQ(csv.exit_code, 0) << csv.stderr_text;
  EXPECT_NE(csv.stdout_text.find("\nnode,machine,signal\n"), std::string::npos) << csv.stdout_text;
  EXPECT_NE(csv.stdout_text.find("# Int32\n\"ns=1;s=Scalar.Int32\",,\n"), std::string::npos) << csv.stdout_text;
  const auto unfilled = edge_check_with_tags(csv.stdout_text);
  EXPECT_NE(unfilled.first, 0);
  EXPECT_NE(unfilled.second.find("tags.csv:4: tag: missing 'machine'"), std::string::npos) << unfilled.second;
  std::string filled = fill_machine(csv.stdout_text);
  for (size_t at = 0; (at = filled.find("packer,\n", at)) != std::string::npos;) filled.replace(at, 8, "packer,sample\n");
  const auto ok = edge_check_with_tags(filled);
  EXPECT_EQ(ok.first, 0) << ok.second;
}

}  // namespace

// Secured endpoints only: the security flags take effect, and their misuse is a clear error.
class OpcuaCommandSecurityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    PeerOptions o{1, 200, false};
    o.security_policies = "Basic256Sha256";
    o.security_modes = "SignAndEncrypt";
    peer_ = new OpcuaPeer(o);
    peer_->start();
    char dir[] = "/tmp/oee-opcua-cli-pki-XXXXXX";
    ASSERT_TRUE(::mkdtemp(dir));
    dir_ = dir;
    const std::string command =
        "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=oee-cli-test"
        " -addext subjectAltName=URI:urn:oee:opcua:client"
        " -addext keyUsage=digitalSignature,nonRepudiation,keyEncipherment,dataEncipherment"
        " -addext extendedKeyUsage=clientAuth -keyout " + dir_ + "/key.pem -out " + dir_ + "/cert.pem 2>/dev/null";
    ASSERT_EQ(std::system(command.c_str()), 0);
  }
  static void TearDownTestSuite() {
    delete peer_;
    peer_ = nullptr;
    std::system(("rm -rf " + dir_).c_str());
  }
  static inline OpcuaPeer* peer_ = nullptr;
  static inline std::string dir_;
};

TEST_F(OpcuaCommandSecurityTest, SecurityFlagsConnectAndMisuseIsAClearError) {
  const std::string node = "ns=1;s=Scalar.String";
  const auto ok = run_oee({"read", peer_->url(), "--node", node, "--security-policy", "Basic256Sha256", "--security-mode",
                           "SignAndEncrypt", "--certificate", dir_ + "/cert.pem", "--private-key", dir_ + "/key.pem"});
  ASSERT_EQ(ok.exit_code, 0) << ok.stderr_text;
  ASSERT_EQ(ok.lines.size(), 1u);
  EXPECT_EQ(ok.lines[0]["value"], "Linie 1 – Zustand");

  const auto best = run_oee({"read", peer_->url(), "--node", node, "--security-policy", "best", "--user", "operator",
                             "--password", "secret", "--certificate", dir_ + "/cert.pem", "--private-key", dir_ + "/key.pem"});
  EXPECT_EQ(best.exit_code, 0) << best.stderr_text;

  const auto none = run_oee({"read", peer_->url(), "--node", node});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.stderr_text.find("it offers: Basic256Sha256/SignAndEncrypt"), std::string::npos) << none.stderr_text;

  const auto sign = run_oee({"read", peer_->url(), "--node", node, "--security-policy", "Basic256Sha256", "--security-mode",
                             "Sign", "--certificate", dir_ + "/cert.pem", "--private-key", dir_ + "/key.pem"});
  EXPECT_EQ(sign.exit_code, 2);
  EXPECT_NE(sign.stderr_text.find("no endpoint with Basic256Sha256/Sign"), std::string::npos) << sign.stderr_text;

  // A mode, a PKI or a certificate without a policy would be ignored: refused, so nothing runs in
  // plain text while its configuration asks for encryption.
  for (const std::vector<std::string>& flags : {std::vector<std::string>{"--security-mode", "SignAndEncrypt"},
                                                {"--pki-dir", dir_ + "/pki-none"},
                                                {"--certificate", dir_ + "/cert.pem", "--private-key", dir_ + "/key.pem"}}) {
    std::vector<std::string> args = {"read", peer_->url(), "--node", node};
    args.insert(args.end(), flags.begin(), flags.end());
    const auto plain = run_oee(args);
    EXPECT_EQ(plain.exit_code, 2) << flags[0];
    EXPECT_NE(plain.stderr_text.find("have no effect with --security-policy None"), std::string::npos) << plain.stderr_text;
  }

  const auto password_alone = run_oee({"read", peer_->url(), "--node", node, "--password", "secret"});
  EXPECT_EQ(password_alone.exit_code, 2);
  EXPECT_NE(password_alone.stderr_text.find("--password needs --user"), std::string::npos) << password_alone.stderr_text;
  const auto two_identities = run_oee({"read", peer_->url(), "--node", node, "--user", "operator", "--password", "secret",
                                       "--user-certificate", dir_ + "/cert.pem", "--user-private-key", dir_ + "/key.pem"});
  EXPECT_EQ(two_identities.exit_code, 2);
  EXPECT_NE(two_identities.stderr_text.find("not both"), std::string::npos) << two_identities.stderr_text;

  const auto no_cert = run_oee({"read", peer_->url(), "--node", node, "--security-policy", "Basic256Sha256"});
  EXPECT_EQ(no_cert.exit_code, 2);
  EXPECT_NE(no_cert.stderr_text.find("needs --pki-dir or --certificate and --private-key"), std::string::npos) << no_cert.stderr_text;

  // --pki-dir: our certificate made on first use; the unknown server certificate goes to rejected/
  // and fails the connection until it is moved to trusted/certs/.
  const std::string pki = dir_ + "/pki";
  const auto untrusted = run_oee({"read", peer_->url(), "--node", node, "--security-policy", "best", "--pki-dir", pki});
  EXPECT_EQ(untrusted.exit_code, 2);
  EXPECT_NE(untrusted.stderr_text.find("BadCertificateUntrusted"), std::string::npos) << untrusted.stderr_text;
  ASSERT_TRUE(std::filesystem::exists(pki + "/own/certs/client_cert.der"));
  std::vector<std::filesystem::path> rejected;
  for (const auto& f : std::filesystem::directory_iterator(pki + "/rejected")) rejected.push_back(f.path());
  ASSERT_EQ(rejected.size(), 1u) << untrusted.stderr_text;
  std::filesystem::rename(rejected[0], pki + "/trusted/certs/" + rejected[0].filename().string());
  const auto trusted = run_oee({"read", peer_->url(), "--node", node, "--security-policy", "best", "--pki-dir", pki});
  EXPECT_EQ(trusted.exit_code, 0) << trusted.stderr_text;

  const auto deprecated = run_oee({"read", peer_->url(), "--node", node, "--security-policy", "Basic128Rsa15",
                                   "--certificate", dir_ + "/cert.pem", "--private-key", dir_ + "/key.pem"});
  EXPECT_EQ(deprecated.exit_code, 2);
  EXPECT_NE(deprecated.stderr_text.find("deprecated"), std::string::npos) << deprecated.stderr_text;
}
