#pragma once
// Runs `oee ARGS` to its end: its exit status, and what it wrote (stdout and stderr) in `out`.
#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace oee::testing {

inline int run_oee(const std::string& args, std::string& out) {
  out.clear();
  FILE* p = popen((std::string(OEE_BINARY) + " " + args + " 2>&1").c_str(), "r");
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace oee::testing
