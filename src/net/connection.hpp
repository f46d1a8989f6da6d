// A connection: a transport, the bytes received and not yet consumed, and one operation at a
// time bounded by a deadline. Knows nothing of Lua; completion handlers report an Outcome.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "framing/framing.hpp"
#include "net/transport.hpp"

namespace parley::net {

using Clock = std::chrono::steady_clock;

enum class End { done, eof, timeout, error, closed, woken };

struct Outcome {
  End end = End::done;
  std::string error;  ///< for End::error: what the system said
};

/// A read in progress: what it wants from the buffer and what happens when it ends, in one
/// object (a read that waits holds one allocation, not two std::functions and their captures:
/// memory per idle conversation).
class ReadWaiter {
 public:
  virtual ~ReadWaiter() = default;
  /// Takes what the reader wants from the buffer; true when satisfied. `eof` tells that no
  /// more bytes will come.
  virtual bool extract(framing::InputBuffer& in, bool eof) = 0;
  /// The read ended; `self` is this waiter (for what must outlive the call).
  virtual void done(std::shared_ptr<ReadWaiter> self, const Outcome& outcome) = 0;
};

class Connection;

/// The deadlines of an io_context's connections: a heap of the connections with an operation
/// in progress (or a TLS close under way), by deadline, and one timer for the earliest. A
/// connection takes no timer of its own (an asio::steady_timer and the wait it arms for every
/// read and write: ~230 bytes per waiting connection, an allocation and a cancellation per
/// operation), only its place in the heap. The timer is re-armed only when a deadline earlier
/// than the one it waits for comes (deadlines are mostly "now + the same timeout": later than
/// all before them); a connection whose operation ended just leaves the heap, and the timer,
/// when it fires early, waits again for the earliest still there. It is cancelled when the
/// heap empties: a pending wait is work that keeps io_context::run() from returning.
/// An asio service: one per io_context (asio::use_service), gone with it.
class Deadlines final : public asio::execution_context::service {
 public:
  using key_type = Deadlines;
  static asio::execution_context::id id;

  explicit Deadlines(asio::io_context& io);
  void add(Connection& c, Clock::time_point when);
  void remove(Connection& c);

 private:
  void shutdown() override;
  void arm();
  void fire(std::uint64_t generation);
  void sift_up(std::size_t i);
  void sift_down(std::size_t i);
  void place(std::size_t i, Connection* c);
  bool before(std::size_t a, std::size_t b) const;

  std::vector<Connection*> heap_;
  asio::steady_timer timer_;
  Clock::time_point armed_for_ = Clock::time_point::max();  ///< max: no wait pending
  std::uint64_t generation_ = 0;  ///< of the pending wait: an older one's handler does nothing
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using Done = std::function<void(const Outcome&)>;

  Connection(asio::io_context& io, std::unique_ptr<Transport> transport, std::string peer);
  ~Connection();

  /// Reads until `waiter` is satisfied, the peer closes, the deadline passes or an error.
  /// Call only when its extract() on the buffered bytes alone was not satisfied.
  void wait_for(Clock::time_point deadline, std::shared_ptr<ReadWaiter> waiter);
  void write(std::string bytes, Clock::time_point deadline, Done done);
  /// Writes what the transport takes at once, without waiting; returns how many bytes (the
  /// rest, if any, goes through write()). Call only when not busy.
  std::size_t write_now(std::string_view bytes);
  /// TLS handshake in place, client side when `client` is set.
  void handshake(std::shared_ptr<ssl::context> ctx, const ClientTlsOptions* client,
                 Clock::time_point deadline, Done done);
  /// Closes now; a TLS session is shut down gracefully in the background (bounded).
  /// Ends the connection: TLS says close_notify first (bounded); `reset` closes at once with
  /// a TCP reset instead (no FIN exchange, no TIME_WAIT left on the server).
  void close(bool reset = false);

  /// Ends a pending read at once with End::woken (bytes received so far stay buffered); with
  /// no read pending, the next wait_for ends so instead (see take_wake). Writes and
  /// handshakes are never interrupted.
  void wake();
  /// True (once) when a wake() arrived while no read was pending.
  bool take_wake() {
    bool w = wake_pending_;
    wake_pending_ = false;
    return w;
  }

  framing::InputBuffer& input() { return input_; }
  bool busy() const { return busy_; }
  bool closed() const { return closed_; }
  bool at_eof() const { return eof_; }
  Transport& transport() { return *transport_; }
  const std::string& peer() const { return peer_; }
  /// Bytes received from the peer so far (for "last bytes received" in failure reports).
  const std::string& recent() const { return recent_; }

 private:
  friend class Deadlines;
  static constexpr std::uint32_t kNoDeadline = UINT32_MAX;

  void begin(Clock::time_point deadline);
  /// The deadline passed (Deadlines): the operation ends with End::timeout, or the TLS close
  /// waited long enough.
  void expire();
  void finish(Done& done, Outcome outcome);
  void finish(std::shared_ptr<ReadWaiter> waiter, const Outcome& outcome);
  void read_more(std::shared_ptr<ReadWaiter> waiter);
  /// What a read brought (`n` bytes already committed to input_), or why it ended.
  void on_read(const error_code& ec, std::size_t n, std::shared_ptr<ReadWaiter> waiter);
  Outcome failure(const error_code& ec) const;

  std::unique_ptr<Transport> transport_;
  Deadlines& deadlines_;
  Clock::time_point deadline_;
  std::uint32_t heap_index_ = kNoDeadline;  ///< in deadlines_, or kNoDeadline
  framing::InputBuffer input_;
  std::string peer_;
  std::string recent_;
  std::uint32_t read_size_ = 1024;
  bool busy_ = false;
  bool closing_ = false;  ///< a TLS close is under way: its deadline closes the socket
  bool timed_out_ = false;
  bool closed_ = false;
  bool eof_ = false;
  bool reading_ = false;
  bool woken_ = false;
  bool wake_pending_ = false;
};

}  // namespace parley::net
