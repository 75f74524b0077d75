#include "ble/backoff.hpp"

#include <algorithm>

namespace nursery::ble {

std::chrono::milliseconds backoff_delay(const BackoffPolicy& policy, int attempt, double random) {
  const auto min = std::max(policy.min, std::chrono::milliseconds(1));
  const auto max = std::max(policy.max, min);
  auto base = min;
  for (int i = 0; i < attempt && base < max; ++i) base *= 2;
  base = std::min(base, max);
  const double jitter = std::clamp(policy.jitter, 0.0, 1.0);
  const double r = std::clamp(random, 0.0, 1.0);
  const double scaled = static_cast<double>(base.count()) * (1.0 - jitter * r);
  return std::max(std::chrono::milliseconds(1),
                  std::chrono::milliseconds(static_cast<long long>(scaled)));
}

}  // namespace nursery::ble
