// Deadline-bounded reads, writes and handshakes on one transport.
#include "net/connection.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>

namespace parley::net {

namespace {
constexpr std::size_t kRecentMax = 256;
constexpr std::size_t kReadMax = 256 * 1024;
constexpr auto kTlsShutdownLimit = std::chrono::seconds(2);
}  // namespace

//---------------------------------------------------------------------------------------------
// Deadlines

asio::execution_context::id Deadlines::id;

Deadlines::Deadlines(asio::io_context& io) : asio::execution_context::service(io), timer_(io) {}

// The io_context is going away: its handlers are destroyed (and with them connections) after
// this, and this before them; the connections still in the heap forget their place.
void Deadlines::shutdown() {
  for (Connection* c : heap_) c->heap_index_ = Connection::kNoDeadline;
  heap_.clear();
}

bool Deadlines::before(std::size_t a, std::size_t b) const {
  return heap_[a]->deadline_ < heap_[b]->deadline_;
}

void Deadlines::place(std::size_t i, Connection* c) {
  heap_[i] = c;
  c->heap_index_ = static_cast<std::uint32_t>(i);
}

void Deadlines::sift_up(std::size_t i) {
  Connection* c = heap_[i];
  while (i > 0) {
    std::size_t parent = (i - 1) / 2;
    if (!(c->deadline_ < heap_[parent]->deadline_)) break;
    place(i, heap_[parent]);
    i = parent;
  }
  place(i, c);
}

void Deadlines::sift_down(std::size_t i) {
  Connection* c = heap_[i];
  std::size_t n = heap_.size();
  for (;;) {
    std::size_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && before(child + 1, child)) ++child;
    if (!(heap_[child]->deadline_ < c->deadline_)) break;
    place(i, heap_[child]);
    i = child;
  }
  place(i, c);
}

void Deadlines::add(Connection& c, Clock::time_point when) {
  if (c.heap_index_ != Connection::kNoDeadline) remove(c);
  c.deadline_ = when;
  heap_.push_back(&c);
  sift_up(heap_.size() - 1);
  if (when < armed_for_) arm();
}

void Deadlines::remove(Connection& c) {
  std::size_t i = c.heap_index_;
  if (i == Connection::kNoDeadline) return;
  c.heap_index_ = Connection::kNoDeadline;
  Connection* last = heap_.back();
  heap_.pop_back();
  if (heap_.empty() && armed_for_ != Clock::time_point::max()) {
    // Nothing left to time: a pending wait would keep io_context::run() from returning.
    armed_for_ = Clock::time_point::max();
    ++generation_;
    timer_.cancel();
  }
  if (last == &c) return;
  place(i, last);
  if (i > 0 && last->deadline_ < heap_[(i - 1) / 2]->deadline_) {
    sift_up(i);
  } else {
    sift_down(i);
  }
}

// Waits for the earliest deadline (the timer's earlier wait, if any, ends as cancelled).
void Deadlines::arm() {
  if (heap_.empty()) return;
  armed_for_ = heap_.front()->deadline_;
  timer_.expires_at(armed_for_);
  timer_.async_wait([this, generation = ++generation_](const error_code& ec) {
    if (!ec) fire(generation);
  });
}

void Deadlines::fire(std::uint64_t generation) {
  if (generation != generation_) return;  // a later arm() waits instead
  armed_for_ = Clock::time_point::max();
  Clock::time_point now = Clock::now();
  while (!heap_.empty() && heap_.front()->deadline_ <= now) {
    Connection* c = heap_.front();
    remove(*c);
    c->expire();  // cancels the transport's operations: their handlers run later
  }
  arm();
}

//---------------------------------------------------------------------------------------------
// Connection

Connection::Connection(asio::io_context& io, std::unique_ptr<Transport> transport, std::string peer)
    : transport_(std::move(transport)),
      deadlines_(asio::use_service<Deadlines>(io)),
      peer_(std::move(peer)) {}

Connection::~Connection() {
  deadlines_.remove(*this);
  if (!closed_) transport_->close();
}

void Connection::begin(Clock::time_point deadline) {
  busy_ = true;
  timed_out_ = false;
  woken_ = false;
  deadlines_.add(*this, deadline);
}

void Connection::expire() {
  if (closing_) {
    transport_->close();
    return;
  }
  if (!busy_) return;
  timed_out_ = true;
  transport_->cancel();
}

void Connection::finish(Done& done, Outcome outcome) {
  busy_ = false;
  reading_ = false;
  deadlines_.remove(*this);
  done(outcome);
}

void Connection::finish(std::shared_ptr<ReadWaiter> waiter, const Outcome& outcome) {
  busy_ = false;
  reading_ = false;
  deadlines_.remove(*this);
  ReadWaiter& w = *waiter;
  w.done(std::move(waiter), outcome);
}

Outcome Connection::failure(const error_code& ec) const {
  if (closed_) return {End::closed, {}};
  if (woken_) return {End::woken, {}};
  if (timed_out_) return {End::timeout, {}};
  if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) return {End::eof, {}};
  return {End::error, ec.message()};
}

void Connection::wait_for(Clock::time_point deadline, std::shared_ptr<ReadWaiter> waiter) {
  if (closed_) {
    ReadWaiter& w = *waiter;
    return w.done(std::move(waiter), {End::closed, {}});
  }
  begin(deadline);
  reading_ = true;
  read_more(std::move(waiter));
}

void Connection::wake() {
  if (closed_) return;
  if (!reading_) {
    wake_pending_ = true;
    return;
  }
  if (woken_) return;
  woken_ = true;
  transport_->cancel();
}

void Connection::read_more(std::shared_ptr<ReadWaiter> waiter) {
  if (eof_) {
    // Nothing more will come: let the extractor take a partial unit, else report the end.
    bool taken = waiter->extract(input_, true);
    return finish(std::move(waiter), taken ? Outcome{} : Outcome{End::eof, {}});
  }
  if (input_.empty() && transport_->can_wait_readable()) {
    // Nothing held: wait for the socket to have bytes before taking a buffer for them, so
    // that ten thousand conversations waiting for a reply hold no read buffers.
    input_.release_if_empty();
    transport_->wait_readable(
        [self = shared_from_this(), waiter = std::move(waiter)](const error_code& ec) mutable {
          if (ec) return self->on_read(ec, 0, std::move(waiter));
          error_code rec;
          char* room = self->input_.prepare(self->read_size_);
          std::size_t n = self->transport_->read_now(asio::buffer(room, self->read_size_), rec);
          self->input_.commit(n);
          if (rec == asio::error::would_block || rec == asio::error::try_again) {
            rec.clear();  // readable, and yet nothing: wait again
          }
          self->on_read(rec, n, std::move(waiter));
        });
    return;
  }
  char* room = input_.prepare(read_size_);
  transport_->read_some(asio::buffer(room, read_size_),
                        [self = shared_from_this(), waiter = std::move(waiter)](
                            const error_code& ec, std::size_t n) mutable {
                          self->input_.commit(n);
                          self->on_read(ec, n, std::move(waiter));
                        });
}

void Connection::on_read(const error_code& ec, std::size_t n, std::shared_ptr<ReadWaiter> waiter) {
  if (n > 0) {
    std::string_view got = input_.view().substr(input_.size() - n);
    recent_.append(got.substr(got.size() > kRecentMax ? got.size() - kRecentMax : 0));
    if (recent_.size() > kRecentMax) recent_.erase(0, recent_.size() - kRecentMax);
    if (n == read_size_ && read_size_ < kReadMax) read_size_ *= 2;
  }
  if (closed_) return finish(std::move(waiter), {End::closed, {}});
  if (n > 0 && waiter->extract(input_, false)) return finish(std::move(waiter), {});
  if (ec) {
    Outcome out = failure(ec);
    if (out.end == End::eof) {
      eof_ = true;
      return read_more(std::move(waiter));
    }
    return finish(std::move(waiter), out);
  }
  if (woken_) return finish(std::move(waiter), {End::woken, {}});
  if (timed_out_) return finish(std::move(waiter), {End::timeout, {}});
  read_more(std::move(waiter));
}

void Connection::write(std::string bytes, Clock::time_point deadline, Done done) {
  if (closed_) return done({End::closed, {}});
  begin(deadline);
  auto data = std::make_shared<std::string>(std::move(bytes));
  transport_->write_all(asio::buffer(*data),
                        [self = shared_from_this(), data, done = std::move(done)](
                            const error_code& ec, std::size_t) mutable {
                          self->finish(done, ec ? self->failure(ec) : Outcome{});
                        });
}

std::size_t Connection::write_now(std::string_view bytes) {
  if (closed_ || busy_ || bytes.empty()) return 0;
  return transport_->write_now(asio::buffer(bytes.data(), bytes.size()));
}

void Connection::handshake(std::shared_ptr<ssl::context> ctx, const ClientTlsOptions* client,
                           Clock::time_point deadline, Done done) {
  if (closed_) return done({End::closed, {}});
  begin(deadline);
  transport_->handshake(
      std::move(ctx), client,
      [self = shared_from_this(), done = std::move(done)](const error_code& ec) mutable {
        Outcome out;
        if (ec) {
          out = self->failure(ec);
          if (out.end == End::error || out.end == End::eof) {
            out.end = End::error;
            out.error = ec.message();
            std::string more = openssl_errors();
            if (more != "unknown OpenSSL error" && more.find(out.error) == std::string::npos) {
              out.error += " (" + more + ")";
            }
            if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) {
              out.error = "the peer closed the connection during the handshake";
            }
          }
        }
        self->finish(done, out);
      });
}

void Connection::close(bool reset) {
  if (closed_) return;
  closed_ = true;
  if (reset) {
    transport_->cancel();
    transport_->abort();
    return;
  }
  if (busy_ || !transport_->is_tls() || eof_) {
    transport_->cancel();
    transport_->close();
    return;
  }
  // close_notify, bounded: a peer that never answers it must not hold the process (the
  // deadline closes the socket, which ends the shutdown; the shutdown's handler keeps the
  // connection alive until then).
  closing_ = true;
  deadlines_.add(*this, Clock::now() + kTlsShutdownLimit);
  transport_->tls_shutdown([self = shared_from_this()](const error_code&) {
    self->deadlines_.remove(*self);
    self->transport_->close();
  });
}

}  // namespace parley::net
