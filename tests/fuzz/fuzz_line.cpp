// Fuzzes the line framer: every unit is one line and its line end.
#include "fuzz_driver.hpp"

using namespace parley::framing;
using namespace parley::framing::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  run_target(data, size, make_line_framer, nullptr, [](const Setup& setup, const Unit& u) {
    FUZZ_CHECK(u.lines.size() == 1 && u.lines[0] == u.text);
    FUZZ_CHECK(u.text.size() <= setup.limits.max_line);
    FUZZ_CHECK(u.text.find('\n') == std::string::npos);
    FUZZ_CHECK(is_line_with_end(u.raw, u.text));
    FUZZ_CHECK(u.violations.empty() == (u.raw.size() >= 2 && u.raw[u.raw.size() - 2] == '\r'));
    FUZZ_CHECK(!u.code && u.status.empty() && u.literals.empty());
    FUZZ_CHECK(u.violations.size() <= 1);  // each kind of note once
  });
  return 0;
}
