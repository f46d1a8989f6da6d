// parley load's thresholds: the expression parser (metrics, selectors, comparisons, units,
// errors that say what is wrong), the verdicts against results, and the time series of the
// results (per-second counts and histograms through JSON and merging).
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>

#include "load/results.hpp"
#include "load/threshold.hpp"

using parley::load::parse_threshold;
using parley::load::Results;
using parley::load::Threshold;
using parley::load::ThresholdError;

namespace {

std::string error_of(const std::string& expr) {
  try {
    parse_threshold(expr);
  } catch (const ThresholdError& e) {
    return e.what();
  }
  return "(accepted)";
}

Results sample() {
  Results r;
  r.settings.script = "s.lua";
  r.elapsed = 2;
  r.ok = 98;
  r.failed = 2;
  for (int i = 1; i <= 98; ++i) r.latency.record(static_cast<std::uint64_t>(i) * 1000);  // 1..98 ms
  r.failed_latency.record(5);
  r.failed_latency.record(6);
  r.failures[{"reply 550", "rcpt"}] = {1, "550 no"};
  r.failures[{"timeout", ""}] = {1, "slow"};
  r.steps["rcpt"].ok = 99;
  r.steps["rcpt"].failed = 1;
  for (int i = 0; i < 99; ++i) r.steps["rcpt"].latency.record(200);
  return r;
}

}  // namespace

TEST_CASE("threshold expressions: metrics, selectors, comparisons and units") {
  Threshold t = parse_threshold("p99<50ms");
  CHECK(t.metric == Threshold::Metric::percentile);
  CHECK(t.percentile == 99);
  CHECK(t.op == Threshold::Op::lt);
  CHECK(t.limit == 50000);
  CHECK_FALSE(t.step);

  t = parse_threshold(" p95(step=rcpt) <= 10ms ");
  CHECK(t.percentile == 95);
  CHECK(t.step == std::optional<std::string>("rcpt"));
  CHECK(t.op == Threshold::Op::le);
  CHECK(t.limit == 10000);

  CHECK(parse_threshold("p99.9<1s").percentile == 99.9);
  CHECK(parse_threshold("p999<1s").percentile == 99.9);
  CHECK(parse_threshold("p(90)<250").limit == 250000);  // k6's spelling; a bare number is ms
  CHECK(parse_threshold("max<=800us").limit == 800);
  CHECK(parse_threshold("mean<2.5ms").metric == Threshold::Metric::mean);
  CHECK(parse_threshold("min>=1us").op == Threshold::Op::ge);

  t = parse_threshold("failed<1%");
  CHECK(t.metric == Threshold::Metric::failed_rate);
  CHECK(t.limit == 1);
  CHECK(t.about_failures());
  t = parse_threshold("failed<=3");
  CHECK(t.metric == Threshold::Metric::failed_count);
  CHECK(t.about_failures());
  t = parse_threshold("failed(cause=timeout)<1");
  CHECK(t.cause == std::optional<std::string>("timeout"));
  CHECK_FALSE(t.about_failures());  // failures of other causes still fail the run
  CHECK_FALSE(parse_threshold("failed(step=rcpt)<5%").about_failures());

  t = parse_threshold("throughput>500");
  CHECK(t.metric == Threshold::Metric::throughput);
  CHECK(t.op == Threshold::Op::gt);
  CHECK(t.limit == 500);
  CHECK(parse_threshold("throughput>=1.5/s").limit == 1.5);
}

TEST_CASE("malformed thresholds say what is wrong") {
  CHECK_THAT(error_of(""), Catch::Contains("empty"));
  CHECK_THAT(error_of("p99"), Catch::Contains("no comparison"));
  CHECK_THAT(error_of("p99=50ms"), Catch::Contains("not a comparison"));
  CHECK_THAT(error_of("p99!=50ms"), Catch::Contains("not a comparison"));
  CHECK_THAT(error_of("<50ms"), Catch::Contains("no metric"));
  CHECK_THAT(error_of("latency<50ms"), Catch::Contains("unknown metric \"latency\""));
  CHECK_THAT(error_of("p0<50ms"), Catch::Contains("not above 0"));
  CHECK_THAT(error_of("p101<50ms"), Catch::Contains("at most 100"));
  CHECK_THAT(error_of("pxx<50ms"), Catch::Contains("unknown metric"));
  CHECK_THAT(error_of("p99<50 minutes"), Catch::Contains("not a unit of time"));
  CHECK_THAT(error_of("p99<fast"), Catch::Contains("not a number"));
  CHECK_THAT(error_of("p99<"), Catch::Contains("nothing after the comparison"));
  CHECK_THAT(error_of("p99(step=rcpt<5ms"), Catch::Contains("without its ')'"));
  CHECK_THAT(error_of("p99(host=x)<5ms"), Catch::Contains("only step= and cause="));
  CHECK_THAT(error_of("p99(step=)<5ms"), Catch::Contains("names nothing"));
  CHECK_THAT(error_of("p99(cause=timeout)<5ms"), Catch::Contains("failed(cause=timeout)"));
  CHECK_THAT(error_of("throughput(step=rcpt)>5"), Catch::Contains("takes no (step=...)"));
  CHECK_THAT(error_of("throughput>5ms"), Catch::Contains("conversations a second"));
  CHECK_THAT(error_of("failed<1.5"), Catch::Contains("not a whole number"));
  CHECK_THAT(error_of("failed<150%"), Catch::Contains("more than all"));
  CHECK_THAT(error_of("failed<1ms"), Catch::Contains("a count"));
}

TEST_CASE("thresholds are judged against the results, misses say by how much") {
  Results r = sample();
  using parley::load::evaluate;
  auto p99 = evaluate(parse_threshold("p99<50ms"), r, "option");
  CHECK_FALSE(p99.ok);
  CHECK(p99.has_value);
  CHECK(p99.value == r.latency.percentile(99));
  CHECK_THAT(p99.measured, Catch::StartsWith("p99 9"));
  CHECK_THAT(p99.verdict, Catch::Contains("ms over the limit of 50.0 ms (+9"));
  CHECK(evaluate(parse_threshold("p50<=50ms"), r, "option").ok);
  CHECK(evaluate(parse_threshold("p95(step=rcpt)<1ms"), r, "option").ok);
  CHECK_FALSE(evaluate(parse_threshold("p95(step=rcpt)<100us"), r, "option").ok);

  auto missing = evaluate(parse_threshold("p95(step=data)<1ms"), r, "script");
  CHECK_FALSE(missing.ok);
  CHECK_FALSE(missing.has_value);
  CHECK(missing.source == "script");
  CHECK_THAT(missing.verdict, Catch::Contains("no step \"data\" completed"));

  auto rate = evaluate(parse_threshold("failed<1%"), r, "option");  // 2 of 100
  CHECK_FALSE(rate.ok);
  CHECK(rate.value == 2);
  CHECK_THAT(rate.verdict, Catch::Contains("1 point over the limit of 1.00 %"));
  CHECK(evaluate(parse_threshold("failed<=2%"), r, "option").ok);
  CHECK(evaluate(parse_threshold("failed<=2"), r, "option").ok);
  CHECK_FALSE(evaluate(parse_threshold("failed<2"), r, "option").ok);
  CHECK(evaluate(parse_threshold("failed(cause=timeout)<=1"), r, "option").value == 1);
  CHECK(evaluate(parse_threshold("failed(step=rcpt)<1"), r, "option").value == 1);

  auto tp = evaluate(parse_threshold("throughput>100"), r, "option");  // 100 in 2 s
  CHECK_FALSE(tp.ok);
  CHECK(tp.value == 50);
  CHECK_THAT(tp.verdict, Catch::Contains("50.0/s under the limit of 100.0/s (-50 %)"));
  CHECK(evaluate(parse_threshold("throughput>=50"), r, "option").ok);

  Results empty;
  CHECK_FALSE(evaluate(parse_threshold("p99<1s"), empty, "option").ok);
  CHECK_FALSE(evaluate(parse_threshold("failed<1%"), empty, "option").ok);
}

TEST_CASE("the time series goes through JSON and merges by second") {
  Results r = sample();
  r.series.resize(3);
  r.series[0].started = 60;
  r.series[0].ok = 50;
  r.series[0].latency = parley::load::SparseHistogram::of(r.latency);
  r.series[1].started = 40;
  r.series[1].failed = 2;
  r.series[1].causes["timeout"] = 2;
  parley::load::Histogram h;
  h.record(300);
  h.record(7000);
  r.series[2].steps["rcpt"] = parley::load::SparseHistogram::of(h);
  r.script_thresholds = {"p99<1s"};
  std::string text = r.to_json();
  CHECK(text.find("\"series\":{\"interval\":1,\"seconds\":[{\"t\":0,\"started\":60") !=
        std::string::npos);
  Results back = Results::from_json(text);
  REQUIRE(back.series.size() == 3);
  CHECK(back.series[1].causes.at("timeout") == 2);
  CHECK(back.series[0].latency.expand().percentile(99) == r.latency.percentile(99));
  CHECK(back.series[2].steps.at("rcpt").max == 7000);
  CHECK(back.script_thresholds == std::vector<std::string>{"p99<1s"});
  CHECK(back.to_json() == text);

  Results total;
  total.settings.parts = 0;
  total.merge_part(back);
  Results shorter = back;
  shorter.series.resize(1);
  shorter.script_thresholds = {"p99<1s", "failed<1"};
  total.merge_part(shorter);
  REQUIRE(total.series.size() == 3);
  CHECK(total.series[0].started == 120);
  CHECK(total.series[0].latency.count() == 2 * r.latency.count());
  CHECK(total.series[0].latency.expand().percentile(50) == r.latency.percentile(50));
  CHECK(total.series[1].failed == 2);
  CHECK(total.script_thresholds == std::vector<std::string>{"p99<1s", "failed<1"});
}

TEST_CASE("a second's coarse histogram: percentiles within 3 % or 4 us, merging exact") {
  using parley::load::Histogram;
  using parley::load::SparseHistogram;
  Histogram a, b, all;
  for (std::uint64_t v = 1; v < 60000; v += 3) {
    (v % 2 == 0 ? a : b).record(v);
    all.record(v);
  }
  SparseHistogram coarse = SparseHistogram::of(all, true);
  CHECK(coarse.buckets.size() * 4 < all.buckets().size());  // far fewer buckets
  Histogram back = coarse.expand();
  CHECK(back.count() == all.count());
  CHECK(back.min() == all.min());
  CHECK(back.max() == all.max());
  for (double p : {50.0, 90.0, 99.0}) {
    double exact = static_cast<double>(all.percentile(p));
    CHECK(std::abs(static_cast<double>(back.percentile(p)) - exact) <= std::max(exact * 0.03, 4.0));
  }
  SparseHistogram merged = SparseHistogram::of(a, true);
  merged.merge(SparseHistogram::of(b, true));
  CHECK(merged.buckets == coarse.buckets);
}
