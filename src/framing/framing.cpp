// The input buffer, the line framer and the SMTP reply framer.
#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

#include "framing/framers.hpp"

namespace parley::framing {

//---------------------------------------------------------------------------------------------
// InputBuffer

void InputBuffer::reserve_more(std::size_t more) {
  // Compact when the consumed prefix dominates, so a long conversation does not grow the buffer
  // (gathered bytes stay where the block needs them).
  if (start_ > 0 && start_ >= size_ / 2 && gather_end_ == 0) {
    std::memmove(data_.get(), data_.get() + start_, size_ - start_);
    size_ -= start_;
    scanned_ -= std::min(scanned_, start_);
    start_ = 0;
  }
  if (size_ + more <= capacity_) return;
  std::size_t capacity = std::max({size_ + more, capacity_ * 2, std::size_t{256}});
  auto* bigger = static_cast<char*>(std::malloc(capacity));  // not zero-filled
  if (bigger == nullptr) throw std::bad_alloc();
  if (size_ > 0) std::memcpy(bigger, data_.get(), size_);
  data_.reset(bigger);
  capacity_ = capacity;
}

void InputBuffer::replace_storage(std::size_t capacity, std::size_t offset, std::string_view held) {
  auto* storage = static_cast<char*>(std::malloc(capacity));
  if (storage == nullptr) throw std::bad_alloc();
  if (!held.empty()) std::memcpy(storage + offset, held.data(), held.size());
  data_.reset(storage);
  capacity_ = capacity;
  start_ = offset;
  size_ = offset + held.size();
  scanned_ = start_;  // nothing known about the bytes
  scan_from_ = 0;
  prepared_ = size_;
}

void InputBuffer::gather(std::size_t head, std::size_t n) {
  if (size() >= n) return;  // all there: take_block copies them
  // Room for reads that bring bytes past the literal, too (so that the last read does not
  // make the buffer grow: a copy of everything).
  std::size_t slack = std::min<std::size_t>(n, 1u << 20);
  replace_storage(head + n + slack, head, view());
  advise_huge_pages(data_.get(), capacity_);
  gather_end_ = head + n;
}

Block InputBuffer::take_block(std::size_t head, std::size_t n) {
  n = std::min(n, size());
  if (gather_end_ != 0 && start_ == head && gather_end_ == head + n) {
    std::string_view rest = view().substr(n);
    std::string kept(rest);  // the block's terminator goes where they are
    std::size_t capacity = capacity_;
    char* base = data_.release();
    gather_end_ = 0;
    replace_storage(std::max<std::size_t>(kept.size(), 256), 0, kept);
    return Block::adopt(base, head, n, capacity - head - 1);
  }
  Block block(head);
  block.reserve(n);
  block.append(view().substr(0, n));
  consume(n);
  return block;
}

void InputBuffer::append(std::string_view bytes) {
  reserve_more(bytes.size());
  if (!bytes.empty()) std::memcpy(data_.get() + size_, bytes.data(), bytes.size());
  size_ += bytes.size();
}

// Consumed bytes stay in data_ until the next append(): a framer may take a view(), consume
// and then copy the consumed bytes into a unit's raw field.
void InputBuffer::consume(std::size_t n) {
  n = std::min(n, size());
  start_ += n;
  if (n > 0) gather_end_ = 0;  // whoever gathered has given up (take_block consumes none)
  // Keep scan_from_ pointing at the same byte; once consumed past it, [start_, scanned_) is
  // still known to hold no '\n'.
  scan_from_ = scan_from_ > n ? scan_from_ - n : 0;
}

std::size_t InputBuffer::find_lf(std::size_t from) {
  std::size_t abs_from = start_ + from;
  // [start_ + scan_from_, scanned_) is known to hold no '\n'.
  bool known = from >= scan_from_ && abs_from <= scanned_;
  std::size_t begin = known ? scanned_ : abs_from;
  const char* base = data_.get();
  const void* hit = begin < size_ ? std::memchr(base + begin, '\n', size_ - begin) : nullptr;
  if (hit == nullptr) {
    if (!known) scan_from_ = from;
    scanned_ = size_;
    return std::string_view::npos;
  }
  return static_cast<std::size_t>(static_cast<const char*>(hit) - base) - start_;
}

std::string InputBuffer::take_all() {
  std::string out(view());
  consume(size());
  return out;
}

//---------------------------------------------------------------------------------------------
// Block

Block::Block(const Block& other) : head_(other.head_) {
  if (other.allocated()) {
    reserve(other.size_);
    append(other.view());
  }
}

Block& Block::operator=(const Block& other) {
  if (this != &other) *this = Block(other);
  return *this;
}

Block::Block(Block&& other) noexcept
    : base_(std::exchange(other.base_, nullptr)),
      head_(other.head_),
      size_(std::exchange(other.size_, 0)),
      capacity_(std::exchange(other.capacity_, 0)) {}

Block& Block::operator=(Block&& other) noexcept {
  if (this != &other) {
    std::free(base_);
    base_ = std::exchange(other.base_, nullptr);
    head_ = other.head_;
    size_ = std::exchange(other.size_, 0);
    capacity_ = std::exchange(other.capacity_, 0);
  }
  return *this;
}

Block::~Block() {
  std::free(base_);
}

void Block::reserve(std::size_t n) {
  if (base_ != nullptr && n <= capacity_) return;
  // Not zero-filled: the bytes are about to be written.
  auto* grown = static_cast<char*>(std::realloc(base_, head_ + n + 1));
  if (grown == nullptr) throw std::bad_alloc();
  base_ = grown;
  capacity_ = n;
  advise_huge_pages(base_, head_ + n + 1);
}

void Block::append(std::string_view bytes) {
  if (base_ == nullptr || size_ + bytes.size() > capacity_) {
    reserve(std::max(size_ + bytes.size(), capacity_ * 2));
  }
  if (!bytes.empty()) std::memcpy(base_ + head_ + size_, bytes.data(), bytes.size());
  size_ += bytes.size();
}

Block Block::adopt(char* base, std::size_t head, std::size_t size, std::size_t capacity) {
  Block block(head);
  block.base_ = base;
  block.size_ = size;
  block.capacity_ = capacity;
  return block;
}

char* Block::release() {
  if (base_ == nullptr) return nullptr;
  if (capacity_ > size_) {
    // Shrinking copies nothing (an mmapped block is cut with mremap).
    if (auto* trimmed = static_cast<char*>(std::realloc(base_, head_ + size_ + 1))) base_ = trimmed;
  }
  base_[head_ + size_] = '\0';
  size_ = capacity_ = 0;
  return std::exchange(base_, nullptr);
}

//---------------------------------------------------------------------------------------------
// Unit

bool Unit::has_blocks() const {
  return std::any_of(literal_blocks.begin(), literal_blocks.end(),
                     [](const Block& b) { return b.allocated(); });
}

std::size_t Unit::whole_size() const {
  std::size_t size = raw.size();
  for (const Block& b : literal_blocks) size += b.size();
  return size;
}

std::string Unit::whole_raw() const {
  if (!has_blocks()) return raw;
  std::string out;
  out.reserve(whole_size());
  std::size_t taken = 0;  // of raw
  for (std::size_t i = 0; i < literal_blocks.size() && i < literal_spans.size(); ++i) {
    if (!literal_blocks[i].allocated()) continue;
    std::size_t at = literal_spans[i].first - (out.size() - taken);  // where it goes in raw
    out.append(raw, taken, at - taken);
    out.append(literal_blocks[i].view());
    taken = at;
  }
  out.append(raw, taken);
  return out;
}

//---------------------------------------------------------------------------------------------
// Lines

std::optional<std::string> take_line(InputBuffer& in, const Limits& limits, bool& bare_lf,
                                     std::string& error) {
  auto line = take_line_view(in, limits, bare_lf, error);
  if (!line) return std::nullopt;
  return std::string(*line);
}

// (Consumed bytes stay where they are until the next append: see InputBuffer::consume.)
std::optional<std::string_view> take_line_view(InputBuffer& in, const Limits& limits, bool& bare_lf,
                                               std::string& error) {
  std::size_t lf = in.find_lf();
  if (lf == std::string_view::npos) {
    // A line of max_line bytes may be buffered with its CR, waiting for the LF.
    if (in.size() > limits.max_line && in.size() - limits.max_line > 1) {
      error = "line longer than " + std::to_string(limits.max_line) + " bytes (no line end in " +
              std::to_string(in.size()) + " bytes received)";
    }
    return std::nullopt;
  }
  std::string_view v = in.view();
  bare_lf = !(lf > 0 && v[lf - 1] == '\r');
  std::size_t len = bare_lf ? lf : lf - 1;
  if (len > limits.max_line) {
    error = "line longer than " + std::to_string(limits.max_line) + " bytes (" +
            std::to_string(len) + " bytes)";
    return std::nullopt;
  }
  in.consume(lf + 1);
  return v.substr(0, len);
}

namespace {

class LineFramer final : public Framer {
 public:
  explicit LineFramer(const Limits& limits) : limits_(limits) {}

  Status next(InputBuffer& in, Unit& out, std::string& error) override {
    error.clear();
    bool bare_lf = false;
    std::size_t before = in.size();
    std::string_view v = in.view();
    auto line = take_line(in, limits_, bare_lf, error);
    if (!line) return error.empty() ? Status::need_more : Status::error;
    out = Unit{};
    out.raw.assign(v.substr(0, before - in.size()));
    out.text = *line;
    out.lines.push_back(std::move(*line));
    if (bare_lf) out.violations.emplace_back("line ended in a bare LF, not CRLF");
    return Status::unit;
  }
  void reset() override {}
  std::string take_partial() override { return {}; }

 private:
  Limits limits_;
};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

std::optional<SmtpLine> parse_smtp_line(std::string_view line) {
  if (line.size() < 3 || !is_digit(line[0]) || !is_digit(line[1]) || !is_digit(line[2])) {
    return std::nullopt;
  }
  int code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
  if (line.size() == 3) return SmtpLine{code, false, {}};
  if (line[3] == '-') return SmtpLine{code, true, line.substr(4)};
  if (line[3] == ' ') return SmtpLine{code, false, line.substr(4)};
  return std::nullopt;
}

std::string_view parse_enhanced(std::string_view text) {
  // class "." subject "." detail, with class 2, 4 or 5, subject 1-3 digits, detail 1-3 digits.
  std::size_t i = 0;
  auto digits = [&](std::size_t max) {
    std::size_t n = 0;
    while (i < text.size() && is_digit(text[i]) && n < max) ++i, ++n;
    return n > 0 && (i >= text.size() || !is_digit(text[i]));
  };
  if (text.empty() || (text[0] != '2' && text[0] != '4' && text[0] != '5')) return {};
  i = 1;
  if (i >= text.size() || text[i++] != '.') return {};
  if (!digits(3) || i >= text.size() || text[i++] != '.') return {};
  if (!digits(3)) return {};
  if (i < text.size() && text[i] != ' ') return {};
  return text.substr(0, i);
}

namespace {

// SMTP replies: "ddd-text" lines continue a reply, "ddd text" (or "ddd") ends it. A line
// without a code outside a reply is a reply of its own with no code. Inside a reply, a line
// without a code is kept as a continuation and noted; a final line with another code ends the
// reply and is noted (waiting for the "right" code could wait forever).
class SmtpFramer final : public Framer {
 public:
  explicit SmtpFramer(const Limits& limits) : limits_(limits) {}

  Status next(InputBuffer& in, Unit& out, std::string& error) override {
    Status s = step(in, error);
    if (s == Status::unit) {
      out = std::move(*pending_);
      reset();
    }
    return s;
  }

  Status next_unit(InputBuffer& in, std::unique_ptr<Unit>& out, std::string& error) override {
    Status s = step(in, error);
    if (s == Status::unit) {
      out = std::move(pending_);
      reset();
    }
    return s;
  }

  std::string take_partial() override {
    std::string raw = pending_ ? std::move(pending_->raw) : std::string();
    reset();
    return raw;
  }

  void reset() override {
    pending_.reset();
    in_reply_ = false;
    noted_ = 0;
  }

 private:
  enum Note : unsigned { kBareLf = 1, kUncoded = 2, kCodesDiffer = 4 };

  // Frames what `in` holds; on Status::unit the reply is whole in pending_.
  Status step(InputBuffer& in, std::string& error) {
    error.clear();
    for (;;) {
      std::string_view v = in.view();
      bool bare_lf = false;
      std::size_t before = in.size();
      // A view of the line: it is copied once, into the reply's lines (a reply of ten lines,
      // as EHLO's, made and dropped a string per line besides).
      auto line = take_line_view(in, limits_, bare_lf, error);
      if (!line) {
        if (!error.empty()) {
          reset();
          return Status::error;
        }
        return Status::need_more;
      }
      std::size_t used = before - in.size();
      Unit& pending = unit();
      if (pending.raw.size() + used > limits_.max_unit) {
        error = "reply larger than " + std::to_string(limits_.max_unit) + " bytes";
        reset();
        return Status::error;
      }
      auto parsed = parse_smtp_line(*line);
      if (!in_reply_ && parsed && parsed->more) {
        // The first line of a reply that goes on (EHLO's): room for what is buffered (most
        // often the whole reply), and for a few lines, at once rather than grown line by line.
        pending.raw.reserve(std::min<std::size_t>(before, 4096));
        pending.lines.reserve(8);
      }
      pending.raw.append(v.substr(0, used));
      if (bare_lf) note(kBareLf, "line ended in a bare LF, not CRLF");
      if (!in_reply_) {
        if (!parsed) return finish_uncoded(std::string(*line));
        in_reply_ = true;
        pending.code = parsed->code;
        pending.enhanced = std::string(parse_enhanced(parsed->text));
        if (!pending.enhanced.empty() && pending.enhanced[0] - '0' != parsed->code / 100) {
          pending.violations.emplace_back("enhanced code " + pending.enhanced +
                                          " is of another class than " +
                                          std::to_string(parsed->code));
        }
      }
      if (pending.lines.size() >= limits_.max_lines) {
        error = "reply of more than " + std::to_string(limits_.max_lines) + " lines";
        reset();
        return Status::error;
      }
      if (!parsed) {
        note(kUncoded,
             "continuation line without a reply code: " + std::string(line->substr(0, 60)));
        pending.lines.emplace_back(*line);
        continue;
      }
      if (parsed->code != *pending.code) {
        note(kCodesDiffer, "reply codes differ within one reply (" + std::to_string(*pending.code) +
                               " and " + std::to_string(parsed->code) + ")");
      }
      pending.lines.emplace_back(parsed->text);
      if (!parsed->more) return finish();
    }
  }

  // Each kind is noted once per reply (the first occurrence): a reply of many odd lines must not
  // grow the notes, or the time spent on them, with its size.
  void note(Note kind, std::string what) {
    if ((noted_ & kind) != 0) return;
    noted_ |= kind;
    unit().violations.push_back(std::move(what));
  }

  Status finish_uncoded(std::string line) {
    Unit& pending = unit();
    pending.text = line;
    pending.lines.push_back(std::move(line));
    return Status::unit;
  }

  Status finish() {
    Unit& pending = unit();
    if (pending.lines.size() == 1) {
      pending.text = pending.lines[0];
      return Status::unit;
    }
    std::size_t size = pending.lines.size() - 1;
    for (const auto& line : pending.lines) size += line.size();
    std::string text;
    text.reserve(size);
    for (std::size_t i = 0; i < pending.lines.size(); ++i) {
      if (i > 0) text += '\n';
      text += pending.lines[i];
    }
    pending.text = std::move(text);
    return Status::unit;
  }

  // The reply being framed, made when its first line is there: a connection waiting for a
  // reply holds no Unit (memory per idle conversation, times ten thousand in a load test).
  Unit& unit() {
    if (!pending_) pending_ = std::make_unique<Unit>();
    return *pending_;
  }

  Limits limits_;
  std::unique_ptr<Unit> pending_;
  bool in_reply_ = false;
  unsigned noted_ = 0;  ///< the Note kinds already in the pending reply's violations
};

}  // namespace

std::unique_ptr<Framer> make_line_framer(const Limits& limits) {
  return std::make_unique<LineFramer>(limits);
}

std::unique_ptr<Framer> make_smtp_framer(const Limits& limits) {
  return std::make_unique<SmtpFramer>(limits);
}

std::unique_ptr<Framer> make_framer(std::string_view kind, const Limits& limits) {
  if (kind == "line") return make_line_framer(limits);
  if (kind == "smtp") return make_smtp_framer(limits);
  if (kind == "pop3") return make_pop3_framer(limits);
  if (kind == "imap") return make_imap_framer(limits);
  return nullptr;
}

void advise_huge_pages(void* data, std::size_t size) {
#ifdef MADV_HUGEPAGE
  constexpr std::uintptr_t kHuge = 2u << 20;
  if (size < kHugePagesFrom) return;
  auto begin = reinterpret_cast<std::uintptr_t>(data);
  std::uintptr_t first = (begin + kHuge - 1) & ~(kHuge - 1);  // whole huge pages inside only
  std::uintptr_t last = (begin + size) & ~(kHuge - 1);
  if (last > first) madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);
#else
  (void)data;
  (void)size;
#endif
}

}  // namespace parley::framing
