// parley load's measurements: the log-linear histogram (bucket layout, precision, merging),
// failure causes, the JSON results (round trip, merge of parts) and the JSON reader.
#include <catch2/catch.hpp>
#include <cmath>
#include <random>

#include "load/histogram.hpp"
#include "load/results.hpp"
#include "load/runner.hpp"

using parley::load::Histogram;
using parley::load::Results;

TEST_CASE("histogram buckets tile the values without gaps, each under 1% wide") {
  std::size_t last = 0;
  for (std::uint64_t v = 0; v < 100000; ++v) {
    std::size_t i = Histogram::index_of(v);
    CHECK((i == last || i == last + 1));
    last = i;
    REQUIRE(Histogram::lower_of(i) <= v);
    REQUIRE(v <= Histogram::upper_of(i));
  }
  for (int shift = 8; shift < 64; ++shift) {
    std::uint64_t v = std::uint64_t{1} << shift;
    std::size_t i = Histogram::index_of(v);
    CHECK(Histogram::lower_of(i) == v);
    CHECK(Histogram::upper_of(i - 1) == v - 1);
    double width = static_cast<double>(Histogram::upper_of(i) - Histogram::lower_of(i) + 1);
    CHECK(width / static_cast<double>(v) <= 1.0 / 128);
  }
  CHECK(Histogram::index_of(~std::uint64_t{0}) < 64 * 128);
  CHECK(Histogram::upper_of(Histogram::index_of(~std::uint64_t{0})) == ~std::uint64_t{0});
}

TEST_CASE("percentiles are within 0.5% of the exact ones") {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> dist(7.0, 1.2);  // around a millisecond, long tail
  std::vector<std::uint64_t> values;
  Histogram h;
  for (int i = 0; i < 20000; ++i) {
    auto v = static_cast<std::uint64_t>(dist(rng));
    values.push_back(v);
    h.record(v);
  }
  std::sort(values.begin(), values.end());
  for (double p : {1.0, 50.0, 90.0, 99.0, 99.9}) {
    auto rank = static_cast<std::size_t>(std::ceil(p / 100 * values.size()));
    double exact = static_cast<double>(values[rank - 1]);
    double got = static_cast<double>(h.percentile(p));
    CHECK(std::abs(got - exact) <= std::max(1.0, exact * 0.005));
  }
  CHECK(h.percentile(100) == values.back());
  CHECK(h.min() == values.front());
  CHECK(h.max() == values.back());
  CHECK(h.count() == values.size());
}

TEST_CASE("merged histograms equal one histogram of every value") {
  Histogram a, b, all;
  for (std::uint64_t v = 1; v < 5000; v += 7) {
    (v % 3 == 0 ? a : b).record(v * v);
    all.record(v * v);
  }
  Histogram m = a;
  m.merge(b);
  CHECK(m.count() == all.count());
  CHECK(m.min() == all.min());
  CHECK(m.max() == all.max());
  CHECK(m.sum() == all.sum());
  CHECK(m.buckets() == all.buckets());
  for (double p : {50.0, 90.0, 99.0, 99.9}) CHECK(m.percentile(p) == all.percentile(p));
  Histogram empty;
  m.merge(empty);
  CHECK(m.count() == all.count());
  empty.merge(a);
  CHECK(empty.min() == a.min());
}

TEST_CASE("only first values of buckets are accepted from files") {
  Histogram h;
  CHECK(h.add_bucket(100, 2));
  CHECK(h.add_bucket(256, 1));
  CHECK(h.add_bucket(300, 1));
  CHECK_FALSE(h.add_bucket(301, 1));
  CHECK(h.count() == 4);
}

TEST_CASE("failure causes come from the error object") {
  using parley::load::failure_cause;
  CHECK(failure_cause("expect", "anything", 550) == "reply 550");
  CHECK(failure_cause("expect", "RCPT TO:<x>: expected 2xx, got: 452 4.5.3 too many", {}) ==
        "reply 452");
  CHECK(failure_cause("expect", "expected 250, got: hello", {}) == "unexpected reply");
  CHECK(failure_cause("network", "cannot connect to 127.0.0.1:1: Connection refused", {}) ==
        "connect");
  CHECK(failure_cause("network", "reading from x failed: reset", {}) == "network");
  CHECK(failure_cause("tls", "TLS handshake with x failed", {}) == "tls");
  CHECK(failure_cause("timeout", "", {}) == "timeout");
  CHECK(failure_cause("", "", {}) == "error");
}

TEST_CASE("results survive a JSON round trip and merge as parts") {
  Results r;
  r.settings.script = "s.lua";
  r.settings.concurrency = 5;
  r.settings.threads = 2;
  r.settings.count = 10;
  r.settings.timeout = 30;
  r.settings.shard = 1;
  r.settings.shards = 2;
  r.elapsed = 1.5;
  r.started_at = 1700000000.25;
  r.ok = 8;
  r.failed = 2;
  r.cpu_seconds = 2.85;  // of 2 threads over 1.5 s: 95 % busy
  for (std::uint64_t v : {10, 300, 5000, 5001, 70000, 12, 13, 999}) r.latency.record(v);
  r.failed_latency.record(40);
  r.failed_latency.record(41);
  r.failures[{"reply 550", "rcpt"}] = {2, "expected 250, got: 550 \"no\"\n"};
  r.steps["ehlo"].ok = 10;
  r.steps["ehlo"].latency.record(77);
  r.steps["ehlo"].order = 0;
  r.steps["a-later-step"].order = 1;
  r.steps["a-later-step"].failed = 2;

  std::string text = r.to_json();
  Results back = Results::from_json(text);
  CHECK(back.to_json() == text);
  CHECK(back.settings.shard == 1);
  CHECK(back.cpu_seconds == 2.85);
  CHECK(back.to_text().find("parley CPU     2.85 s, its threads busy 95 % of the run (parley may "
                            "be the bottleneck") != std::string::npos);
  CHECK(back.latency.percentile(50) == r.latency.percentile(50));
  CHECK(back.failures.at({"reply 550", "rcpt"}).example == "expected 250, got: 550 \"no\"\n");

  Results total;
  total.settings.parts = 0;
  total.merge_part(back);
  total.merge_part(back);
  CHECK(total.settings.parts == 2);
  CHECK(total.settings.shard == 0);
  CHECK(total.settings.concurrency == 10);
  CHECK(*total.settings.count == 20);
  CHECK(total.ok == 16);
  CHECK(total.failures.at({"reply 550", "rcpt"}).count == 4);
  CHECK(total.steps.at("ehlo").latency.count() == 2);
  CHECK(total.elapsed == 1.5);
  CHECK(total.cpu_seconds == 5.7);
  CHECK(total.to_text().find("its threads busy 95 %") != std::string::npos);
  CHECK(total.to_text().find("2 results merged") != std::string::npos);

  CHECK_THROWS(Results::from_json("{\"parley_load\": 2}"));
  CHECK_THROWS(Results::from_json("[1, 2"));
  CHECK_THROWS(Results::from_json("{}"));
}

TEST_CASE("the JSON format: as documented, 64-bit counts exact, bad input refused") {
  Results r;
  r.settings.script = "s.lua";
  r.settings.concurrency = 5;
  r.settings.threads = 2;
  r.settings.count = 18446744073709551615u;
  r.settings.timeout = 30;
  r.settings.rate = 1.0 / 3;
  r.settings.shard = 1;
  r.settings.shards = 2;
  r.elapsed = 1.5;
  r.started_at = 1700000000.25;
  r.ok = 2;
  r.failed = 1;
  r.cpu_seconds = 2.85;
  r.latency.record(10);
  r.latency.record(70000);
  r.failed_latency.record(40);
  r.failures[{"reply 550", "rcpt"}] = {1, "got: 550 \"no\"\n\t\x01 \xc3\xa9 \xff"};
  r.steps["ehlo"].ok = 2;
  r.steps["ehlo"].latency.record(77);
  // What the hand-written writer produced before nlohmann-json (byte for byte; invalid UTF-8
  // becomes U+FFFD).
  const std::string expected =
      R"({"parley_load":1,"script":"s.lua","settings":{"concurrency":5,"threads":2,)"
      R"("count":18446744073709551615,"duration":null,"rate":0.333333333333333,"timeout":30,)"
      R"("shard":"1/2","parts":1},"started_at":1700000000.25,"elapsed":1.5,)"
      R"("conversations":{"done":3,"ok":2,"failed":1,"interrupted":0},"throughput":2,)"
      R"("cpu_seconds":2.85,"latency":{"unit":"us","count":2,"min":10,"max":70000,"sum":70010,)"
      R"("mean":35005,"p50":10,"p90":69887,"p99":69887,"p999":69887,)"
      R"("buckets":[[10,1],[69632,1]]},"failed_latency":{"unit":"us","count":1,"min":40,)"
      R"("max":40,"sum":40,"mean":40,"p50":40,"p90":40,"p99":40,"p999":40,)"
      R"("buckets":[[40,1]]},"failures":[{"cause":"reply 550","step":"rcpt","count":1,)"
      R"("example":"got: 550 \"no\"\n\t\u0001 )"
      "\xc3\xa9 \xef\xbf\xbd"
      R"("}],"steps":[{"name":"ehlo",)"
      R"("ok":2,"failed":0,"latency":{"unit":"us","count":1,"min":77,"max":77,"sum":77,)"
      R"("mean":77,"p50":77,"p90":77,"p99":77,"p999":77,"buckets":[[77,1]]}}]})"
      "\n";
  CHECK(r.to_json() == expected);
  Results back = Results::from_json(expected);
  CHECK(*back.settings.count == 18446744073709551615u);
  CHECK(back.to_json() == expected);

  // A count one above 2^64 - 1, a negative count, a fraction: refused, not rounded.
  auto with = [&](const std::string& from, const std::string& to) {
    std::string t = expected;
    t.replace(t.find(from), from.size(), to);
    return t;
  };
  CHECK_THROWS(Results::from_json(with("18446744073709551615", "18446744073709551616")));
  CHECK_THROWS(Results::from_json(with("\"ok\":2,\"failed\":1", "\"ok\":-2,\"failed\":1")));
  CHECK_THROWS(Results::from_json(with("\"min\":10", "\"min\":10.5")));
  CHECK_THROWS(Results::from_json("{\"a\" 1}"));
  CHECK_THROWS(Results::from_json("[1,]"));
  CHECK_THROWS(Results::from_json("{} 2"));
  CHECK_THROWS(Results::from_json(std::string(100000, '[')));
}
