// Ctrl-C and SIGTERM end a run as if the script had finished (parley record, parley serve).
#pragma once

#include <boost/asio/signal_set.hpp>
#include <csignal>

#include "script/engine.hpp"

namespace parley::cli {

/// While it lives, Ctrl-C and SIGTERM end the engine's run as if the script had finished
/// (Engine::interrupt: every session is stopped and every socket closed). The wait is cancelled
/// with everything else when the run ends. Make it after the engine, in the same scope.
class InterruptOnSignals {
 public:
  explicit InterruptOnSignals(script::Engine& engine) : signals_(engine.io(), SIGINT, SIGTERM) {
    signals_.async_wait([&engine](const boost::system::error_code& ec, int) {
      if (!ec) engine.interrupt();
    });
    engine.add_canceller(
        [this] {
          boost::system::error_code ignored;
          signals_.cancel(ignored);
        },
        0);
  }
  InterruptOnSignals(const InterruptOnSignals&) = delete;
  InterruptOnSignals& operator=(const InterruptOnSignals&) = delete;

 private:
  boost::asio::signal_set signals_;
};

}  // namespace parley::cli
