#pragma once
// Shared by the store tests: a scratch directory per test, and readable
// failure messages for the records.

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <ostream>
#include <string>

#include "daemon/run_store.hpp"

namespace nursery {

inline void PrintTo(const Pause& p, std::ostream* os) {
  *os << "[" << format_utc(p.from) << ", " << (p.to ? format_utc(*p.to) : "open") << "]";
}

inline void PrintTo(const RunRecord& r, std::ostream* os) {
  *os << "run " << r.id << " " << r.room << "/" << r.routine << " from " << format_utc(r.started_at)
      << " skipped " << r.skipped.count() << "ms pauses {";
  for (const auto& p : r.pauses) PrintTo(p, os);
  *os << "} ended " << (r.ended_at ? format_utc(*r.ended_at) : "-") << " outcome "
      << (r.outcome ? outcome_name(*r.outcome) : "-");
}

inline TimePoint at_ms(std::int64_t ms) { return TimePoint{Duration{ms}}; }

// 2024-06-01T19:00:00Z, a plausible bedtime.
inline constexpr std::int64_t kEvening = 1717268400000;

// A fresh directory under the system's temporary directory, removed after
// the test.
class StoreDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "nursery-store-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::filesystem::path db_file() const { return dir_ / "nurseryd.db"; }
  std::filesystem::path wal_file() const { return dir_ / "nurseryd.db-wal"; }

  static std::string file_bytes(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  // 0 when the file does not exist.
  static std::uintmax_t file_size_or_zero(const std::filesystem::path& file) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(file, ec);
    return ec ? 0 : size;
  }

  std::filesystem::path dir_;
};

}  // namespace nursery
