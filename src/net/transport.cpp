// The process transport, and the default (refusing) TLS upgrade.
#include "net/transport.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <system_error>

extern char** environ;

namespace parley::net {

void Transport::handshake(std::shared_ptr<ssl::context>, const ClientTlsOptions*,
                          DoneHandler done) {
  done(asio::error::operation_not_supported);
}

namespace {

// Reaps a child without blocking the loop: polls, then escalates to SIGTERM and SIGKILL.
void reap(asio::io_context& io, pid_t pid) {
  auto timer = std::make_shared<asio::steady_timer>(io);
  auto tries = std::make_shared<int>(0);
  auto step = std::make_shared<std::function<void()>>();
  *step = [timer, tries, step, pid] {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) != 0) {
      *step = nullptr;  // breaks the cycle
      return;
    }
    ++*tries;
    if (*tries == 50) kill(pid, SIGTERM);
    if (*tries == 100) kill(pid, SIGKILL);
    timer->expires_after(std::chrono::milliseconds(20));
    timer->async_wait([step](const error_code&) {
      if (*step) (*step)();
    });
  };
  (*step)();
}

class ProcessTransport final : public Transport {
 public:
  ProcessTransport(asio::io_context& io, int from_child, int to_child, pid_t pid)
      : io_(io), in_(io, from_child), out_(io, to_child), pid_(pid) {}
  ~ProcessTransport() override { close(); }

  void read_some(asio::mutable_buffer buffer, IoHandler handler) override {
    in_.async_read_some(buffer, std::move(handler));
  }
  void write_all(asio::const_buffer buffer, IoHandler handler) override {
    asio::async_write(out_, buffer, std::move(handler));
  }
  void cancel() override {
    error_code ec;
    in_.cancel(ec);
    out_.cancel(ec);
  }
  void close() override {
    error_code ec;
    in_.close(ec);
    out_.close(ec);
    if (pid_ > 0) reap(io_, pid_);
    pid_ = -1;
  }

 private:
  asio::io_context& io_;
  asio::posix::stream_descriptor in_;
  asio::posix::stream_descriptor out_;
  pid_t pid_;
};

}  // namespace

std::unique_ptr<Transport> spawn_process(asio::io_context& io,
                                         const std::vector<std::string>& argv) {
  if (argv.empty()) throw std::system_error(EINVAL, std::generic_category(), "empty command");
  int to_child[2];
  int from_child[2];
  if (pipe2(to_child, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category());
  if (pipe2(from_child, O_CLOEXEC) != 0) {
    int e = errno;
    close(to_child[0]);
    close(to_child[1]);
    throw std::system_error(e, std::generic_category());
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, to_child[0], 0);
  posix_spawn_file_actions_adddup2(&actions, from_child[1], 1);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(to_child[0]);
  close(from_child[1]);
  if (rc != 0) {
    close(to_child[1]);
    close(from_child[0]);
    throw std::system_error(rc, std::generic_category(), "cannot start " + argv[0]);
  }
  return std::make_unique<ProcessTransport>(io, from_child[0], to_child[1], pid);
}

}  // namespace parley::net
