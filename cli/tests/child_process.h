#pragma once
// Starts a program as a child process for a test, with its output in a file, and stops it (SIGTERM,
// or SIGKILL to simulate a crash) when asked or when the test ends.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace oee::testing {

class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, const std::string& output_file) : output_file_(output_file) {
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setpgid(0, 0);
      const int fd = ::open(output_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
  }
  ~ChildProcess() { kill(SIGKILL); }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Sends the signal and waits for the exit; returns the exit status (-signal when killed).
  int kill(int signal) {
    if (pid_ <= 0) return status_;
    ::kill(pid_, signal);
    return wait();
  }

  // Waits for the child to exit by itself; returns the exit status (-signal when killed).
  int wait() {
    if (pid_ <= 0) return status_;
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    status_ = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    return status_;
  }

  pid_t pid() const { return pid_; }

  // Sends the signal without waiting (e.g. SIGHUP to a server that keeps running).
  void signal(int signal) const {
    if (pid_ > 0) ::kill(pid_, signal);
  }

  std::string output() const {
    std::ifstream in(output_file_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  // Waits until the output contains `text` (or the time runs out); returns whether it does.
  bool wait_for_output(const std::string& text, std::chrono::milliseconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (output().find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

 private:
  pid_t pid_ = -1;
  int status_ = 0;
  std::string output_file_;
};

}  // namespace oee::testing
