#include "load/histogram.hpp"

#include <algorithm>
#include <cmath>

namespace parley::load {

namespace {
constexpr std::uint64_t kExact = std::uint64_t{1} << Histogram::kSubBits;
constexpr std::uint64_t kHalf = kExact / 2;
constexpr std::size_t kMaxIndex = 64 * kHalf;  // beyond any 64-bit value
}  // namespace

std::uint64_t Histogram::lower_of(std::size_t index) {
  if (index < kExact) return index;
  std::size_t shift = index / kHalf - 1;
  std::uint64_t mantissa = index - shift * kHalf;  // in [kHalf, kExact)
  return mantissa << shift;
}

std::uint64_t Histogram::upper_of(std::size_t index) {
  if (index < kExact) return index;
  std::size_t shift = index / kHalf - 1;
  return lower_of(index) + ((std::uint64_t{1} << shift) - 1);
}

bool Histogram::add_bucket(std::uint64_t lower, std::uint64_t n) {
  std::size_t i = index_of(lower);
  if (i >= kMaxIndex || lower_of(i) != lower) return false;
  if (n == 0) return true;
  if (i >= counts_.size()) counts_.resize(i + 1, 0);
  counts_[i] += n;
  if (count_ == 0 || lower < min_) min_ = lower;
  max_ = std::max(max_, upper_of(i));
  count_ += n;
  sum_ += n * lower;
  return true;
}

void Histogram::set_exact(std::uint64_t min, std::uint64_t max, std::uint64_t sum) {
  if (count_ == 0) return;
  min_ = min;
  max_ = max;
  sum_ = sum;
}

void Histogram::merge(const Histogram& other) {
  if (other.count_ == 0) return;
  if (other.counts_.size() > counts_.size()) counts_.resize(other.counts_.size(), 0);
  for (std::size_t i = 0; i < other.counts_.size(); ++i) counts_[i] += other.counts_[i];
  min_ = count_ == 0 ? other.min_ : std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  count_ += other.count_;
  sum_ += other.sum_;
}

std::uint64_t Histogram::percentile(double p) const {
  if (count_ == 0) return 0;
  if (p >= 100) return max_;
  double wanted = std::ceil(std::max(p, 0.0) / 100.0 * static_cast<double>(count_));
  auto rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(wanted));
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen < rank) continue;
    std::uint64_t lo = lower_of(i);
    std::uint64_t mid = lo + (upper_of(i) - lo) / 2;
    return std::clamp(mid, min_, max_);
  }
  return max_;
}

std::vector<std::pair<std::uint64_t, std::uint64_t>> Histogram::buckets() const {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> out;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    if (counts_[i] > 0) out.emplace_back(lower_of(i), counts_[i]);
  }
  return out;
}

}  // namespace parley::load
