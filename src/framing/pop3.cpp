// The POP3 framer: status lines, and the dot-terminated block (RFC 1939) that follows the +OK
// of a command the engine announced with want_block().
#include <string>
#include <utility>

#include "framing/framers.hpp"

namespace parley::framing {

namespace {

// "+OK" and "-ERR" stand alone or are followed by a space; "+" is a SASL continuation
// (RFC 5034), with or without a base64 argument.
std::string pop3_status(std::string_view line) {
  auto is = [&](std::string_view word) {
    return line.substr(0, word.size()) == word &&
           (line.size() == word.size() || line[word.size()] == ' ');
  };
  if (is("+OK")) return "+OK";
  if (is("-ERR")) return "-ERR";
  if (is("+")) return "+";
  return {};
}

class Pop3Framer final : public Framer {
 public:
  explicit Pop3Framer(const Limits& limits) : limits_(limits) {}

  Status next(InputBuffer& in, Unit& out, std::string& error) override {
    error.clear();
    for (;;) {
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
      if (pending_.raw.size() + used > limits_.max_unit) {
        return fail(error, "response larger than " + std::to_string(limits_.max_unit) + " bytes");
      }
      pending_.raw.append(v.substr(0, used));
      if (bare_lf) note("line ended in a bare LF, not CRLF");
      Status s = in_block_ ? block_line(std::move(*line), error) : status_line(std::move(*line));
      if (s == Status::error) return s;
      if (s == Status::unit) return finish(out);
    }
  }

  std::string take_partial() override {
    std::string raw = std::move(pending_.raw);
    bool wanted = want_block_ || in_block_;
    reset();
    want_block_ = wanted;
    return raw;
  }

  void reset() override {
    pending_ = Unit{};
    in_block_ = false;
    want_block_ = false;
  }

  void want_block() override { want_block_ = true; }

 private:
  // Returns unit when the response is complete, need_more when a block follows.
  Status status_line(std::string line) {
    pending_.status = pop3_status(line);
    pending_.text = std::move(line);
    if (pending_.status.empty()) {
      note("not a POP3 status line (+OK, -ERR or +)");
    } else if (pending_.status == "+OK" && want_block_) {
      want_block_ = false;
      in_block_ = true;
      return Status::need_more;
    } else if (pending_.status == "-ERR") {
      want_block_ = false;  // a refused command sends no block
    }
    return Status::unit;
  }

  Status block_line(std::string line, std::string& error) {
    if (line == ".") return Status::unit;
    if (pending_.lines.size() >= limits_.max_lines) {
      return fail(error, "block of more than " + std::to_string(limits_.max_lines) + " lines");
    }
    if (!line.empty() && line[0] == '.') {
      // RFC 1939 stuffs every line that starts with '.', so the first '.' always goes.
      if (line.size() < 2 || line[1] != '.') note("block line starts with an unstuffed '.'");
      line.erase(0, 1);
    }
    pending_.lines.push_back(std::move(line));
    return Status::need_more;
  }

  Status finish(Unit& out) {
    out = std::move(pending_);
    pending_ = Unit{};
    in_block_ = false;
    return Status::unit;
  }

  Status fail(std::string& error, std::string message) {
    error = std::move(message);
    reset();
    return Status::error;
  }

  void note(const std::string& what) {
    for (const auto& v : pending_.violations) {
      if (v == what) return;
    }
    pending_.violations.push_back(what);
  }

  Limits limits_;
  Unit pending_;
  bool in_block_ = false;
  bool want_block_ = false;
};

}  // namespace

std::unique_ptr<Framer> make_pop3_framer(const Limits& limits) {
  return std::make_unique<Pop3Framer>(limits);
}

}  // namespace parley::framing
