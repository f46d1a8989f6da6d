// Helpers shared by the framing unit tests: feed input in chosen pieces, and check that every
// way of splitting the input frames the same units.
#pragma once

#include <catch2/catch.hpp>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "framing/framers.hpp"

namespace parley::framing::testing {

using MakeFramer = std::function<std::unique_ptr<Framer>()>;
/// Called with the framer before each unit is framed, with the number of units so far.
using Hook = std::function<void(Framer&, std::size_t)>;

struct Fed {
  std::vector<Unit> units;
  std::string error;      ///< the first error; feeding stops there
  std::size_t left = 0;   ///< bytes still in the buffer at the end
  std::size_t calls = 0;  ///< next() calls that returned need_more
};

/// Feeds `input` cut at the (increasing) positions `cuts`, taking every unit after each piece.
/// With `interrupt`, each wait for more bytes gives up as a timed-out read does: the partly
/// framed unit is taken back with take_partial() and put back into the buffer.
inline Fed feed(Framer& framer, std::string_view input, std::vector<std::size_t> cuts,
                const Hook& hook = {}, bool interrupt = false) {
  InputBuffer in;
  Fed fed;
  std::size_t pos = 0;
  if (hook) hook(framer, 0);
  cuts.push_back(input.size());
  for (std::size_t cut : cuts) {
    in.append(input.substr(pos, cut - pos));
    pos = cut;
    for (;;) {
      Unit unit;
      std::string error = "stale error from an earlier call";
      Status status = framer.next(in, unit, error);
      if (status == Status::need_more) {
        REQUIRE(error.empty());
        ++fed.calls;
        if (interrupt) in.unread(framer.take_partial());
        break;
      }
      if (status == Status::error) {
        REQUIRE_FALSE(error.empty());
        fed.error = error;
        fed.left = in.size();
        return fed;
      }
      REQUIRE(error.empty());
      fed.units.push_back(std::move(unit));
      if (hook) hook(framer, fed.units.size());
    }
  }
  fed.left = in.size();
  return fed;
}

inline Fed feed_whole(Framer& framer, std::string_view input, const Hook& hook = {}) {
  return feed(framer, input, {}, hook);
}

inline std::vector<std::size_t> every_byte(std::size_t size) {
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < size; ++i) cuts.push_back(i);
  return cuts;
}

/// Every field of a unit in one printable string, so two units compare in one assertion.
inline std::string describe(const Unit& u) {
  std::string s = "code=" + (u.code ? std::to_string(*u.code) : std::string("nil"));
  s += " status=[" + u.status + "] enhanced=[" + u.enhanced + "] text=[" + u.text + "]";
  for (const auto& l : u.lines) s += " line=[" + l + "]";
  for (const auto& l : u.literals) s += " literal=[" + l + "]";
  for (const auto& [at, size] : u.literal_spans) {
    s += " span=" + std::to_string(at) + "+" + std::to_string(size);
  }
  for (const auto& b : u.literal_blocks) {
    s += b.allocated() ? " block=[" + std::string(b.view()) + "]" : std::string(" block=none");
  }
  for (const auto& v : u.violations) s += " violation=[" + v + "]";
  s += " raw=[" + u.raw + "]";
  return s;
}

inline std::string raw_of(const std::vector<Unit>& units) {
  std::string all;
  for (const auto& u : units) all += u.whole_raw();
  return all;
}

/// Frames `input` whole, then cut at every single position and byte by byte (each also with
/// take_partial() and unread() at every wait), and requires the same units (and whether an
/// error came) each time. Returns the whole-input result.
inline Fed same_for_every_split(const MakeFramer& make, std::string_view input,
                                const Hook& hook = {}) {
  auto framer = make();
  Fed whole = feed_whole(*framer, input, hook);
  if (whole.error.empty()) {
    REQUIRE(raw_of(whole.units) == input.substr(0, input.size() - whole.left));
  }
  auto check = [&](const std::vector<std::size_t>& cuts, bool interrupt) {
    auto f = make();
    Fed split = feed(*f, input, cuts, hook, interrupt);
    REQUIRE(split.units.size() == whole.units.size());
    for (std::size_t i = 0; i < whole.units.size(); ++i) {
      REQUIRE(describe(split.units[i]) == describe(whole.units[i]));
    }
    REQUIRE(split.error.empty() == whole.error.empty());
    if (whole.error.empty()) REQUIRE(split.left == whole.left);
  };
  for (std::size_t i = 1; i < input.size(); ++i) {
    INFO("split at " << i);
    check({i}, false);
    INFO("and interrupted there");
    check({i}, true);
  }
  INFO("byte by byte");
  check(every_byte(input.size()), false);
  INFO("byte by byte, interrupted after each");
  check(every_byte(input.size()), true);
  return whole;
}

inline Limits small_limits(std::size_t line, std::size_t unit, std::size_t lines) {
  Limits l;
  l.max_line = line;
  l.max_unit = unit;
  l.max_lines = lines;
  return l;
}

}  // namespace parley::framing::testing
