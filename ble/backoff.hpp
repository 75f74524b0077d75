#pragma once
// Exponential backoff with jitter, as a pure function so it can be checked
// without waiting. Attempt n (from 0) waits base = min(max, min * 2^n),
// shortened by up to `jitter` of itself: base * (1 - jitter * random) with
// random in [0, 1). So the wait is never above `max`, never below
// min * (1 - jitter), and two hubs that failed together drift apart.
// Thread: any. Nothing here throws.

#include <chrono>

namespace nursery::ble {

struct BackoffPolicy {
  std::chrono::milliseconds min{1'000};
  std::chrono::milliseconds max{60'000};
  double jitter = 0.5;  // 0: none; clamped to [0, 1]
};

std::chrono::milliseconds backoff_delay(const BackoffPolicy& policy, int attempt, double random);

}  // namespace nursery::ble
