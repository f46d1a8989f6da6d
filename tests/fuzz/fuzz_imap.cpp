// Fuzzes the IMAP framer: a response is its line segments and literals interleaved, and each
// segment but the last announces the literal that follows it.
#include <optional>

#include "fuzz_driver.hpp"

using namespace parley::framing;
using namespace parley::framing::fuzz;

namespace {

/// The literal size a segment announces, worked out independently of the framer.
std::optional<std::string_view> marker_digits(std::string_view line) {
  if (line.ends_with("+}")) {
    line.remove_suffix(2);
  } else if (line.ends_with("}")) {
    line.remove_suffix(1);
  } else {
    return std::nullopt;
  }
  std::size_t open = line.rfind('{');
  if (open == std::string_view::npos) return std::nullopt;
  std::string_view digits = line.substr(open + 1);
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos) {
    return std::nullopt;
  }
  return digits;
}

void check_response(const Setup& setup, const Unit& u) {
  const std::string whole = u.whole_raw();  // raw, with the literals held in blocks put back
  FUZZ_CHECK(whole.size() == u.whole_size() && whole.size() <= setup.limits.max_unit);
  FUZZ_CHECK(!u.lines.empty() && u.lines.size() <= setup.limits.max_lines);
  FUZZ_CHECK(u.literal_spans.size() + 1 == u.lines.size());
  bool spans_only = setup.spans_only || setup.blocks;
  FUZZ_CHECK(spans_only ? u.literals.empty() : u.literals.size() == u.literal_spans.size());
  FUZZ_CHECK(setup.blocks ? u.literal_blocks.size() == u.literal_spans.size()
                          : u.literal_blocks.empty());
  FUZZ_CHECK(u.text == u.lines[0]);
  FUZZ_CHECK(u.status == u.text.substr(0, u.text.find(' ')));
  FUZZ_CHECK(!u.code && u.enhanced.empty());
  FUZZ_CHECK(u.violations.size() <= 2);  // each kind of note once
  std::string_view raw = whole;
  for (std::size_t i = 0; i < u.lines.size(); ++i) {
    const std::string& line = u.lines[i];
    FUZZ_CHECK(line.size() <= setup.limits.max_line);
    FUZZ_CHECK(raw.starts_with(line));
    raw.remove_prefix(line.size());
    FUZZ_CHECK(raw.starts_with("\r\n") || raw.starts_with("\n"));
    raw.remove_prefix(raw[0] == '\r' ? 2 : 1);
    auto digits = marker_digits(line);
    bool last = i + 1 == u.lines.size();
    FUZZ_CHECK(digits.has_value() != last);
    if (last) break;
    // The segment announces exactly the size of the literal that follows, and its span is
    // where it lies in raw.
    auto [at, length] = u.literal_spans[i];
    FUZZ_CHECK(at == whole.size() - raw.size());
    std::string_view literal = std::string_view(whole).substr(at, length);
    FUZZ_CHECK(literal.size() == length);
    if (!spans_only) FUZZ_CHECK(u.literals[i] == literal);
    if (setup.blocks) {
      // From 4 bytes on a literal is in its block (and not in raw), shorter ones in raw.
      FUZZ_CHECK(u.literal_blocks[i].allocated() == (length >= 4));
      if (length >= 4) FUZZ_CHECK(u.literal_blocks[i].view() == literal);
    }
    std::size_t value = 0;
    for (char c : *digits) {
      FUZZ_CHECK(value <= setup.limits.max_unit);
      value = value * 10 + static_cast<std::size_t>(c - '0');
    }
    FUZZ_CHECK(value == literal.size());
    FUZZ_CHECK(raw.starts_with(literal));
    raw.remove_prefix(literal.size());
  }
  FUZZ_CHECK(raw.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  run_target(data, size, make_imap_framer, nullptr, check_response);
  return 0;
}
