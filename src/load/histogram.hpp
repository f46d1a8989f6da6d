// A log-linear latency histogram (the HdrHistogram layout): values below 256 have a bucket
// each; above, every power of two is split into 128 buckets, so a bucket is at most 1/128 of
// its values wide (< 0.8 %) and a percentile reported as a bucket's middle is within 0.4 % of
// the true value. Histograms merge by adding bucket counts, so percentiles of merged runs
// (threads, shards on other machines) are exactly those of one histogram holding every value.
#pragma once

#include <cstdint>
#include <vector>

namespace parley::load {

class Histogram {
 public:
  static constexpr int kSubBits = 8;  ///< values below 2^kSubBits are exact

  /// Adds one value (microseconds in parley load).
  void record(std::uint64_t value) {
    std::size_t i = index_of(value);
    if (i >= counts_.size()) counts_.resize(i + 1, 0);
    ++counts_[i];
    if (count_ == 0 || value < min_) min_ = value;
    if (value > max_) max_ = value;
    ++count_;
    sum_ += value;
  }
  /// Adds `n` values that fall into the bucket starting at `lower` (read back from JSON).
  /// Returns false when `lower` is not the first value of a bucket.
  bool add_bucket(std::uint64_t lower, std::uint64_t n);
  /// Sets what bucket counts cannot carry (exact extremes and sum), after add_bucket.
  void set_exact(std::uint64_t min, std::uint64_t max, std::uint64_t sum);
  void merge(const Histogram& other);

  std::uint64_t count() const { return count_; }
  std::uint64_t min() const { return count_ == 0 ? 0 : min_; }
  std::uint64_t max() const { return max_; }
  std::uint64_t sum() const { return sum_; }
  double mean() const { return count_ == 0 ? 0 : static_cast<double>(sum_) / count_; }
  /// The value at percentile `p` (0..100): the middle of the bucket holding the value of rank
  /// ceil(p% of count), kept within [min, max]. 0 when empty.
  std::uint64_t percentile(double p) const;

  /// (lower bound, count) of every non-empty bucket, in increasing order.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> buckets() const;

  static std::size_t index_of(std::uint64_t value) {
    constexpr std::uint64_t kExact = std::uint64_t{1} << kSubBits;
    if (value < kExact) return static_cast<std::size_t>(value);
    int msb = 63 - __builtin_clzll(value);
    int shift = msb - (kSubBits - 1);
    return static_cast<std::size_t>(shift) * (kExact / 2) +
           static_cast<std::size_t>(value >> shift);
  }
  static std::uint64_t lower_of(std::size_t index);
  /// The last value of the bucket (inclusive).
  static std::uint64_t upper_of(std::size_t index);

 private:
  std::vector<std::uint64_t> counts_;
  std::uint64_t count_ = 0;
  std::uint64_t min_ = 0;
  std::uint64_t max_ = 0;
  std::uint64_t sum_ = 0;
};

}  // namespace parley::load
