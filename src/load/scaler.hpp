// Adaptive load threads: whether another thread pays, decided from what the run measures.
//
// parley load starts on one thread. Once a window (a second), the caller reports the
// conversations done per second and how busy each thread was (CPU time over wall time). When
// every thread was busy (90 % or more) and the run has a few seconds left, another thread is
// tried; the window after shows whether it paid (10 % more conversations per second). If it
// did, the next one may be tried; if not, the new thread is retired and the count settles: on
// a machine that also runs the server under test, the server needs the core more.
#pragma once

#include <vector>

namespace parley::load {

class Scaler {
 public:
  enum class Action { none, add, retire };

  /// `most`: threads at most (cores, and no more than the concurrency).
  explicit Scaler(int most) : most_(most) {}

  /// One window's figures: conversations per second, each running thread's busy fraction,
  /// and the seconds the run has left (an estimate).
  Action decide(double rate, const std::vector<double>& busy, double seconds_left);

  int threads() const { return threads_; }
  bool settled() const { return phase_ == Phase::settled; }
  int tried() const { return tried_; }

  static constexpr double kBusy = 0.9;  ///< a thread this busy may be the limit
  static constexpr double kGain = 1.1;  ///< what another thread must bring
  static constexpr double kLeft = 2.0;  ///< seconds a trial needs to pay for itself

 private:
  enum class Phase { watch, trial, settled };
  int most_;
  int threads_ = 1;
  int tried_ = 0;
  Phase phase_ = Phase::watch;
  double before_ = 0;  ///< the rate before the thread on trial
};

}  // namespace parley::load
