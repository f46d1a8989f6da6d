// Adaptive load threads (parley::load::Scaler): another thread is tried only when every
// running thread was busy and the run has time left; it is kept when it paid.
#include <catch2/catch.hpp>

#include "load/scaler.hpp"

using parley::load::Scaler;
using Action = Scaler::Action;

TEST_CASE("a busy thread with time left gets company; a paying one is kept") {
  Scaler s(4);
  CHECK(s.decide(1000, {0.97}, 10) == Action::add);
  CHECK(s.threads() == 2);
  CHECK(s.decide(1900, {0.95, 0.96}, 9) == Action::none);  // +90 %: kept
  CHECK(s.threads() == 2);
  CHECK(s.decide(1900, {0.95, 0.96}, 8) == Action::add);        // both busy again: a third
  CHECK(s.decide(2000, {0.9, 0.9, 0.9}, 7) == Action::retire);  // +5 %: not worth a core
  CHECK(s.threads() == 2);
  CHECK(s.settled());
  CHECK(s.tried() == 2);
  CHECK(s.decide(2000, {1.0, 1.0}, 6) == Action::none);  // settled for the rest of the run
}

TEST_CASE("no other thread while one is idle, near the end, or at the limit") {
  Scaler s(2);
  CHECK(s.decide(1000, {0.5}, 10) == Action::none);  // waiting on the server
  CHECK(s.decide(1000, {0.89}, 10) == Action::none);
  CHECK(s.decide(1000, {0.99}, 1.5) == Action::none);  // too little time left to pay
  CHECK(s.decide(1000, {0.99}, 10) == Action::add);
  CHECK(s.decide(1500, {0.99, 0.99}, 9) == Action::none);
  CHECK(s.decide(1500, {0.99, 0.99}, 8) == Action::none);  // 2 of at most 2
  CHECK(s.threads() == 2);

  Scaler one(1);  // one core
  CHECK(one.decide(1000, {1.0}, 10) == Action::none);
  CHECK(one.tried() == 0);
}

TEST_CASE("a thread that made things worse is retired") {
  Scaler s(8);
  CHECK(s.decide(9000, {0.98}, 30) == Action::add);
  CHECK(s.decide(7800, {0.6, 0.5}, 29) == Action::retire);  // the server lost its core
  CHECK(s.threads() == 1);
  CHECK(s.decide(9000, {0.98}, 28) == Action::none);
}
