#pragma once
// Handing the listening socket from one `oee serve` process to the next, so a restart refuses no
// connection: they wait in the socket's backlog while the new process starts. The protocol is
// systemd's socket activation (LISTEN_PID, LISTEN_FDS, the socket at descriptor 3), so the same
// code takes a socket from systemd (a .socket unit) and from the process an upgrade replaced.
#include <string>
#include <vector>

namespace oee::server {

// The listening socket handed to this process, or -1 when none was. Takes the variables out of
// the environment (no child inherits them) and marks the socket close-on-exec. Throws
// std::runtime_error when more than one socket was handed over or it is not a listening TCP socket.
int take_inherited_listener();

// Whether `program` can take over: `program serve --help` runs and exits 0. Returns why not ("" when it can).
std::string check_successor(const std::string& program);

// Replaces this process's image with `argv` (argv[0]: the program), handing `listen_fd` over at
// descriptor 3. Returns only when exec failed, with the reason.
std::string exec_with_listener(const std::vector<std::string>& argv, int listen_fd);

// The path of this process's executable, read at start (an upgrade replaces the file; the path stays).
std::string own_executable();

}  // namespace oee::server
