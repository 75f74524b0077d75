#pragma once
// One nurseryd per state directory. Two daemons on one database would both
// resume the same open run on the same devices, whatever their sockets.
// The lock is STATE_DIR/nurseryd.lock held with flock(LOCK_EX | LOCK_NB) for
// the life of the object (the kernel drops it when the process dies, even by
// SIGKILL, so a crash never leaves a stale lock); the file holds the
// holder's pid, for the message a second daemon gives. The file is never
// removed: removing it would let a third daemon lock a new file while the
// first still holds the old one.
//
// Thread: any, but construct it before the store is opened. Does not throw.

#include <sys/types.h>

#include <filesystem>

#include "daemon/expected.hpp"

namespace nursery {

class StateLock {
 public:
  // Takes the lock. Errors: "state_dir_in_use" when another process holds it
  // ("another nurseryd (pid N) is using DIR"), "state_dir_error" when the
  // lock file cannot be created or locked (a missing directory, say).
  static Expected<StateLock> acquire(const std::filesystem::path& state_dir);

  StateLock(StateLock&& other) noexcept;
  StateLock& operator=(StateLock&& other) noexcept;
  StateLock(const StateLock&) = delete;
  StateLock& operator=(const StateLock&) = delete;
  ~StateLock();

  const std::filesystem::path& path() const { return path_; }

 private:
  StateLock(int fd, std::filesystem::path path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::filesystem::path path_;
};

}  // namespace nursery
