// Fuzzes the SMTP reply framer: replies are made of whole lines, and the parsed fields agree
// with the line grammar.
#include "fuzz_driver.hpp"

using namespace parley::framing;
using namespace parley::framing::fuzz;

namespace {

void check_reply(const Setup& setup, const Unit& u) {
  FUZZ_CHECK(u.raw.size() <= setup.limits.max_unit);
  FUZZ_CHECK(!u.lines.empty());
  FUZZ_CHECK(u.violations.size() <= 4);  // each kind of note once
  FUZZ_CHECK(u.status.empty() && u.literals.empty());
  for (const auto& line : u.lines) FUZZ_CHECK(line.size() <= setup.limits.max_line);
  if (!u.code) {
    // A line without a code is a reply of its own.
    FUZZ_CHECK(u.lines.size() == 1 && u.text == u.lines[0]);
    FUZZ_CHECK(!parse_smtp_line(u.text));
    FUZZ_CHECK(is_line_with_end(u.raw, u.text));
    FUZZ_CHECK(u.enhanced.empty());
    return;
  }
  FUZZ_CHECK(*u.code >= 0 && *u.code <= 999);
  FUZZ_CHECK(u.raw.size() >= 4 && u.raw.compare(0, 3, std::to_string(1000 + *u.code), 1, 3) == 0);
  std::string joined;
  for (std::size_t i = 0; i < u.lines.size(); ++i) {
    if (i > 0) joined += '\n';
    joined += u.lines[i];
  }
  FUZZ_CHECK(u.text == joined);
  FUZZ_CHECK(u.enhanced == parse_enhanced(u.lines[0]));
  // The raw bytes end with a last line: a code and no '-'.
  std::string_view raw = u.raw;
  raw.remove_suffix(raw.ends_with("\r\n") ? 2 : 1);
  std::size_t start = raw.rfind('\n');
  std::string_view last = raw.substr(start == std::string_view::npos ? 0 : start + 1);
  auto parsed = parse_smtp_line(last);
  FUZZ_CHECK(parsed && !parsed->more && parsed->text == u.lines.back());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  run_target(data, size, make_smtp_framer, nullptr, check_reply);
  return 0;
}
