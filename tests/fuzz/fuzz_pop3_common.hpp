// Checks shared by the two POP3 fuzz targets (with and without want_block()).
#pragma once

#include "fuzz_driver.hpp"

namespace parley::framing::fuzz {

/// The status a first line should get, worked out independently of the framer.
inline std::string expected_status(std::string_view text) {
  for (std::string_view word : {"+OK", "-ERR", "+"}) {
    if (text == word || (text.starts_with(word) && text[word.size()] == ' ')) {
      return std::string(word);
    }
  }
  return {};
}

inline void check_pop3(const Setup& setup, const Unit& u, bool blocks_possible) {
  FUZZ_CHECK(u.raw.size() <= setup.limits.max_unit);
  FUZZ_CHECK(u.status == expected_status(u.text));
  FUZZ_CHECK(!u.status.empty() || !u.violations.empty());
  FUZZ_CHECK(u.text.size() <= setup.limits.max_line);
  FUZZ_CHECK(u.raw.compare(0, u.text.size(), u.text) == 0);
  FUZZ_CHECK(!u.code && u.enhanced.empty() && u.literals.empty());
  FUZZ_CHECK(u.violations.size() <= 3);  // each kind of note once
  std::string_view rest = std::string_view(u.raw).substr(u.text.size());
  bool block = rest.size() > 2;  // more than the first line's end
  if (!block) {
    FUZZ_CHECK(rest == "\r\n" || rest == "\n");
    FUZZ_CHECK(u.lines.empty());
    return;
  }
  FUZZ_CHECK(blocks_possible && u.status == "+OK");
  FUZZ_CHECK(u.lines.size() <= setup.limits.max_lines);
  // Re-stuff the lines: the block must be exactly them and the terminator.
  FUZZ_CHECK(rest.ends_with("\n.\r\n") || rest.ends_with("\n.\n"));
  std::size_t pos = rest[0] == '\r' ? 2 : 1;
  for (const auto& line : u.lines) {
    FUZZ_CHECK(line.size() <= setup.limits.max_line);
    std::string_view at = rest.substr(pos);
    if (at.starts_with(".")) at.remove_prefix(1);
    FUZZ_CHECK(at.starts_with(line));
    at.remove_prefix(line.size());
    FUZZ_CHECK(at.starts_with("\r\n") || at.starts_with("\n"));
    pos = rest.size() - at.size() + (at[0] == '\r' ? 2 : 1);
  }
  std::string_view end = rest.substr(pos);
  FUZZ_CHECK(end == ".\r\n" || end == ".\n");
}

}  // namespace parley::framing::fuzz
