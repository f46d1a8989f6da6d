// The IMAP framer: one response is a line, and when the line ends with a literal marker
// ({n}, {n+}, ~{n}), n bytes of payload and then the rest of the response (RFC 9051, RFC 7888).
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "framing/framers.hpp"

namespace parley::framing {

namespace {

constexpr std::size_t kReserveFrom = 64 * 1024;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

/// The digits of a literal marker at the end of `line` ("{12}", "{12+}", "~{12}"), if any.
std::optional<std::string_view> literal_marker(std::string_view line) {
  if (line.empty() || line.back() != '}') return std::nullopt;
  std::size_t end = line.size() - 1;
  if (end > 0 && line[end - 1] == '+') --end;
  std::size_t begin = end;
  while (begin > 0 && is_digit(line[begin - 1])) --begin;
  if (begin == end || begin == 0 || line[begin - 1] != '{') return std::nullopt;
  return line.substr(begin, end - begin);
}

/// The value of `digits`, or nullopt when it exceeds `max` (overflow included).
std::optional<std::size_t> literal_size(std::string_view digits, std::size_t max) {
  std::size_t value = 0;
  for (char c : digits) {
    auto d = static_cast<std::size_t>(c - '0');
    if (d > max || value > (max - d) / 10) return std::nullopt;
    value = value * 10 + d;
  }
  return value;
}

class ImapFramer final : public Framer {
 public:
  explicit ImapFramer(const Limits& limits) : limits_(limits) {}

  Status next(InputBuffer& in, Unit& out, std::string& error) override {
    error.clear();
    for (;;) {
      if (literal_left_ > 0 && !read_literal(in)) return Status::need_more;
      std::string_view v = in.view();
      bool bare_lf = false;
      std::size_t before = in.size();
      auto line = take_line(in, limits_, bare_lf, error);
      if (!line) {
        if (error.empty()) return Status::need_more;
        reset();
        return Status::error;
      }
      std::size_t used = before - in.size();
      if (raw_size() + used > limits_.max_unit) return fail(error, too_large());
      if (pending_.lines.size() >= limits_.max_lines) {
        return fail(
            error, "response of more than " + std::to_string(limits_.max_lines) + " line segments");
      }
      pending_.raw.append(v.substr(0, used));
      if (bare_lf) note("line ended in a bare LF, not CRLF");
      if (pending_.lines.empty()) start_response(*line);
      auto marker = literal_marker(*line);
      pending_.lines.push_back(std::move(*line));
      if (!marker) return finish(out);
      if (!open_literal(in, *marker, error)) {
        reset();
        return Status::error;
      }
    }
  }

  std::string take_partial() override {
    std::string raw = pending_.has_blocks() ? pending_.whole_raw() : std::move(pending_.raw);
    reset();
    return raw;
  }

  void reset() override {
    pending_ = Unit{};
    literal_left_ = 0;
    in_blocks_ = 0;
    gathering_ = false;
  }

  void literals_as_spans(bool on) override { spans_only_ = on; }

  void literals_in_blocks(std::size_t head, std::size_t from) override {
    block_head_ = head;
    block_from_ = std::max<std::size_t>(from, 1);
    if (head > 0) spans_only_ = true;
  }

 private:
  void start_response(const std::string& line) {
    pending_.status = line.substr(0, line.find(' '));
    pending_.text = line;
    if (pending_.status.empty()) note("response does not start with a tag, \"*\" or \"+\"");
  }

  // Checks the announced size before any payload is buffered.
  bool open_literal(InputBuffer& in, std::string_view digits, std::string& error) {
    auto size = literal_size(digits, limits_.max_unit);
    if (!size) {
      std::string shown(digits.substr(0, 40));
      if (digits.size() > 40) shown += "...";
      error = "literal of " + shown + " bytes announced, larger than the limit of " +
              std::to_string(limits_.max_unit) + " bytes";
      return false;
    }
    if (*size > limits_.max_unit - raw_size()) {
      error = too_large() + " (a literal of " + std::to_string(*size) + " bytes announced after " +
              std::to_string(raw_size()) + " bytes)";
      return false;
    }
    pending_.literal_spans.emplace_back(raw_size(), *size);
    if (!spans_only_) pending_.literals.emplace_back();
    if (block_head_ > 0) {
      pending_.literal_blocks.resize(pending_.literal_spans.size(), Block(block_head_));
      if (*size >= block_from_) {
        // Received in place: reads fill the block (InputBuffer::gather), no copy of the bytes.
        in.gather(block_head_, *size);
        gathering_ = true;
        literal_left_ = *size;
        return true;
      }
    }
    if (*size >= kReserveFrom) {
      // The size is known (and within max_unit): one allocation each, not a doubling series
      // of copies (and of fresh pages to fault in) for a literal of many megabytes.
      if (!spans_only_) {
        pending_.literals.back().reserve(*size);
        advise_huge_pages(pending_.literals.back().data(), pending_.literals.back().capacity());
      }
      pending_.raw.reserve(pending_.raw.size() + *size + 64);
      advise_huge_pages(pending_.raw.data(), pending_.raw.capacity());
    }
    literal_left_ = *size;
    return true;
  }

  // Moves what has arrived of the open literal into the unit; true once it is complete.
  bool read_literal(InputBuffer& in) {
    if (gathering_) {
      if (in.size() < literal_left_) return false;
      pending_.literal_blocks.back() = in.take_block(block_head_, literal_left_);
      in_blocks_ += literal_left_;
      literal_left_ = 0;
      gathering_ = false;
      return true;
    }
    std::size_t n = std::min(literal_left_, in.size());
    std::string_view bytes = in.view().substr(0, n);
    if (!spans_only_) pending_.literals.back().append(bytes);
    pending_.raw.append(bytes);
    in.consume(n);
    literal_left_ -= n;
    return literal_left_ == 0;
  }

  /// Bytes of the response so far, the payloads held in blocks included.
  std::size_t raw_size() const { return pending_.raw.size() + in_blocks_; }

  std::string too_large() const {
    return "response larger than " + std::to_string(limits_.max_unit) + " bytes";
  }

  Status finish(Unit& out) {
    out = std::move(pending_);
    reset();
    return Status::unit;
  }

  Status fail(std::string& error, std::string message) {
    error = std::move(message);
    reset();
    return Status::error;
  }

  void note(const std::string& what) {
    if (std::find(pending_.violations.begin(), pending_.violations.end(), what) ==
        pending_.violations.end()) {
      pending_.violations.push_back(what);
    }
  }

  Limits limits_;
  Unit pending_;
  std::size_t literal_left_ = 0;  ///< payload bytes of the open literal not yet received
  bool spans_only_ = false;
  std::size_t block_head_ = 0;  ///< literals_in_blocks(): 0 when off
  std::size_t block_from_ = kBlockFrom;
  std::size_t in_blocks_ = 0;  ///< payload bytes of this response held in literal_blocks
  bool gathering_ = false;     ///< the open literal is gathered in the InputBuffer
};

}  // namespace

std::unique_ptr<Framer> make_imap_framer(const Limits& limits) {
  return std::make_unique<ImapFramer>(limits);
}

}  // namespace parley::framing
