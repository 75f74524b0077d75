// The store on a real, small, full disk: a tmpfs mounted for the test and
// filled with a file, as an SD card fills with logs. Needs root (CI runs as
// root); elsewhere the tests are skipped with the reason.
#include <SQLiteCpp/SQLiteCpp.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "daemon/store/store.hpp"
#include "store_test_support.hpp"

namespace nursery {
namespace {

namespace fs = std::filesystem;

class FullDiskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root";
    std::string pattern = (fs::temp_directory_path() / "nursery-full-disk-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    if (::mount("tmpfs", dir_.c_str(), "tmpfs", 0, "size=1m,mode=0700") != 0) {
      const std::string why = std::strerror(errno);
      fs::remove(dir_);
      dir_.clear();
      GTEST_SKIP() << "cannot mount a tmpfs: " << why;
    }
    mounted_ = true;
  }

  void TearDown() override {
    store_.reset();
    if (mounted_) {
      EXPECT_EQ(::umount(dir_.c_str()), 0) << std::strerror(errno);
    }
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  fs::path db_file() const { return dir_ / "nurseryd.db"; }

  void open_store() {
    auto store = SqliteStore::open(db_file());
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(*store);
  }

  // Writes a file until the disk refuses another byte.
  void fill_disk() {
    const fs::path filler = dir_ / "filler";
    const int fd = ::open(filler.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ASSERT_GE(fd, 0) << std::strerror(errno);
    const std::vector<char> block(4096, 'x');
    while (::write(fd, block.data(), block.size()) > 0) {
    }
    while (::write(fd, block.data(), 1) > 0) {
    }
    const int err = errno;
    ::close(fd);
    ASSERT_EQ(err, ENOSPC) << std::strerror(err);
  }

  void free_disk() { fs::remove(dir_ / "filler"); }

  RunRecord bedtime(std::int64_t at) {
    RunRecord run;
    run.room = "nursery";
    run.routine = "bedtime";
    run.started_at = at_ms(at);
    return run;
  }

  fs::path dir_;
  bool mounted_ = false;
  std::unique_ptr<SqliteStore> store_;
};

TEST_F(FullDiskTest, StoresTheEndAndPauseOfARunFromTheReserveWhenTheDiskIsFull) {
  open_store();
  RunRecord run = bedtime(kEvening);
  run.id = store_->begin_run(run).value();
  for (int i = 0; i < 20; ++i)
    ASSERT_TRUE(store_->add_event({at_ms(kEvening + i), "nursery", "lamp", "step", "dim", "test"}));
  EXPECT_FALSE(store_->health().degraded());

  fill_disk();
  run.pauses.push_back({at_ms(kEvening + 60'000), at_ms(kEvening + 120'000)});
  auto paused = store_->update_run(run);
  ASSERT_TRUE(paused) << paused.error().message;
  auto ended = store_->end_run(run.id, at_ms(kEvening + 600'000), Outcome::Stopped);
  ASSERT_TRUE(ended) << ended.error().message;

  const StoreHealth health = store_->health();
  EXPECT_TRUE(health.reserve_released);
  EXPECT_FALSE(health.last_write_failed);
  EXPECT_TRUE(health.degraded());
  EXPECT_NE(health.reason.find("free some space"), std::string::npos) << health.reason;

  // What a restart would read: the stopped run is not open any more.
  store_.reset();
  open_store();
  EXPECT_TRUE(store_->open_runs().value().empty());
  const auto runs = store_->recent_runs({.limit = 10}).value();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].outcome, Outcome::Stopped);
  EXPECT_EQ(runs[0].pauses.size(), 1u);
}

TEST_F(FullDiskTest, RefusesEventsWhileTheReserveIsInUseToKeepItsRoomForRuns) {
  open_store();
  RunRecord run = bedtime(kEvening);
  run.id = store_->begin_run(run).value();
  fill_disk();
  ASSERT_TRUE(store_->update_run(run));
  ASSERT_TRUE(store_->health().reserve_released);
  auto event = store_->add_event({at_ms(kEvening), "nursery", "", "manual", "on", "test"});
  ASSERT_FALSE(event);
  EXPECT_EQ(event.error().code, "storage_full");
  EXPECT_EQ(event.error().http_status, 507);
}

TEST_F(FullDiskTest, OnceTheReserveIsGoneAWriteFailsAsStorageFullAndNothingStoredIsLost) {
  open_store();
  RunRecord first = bedtime(kEvening);
  first.id = store_->begin_run(first).value();
  ASSERT_TRUE(store_->end_run(first.id, at_ms(kEvening + 1000), Outcome::Completed));
  fill_disk();

  // Long room names fill pages fast; each run takes room the disk has not.
  Error failure;
  int stored = 0;
  for (int i = 1; i < 5000; ++i) {
    RunRecord run = bedtime(kEvening + i * 1000);
    run.room = std::string(200, 'r') + std::to_string(i);
    auto id = store_->begin_run(run);
    if (!id) {
      failure = id.error();
      break;
    }
    ++stored;
  }
  ASSERT_EQ(failure.code, "storage_full") << failure.message;
  EXPECT_EQ(failure.http_status, 507);
  EXPECT_NE(failure.message.find("the hub's storage is full: free some space on the SD card"),
            std::string::npos)
      << failure.message;
  // A 64 KiB reserve holds some 250 of these rows (without it, about 20
  // fit in what the WAL file had room for).
  EXPECT_GE(stored, 150) << "the reserve let too few writes through";
  EXPECT_TRUE(store_->health().last_write_failed);
  EXPECT_TRUE(store_->health().degraded());

  EXPECT_EQ(store_->integrity_check().value(), "ok");
  const auto runs = store_->recent_runs({.limit = 10'000}).value();
  EXPECT_EQ(runs.size(), static_cast<std::size_t>(stored) + 1);
  EXPECT_EQ(runs.back().id, first.id);
  EXPECT_EQ(runs.back().outcome, Outcome::Completed);
}

TEST_F(FullDiskTest, WritesAgainAndRestoresTheReserveOnceSpaceIsFreed) {
  open_store();
  RunRecord run = bedtime(kEvening);
  run.id = store_->begin_run(run).value();
  fill_disk();
  Error failure;
  for (int i = 1; i < 5000 && failure.code.empty(); ++i) {
    RunRecord more = bedtime(kEvening + i);
    more.room = std::string(200, 'r');
    if (auto id = store_->begin_run(more); !id) failure = id.error();
  }
  ASSERT_EQ(failure.code, "storage_full");

  free_disk();
  auto ended = store_->end_run(run.id, at_ms(kEvening + 60'000), Outcome::Stopped);
  ASSERT_TRUE(ended) << ended.error().message;
  EXPECT_FALSE(store_->health().degraded()) << store_->health().reason;
  EXPECT_TRUE(store_->add_event({at_ms(kEvening), "nursery", "", "manual", "on", "test"}));

  // The reserve is back in the file, as another connection sees it.
  SQLite::Database db(db_file().string(), SQLite::OPEN_READONLY);
  SQLite::Statement st(db, "SELECT coalesce(sum(length(space)), 0) FROM reserve");
  ASSERT_TRUE(st.executeStep());
  EXPECT_EQ(st.getColumn(0).getInt64(), 64 * 1024);
  EXPECT_EQ(store_->integrity_check().value(), "ok");
}

}  // namespace
}  // namespace nursery
