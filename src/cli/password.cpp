#include "cli/password.hpp"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "cli/cli.hpp"

namespace parley::cli {

std::optional<std::string> ask_password(const std::string& prompt, bool or_stdin) {
  int fd = ::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
  bool tty = fd >= 0;
  if (!tty && !or_stdin) return std::nullopt;
  if (!tty) fd = STDIN_FILENO;
  termios saved{};
  bool restore = tty && tcgetattr(fd, &saved) == 0;
  if (restore) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;
    tcsetattr(fd, TCSAFLUSH, &quiet);
  }
  if (tty) {
    [[maybe_unused]] auto w = ::write(fd, prompt.data(), prompt.size());
  }
  std::string line;
  bool ended = false;
  for (;;) {
    char ch = 0;
    ssize_t n = ::read(fd, &ch, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ended = line.empty();
      break;
    }
    if (ch == '\n' || ch == '\r') break;
    if (line.size() < 4096) line.push_back(ch);
  }
  if (restore) tcsetattr(fd, TCSAFLUSH, &saved);
  if (tty) ::close(fd);
  if (ended) return std::nullopt;
  return line;
}

std::string read_password_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError("cannot read the password file " + path + ": " + std::strerror(errno));
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) throw UsageError("the password file " + path + " is empty");
  return line;
}

}  // namespace parley::cli
