#pragma once
// A small, portable random stream: xoshiro256** seeded through splitmix64, with the few
// distributions the simulator draws from written out here. The standard library's distributions
// are not specified bit for bit, so they could change a "deterministic" simulation between
// compilers; these cannot.
#include <cmath>
#include <cstdint>
#include <string_view>

namespace oee::simulator {

inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// FNV-1a: a stable hash of a machine path, so each machine's stream depends only on the seed and
// its own path.
inline std::uint64_t fnv1a64(std::string_view text) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

class RandomStream {
 public:
  explicit RandomStream(std::uint64_t seed) {
    std::uint64_t sm = seed;
    for (auto& word : s_) word = splitmix64(sm);
  }

  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // [0, 1)
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // (0, 1]: safe under a logarithm.
  double uniform_open_zero() { return 1.0 - uniform(); }
  bool bernoulli(double p) { return uniform() < p; }
  // [0, n)
  std::uint64_t below(std::uint64_t n) { return n == 0 ? 0 : next() % n; }

  double exponential(double mean) { return -mean * std::log(uniform_open_zero()); }
  // Box-Muller; one value per call keeps the stream's consumption simple and fixed.
  double normal(double mean, double sd) {
    const double u1 = uniform_open_zero();
    const double u2 = uniform();
    return mean + sd * std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  // Parameterised by the median (exp(mu)), which is what maintenance people quote.
  double lognormal_median(double median, double sigma) { return median * std::exp(normal(0.0, sigma)); }
  // Trials until the first success (>= 1) with success probability p in (0, 1].
  std::int64_t geometric(double p) {
    if (p >= 1.0) return 1;
    if (p <= 0.0) return INT64_MAX / 4;
    const double k = std::floor(std::log(uniform_open_zero()) / std::log1p(-p));
    return k >= 1e15 ? INT64_MAX / 4 : 1 + static_cast<std::int64_t>(k);
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
};

}  // namespace oee::simulator
