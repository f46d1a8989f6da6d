#include "load/scaler.hpp"

#include <algorithm>

namespace parley::load {

Scaler::Action Scaler::decide(double rate, const std::vector<double>& busy, double seconds_left) {
  switch (phase_) {
    case Phase::settled:
      return Action::none;
    case Phase::trial:
      if (rate >= before_ * kGain) {
        phase_ = Phase::watch;  // it paid: the next one may be tried
        return Action::none;
      }
      --threads_;
      phase_ = Phase::settled;
      return Action::retire;
    case Phase::watch:
      break;
  }
  if (threads_ >= most_ || busy.empty() || seconds_left < kLeft) return Action::none;
  if (*std::min_element(busy.begin(), busy.end()) < kBusy) return Action::none;
  before_ = rate;
  ++threads_;
  ++tried_;
  phase_ = Phase::trial;
  return Action::add;
}

}  // namespace parley::load
