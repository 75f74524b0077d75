// kill -9 in the middle of writing: a child process writes as fast as it can
// and is killed; the file must stay intact and keep what was committed.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "daemon/store/store.hpp"
#include "store_test_support.hpp"

namespace nursery {
namespace {

using namespace std::chrono_literals;

// Runs in the forked child: never returns. Writes one byte to `ready` once a
// run and its first event are committed, then keeps writing until killed (or
// gives up after a few seconds, so an orphan cannot live on).
[[noreturn]] void write_until_killed(const std::filesystem::path& file, int ready) {
  auto store = SqliteStore::open(file);
  if (!store) _exit(2);
  RunRecord run;
  run.room = "nursery";
  run.routine = "bedtime";
  run.started_at = at_ms(kEvening);
  auto id = (*store)->begin_run(run);
  if (!id) _exit(3);
  run.id = *id;
  const auto give_up = std::chrono::steady_clock::now() + 5s;
  for (std::int64_t i = 0; std::chrono::steady_clock::now() < give_up; ++i) {
    EventRecord event{at_ms(kEvening + i),
                      "nursery",
                      "lamp",
                      "step",
                      "the lamp fades to warm white, " + std::to_string(i),
                      "routine"};
    if (!(*store)->add_event(event)) _exit(4);
    if (i % 16 == 0) {
      run.skipped = Duration{i};
      if (!(*store)->update_run(run)) _exit(5);
    }
    if (i == 0) {
      const char byte = 'r';
      if (write(ready, &byte, 1) != 1) _exit(6);
    }
  }
  _exit(7);
}

using SqliteStoreCrashTest = StoreDirTest;

TEST_F(SqliteStoreCrashTest, AStoreKilledWhileWritingReopensIntactWithItsCommittedRun) {
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(pipe_fds[0]);
    write_until_killed(db_file(), pipe_fds[1]);
  }
  close(pipe_fds[1]);

  pollfd ready{pipe_fds[0], POLLIN, 0};
  const int polled = poll(&ready, 1, 3000);
  char byte = 0;
  const bool child_ready = polled == 1 && read(pipe_fds[0], &byte, 1) == 1;
  close(pipe_fds[0]);
  if (child_ready) std::this_thread::sleep_for(20ms);  // let it get well into writing

  kill(child, SIGKILL);
  int wstatus = 0;
  ASSERT_EQ(waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(child_ready) << "the child did not start writing; it exited with status "
                           << (WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1);
  ASSERT_TRUE(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL)
      << "the child stopped before it was killed";
  // The kill left the WAL behind: the reopen below has to recover from it.
  EXPECT_GT(file_size_or_zero(wal_file()), 0u);

  auto store = SqliteStore::open(db_file());
  ASSERT_TRUE(store) << store.error().message;
  auto report = (*store)->integrity_check();
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(*report, "ok");

  auto open = (*store)->open_runs();
  ASSERT_TRUE(open) << open.error().message;
  ASSERT_EQ(open->size(), 1u);
  EXPECT_EQ(open->front().room, "nursery");
  EXPECT_EQ(open->front().started_at, at_ms(kEvening));
  auto events = (*store)->recent_events(5);
  ASSERT_TRUE(events) << events.error().message;
  EXPECT_FALSE(events->empty());
}

}  // namespace
}  // namespace nursery
