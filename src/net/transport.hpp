// Byte streams a conversation runs over: TCP, unix sockets (both upgradable to TLS in place)
// and a spawned program's stdin/stdout.
#pragma once

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <functional>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "net/tls.hpp"

namespace parley::net {

namespace asio = boost::asio;
using boost::system::error_code;
using IoHandler = std::function<void(const error_code&, std::size_t)>;
using DoneHandler = std::function<void(const error_code&)>;

class Transport {
 public:
  virtual ~Transport() = default;
  virtual void read_some(asio::mutable_buffer buffer, IoHandler handler) = 0;
  /// Writes every byte, or fails.
  virtual void write_all(asio::const_buffer buffer, IoHandler handler) = 0;
  /// Aborts pending operations; they complete with operation_aborted.
  virtual void cancel() = 0;
  virtual void close() = 0;
  /// Closes at once with a reset where the transport has one (TCP: SO_LINGER 0).
  virtual void abort() { close(); }
  /// Bytes the kernel holds that were not read yet (best effort).
  virtual std::size_t available() { return 0; }
  /// Writes what the kernel takes at once, without waiting (0 when it takes nothing, on an
  /// error, or when the transport cannot: the caller then writes asynchronously).
  virtual std::size_t write_now(asio::const_buffer) { return 0; }
  /// True when wait_readable() and read_now() work: a plain socket. (A TLS stream keeps
  /// bytes inside OpenSSL that a socket readiness wait cannot see.)
  virtual bool can_wait_readable() const { return false; }
  /// Waits until the socket has bytes (or end of stream, or an error) without a buffer: an
  /// idle conversation holds no read buffer while it waits.
  virtual void wait_readable(DoneHandler handler) { handler(asio::error::operation_not_supported); }
  /// Reads what has arrived without waiting; `ec` is would_block when nothing has.
  virtual std::size_t read_now(asio::mutable_buffer, error_code& ec) {
    ec = asio::error::operation_not_supported;
    return 0;
  }

  virtual bool can_tls() const { return false; }
  virtual bool is_tls() const { return false; }
  /// Moves the live stream under TLS and runs the handshake (client when `client` is set).
  virtual void handshake(std::shared_ptr<ssl::context> ctx, const ClientTlsOptions* client,
                         DoneHandler done);
  virtual void tls_shutdown(DoneHandler done) { done({}); }
  virtual SSL* native_ssl() { return nullptr; }
};

/// TCP or unix stream socket, plain until handshake() puts it under TLS.
template <typename Socket>
class SocketTransport final : public Transport {
 public:
  explicit SocketTransport(Socket socket) : plain_(std::move(socket)) {}

  void read_some(asio::mutable_buffer buffer, IoHandler handler) override {
    if (tls_) {
      tls_->async_read_some(buffer, std::move(handler));
    } else {
      plain_->async_read_some(buffer, std::move(handler));
    }
  }
  void write_all(asio::const_buffer buffer, IoHandler handler) override {
    if (tls_) {
      if (quick_acks_ > 0) {
        --quick_acks_;
        // Once the command is out: a send is what makes the kernel delay its ACKs.
        asio::async_write(
            *tls_, buffer,
            [this, handler = std::move(handler)](const error_code& ec, std::size_t n) mutable {
              if (!ec) quick_ack();
              handler(ec, n);
            });
        return;
      }
      asio::async_write(*tls_, buffer, std::move(handler));
    } else {
      asio::async_write(*plain_, buffer, std::move(handler));
    }
  }
  void cancel() override {
    error_code ec;
    lowest().cancel(ec);
  }
  void close() override {
    error_code ec;
    lowest().close(ec);
  }
  void abort() override {
    error_code ec;
    lowest().set_option(asio::socket_base::linger(true, 0), ec);
    lowest().close(ec);
  }
  std::size_t available() override {
    error_code ec;
    std::size_t n = lowest().available(ec);
    return ec ? 0 : n;
  }
  std::size_t write_now(asio::const_buffer buffer) override {
    if (tls_) return 0;  // a TLS record must not be cut short: asynchronous writes only
    error_code ec;
    if (!plain_->non_blocking()) plain_->non_blocking(true, ec);
    std::size_t n = ec ? 0 : plain_->write_some(buffer, ec);
    return ec ? 0 : n;
  }
  bool can_wait_readable() const override { return tls_ == nullptr; }
  void wait_readable(DoneHandler handler) override {
    plain_->async_wait(Socket::wait_read, std::move(handler));
  }
  std::size_t read_now(asio::mutable_buffer buffer, error_code& ec) override {
    if (tls_) {
      ec = asio::error::operation_not_supported;
      return 0;
    }
    if (!plain_->non_blocking()) plain_->non_blocking(true, ec);
    return ec ? 0 : plain_->read_some(buffer, ec);
  }
  bool can_tls() const override { return true; }
  bool is_tls() const override { return tls_ != nullptr; }
  void handshake(std::shared_ptr<ssl::context> ctx, const ClientTlsOptions* client,
                 DoneHandler done) override {
    ctx_ = std::move(ctx);
    tls_ = std::make_unique<ssl::stream<Socket>>(std::move(*plain_), *ctx_);
    plain_.reset();
    if (client != nullptr) prepare_client(tls_->native_handle(), *client);
    bool client_side = client != nullptr;
    tls_->async_handshake(client_side ? ssl::stream_base::client : ssl::stream_base::server,
                          [this, client_side, done = std::move(done)](const error_code& ec) {
                            if (!ec && client_side) quick_acks_ = 2;
                            done(ec);
                          });
  }
  void tls_shutdown(DoneHandler done) override {
    if (!tls_) return done({});
    tls_->async_shutdown(std::move(done));
  }
  SSL* native_ssl() override { return tls_ ? tls_->native_handle() : nullptr; }

 private:
  Socket& lowest() { return tls_ ? tls_->next_layer() : *plain_; }
  // After a client handshake a TLS 1.3 server sends its session tickets, while the client
  // sends its first command. Acknowledged late (the kernel delays ACKs on a connection that
  // sends), they hold back the server's reply for 40 ms when it does not set TCP_NODELAY
  // (Postfix, for one): ask for quick acknowledgements as the first commands go out.
  void quick_ack() {
    if constexpr (std::is_same_v<Socket, asio::ip::tcp::socket>) {
      int one = 1;
      ::setsockopt(lowest().native_handle(), IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
    }
  }

  std::optional<Socket> plain_;
  int quick_acks_ = 0;  ///< writes after a client handshake still to ask for quick ACKs
  std::shared_ptr<ssl::context> ctx_;
  std::unique_ptr<ssl::stream<Socket>> tls_;
};

using TcpTransport = SocketTransport<asio::ip::tcp::socket>;
using UnixTransport = SocketTransport<asio::local::stream_protocol::socket>;

/// Starts `argv` with its stdin and stdout connected to a transport (stderr is inherited).
/// Throws std::system_error when the program cannot be started.
std::unique_ptr<Transport> spawn_process(asio::io_context& io,
                                         const std::vector<std::string>& argv);

}  // namespace parley::net
