#include "daemon/store/state_lock.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

namespace nursery {

namespace {

// The pid the holder wrote, or "unknown" while it has not written it yet.
std::string holder_pid(int fd) {
  char buffer[32] = {};
  const ssize_t n = ::pread(fd, buffer, sizeof buffer - 1, 0);
  std::string text(buffer, n > 0 ? static_cast<std::size_t>(n) : 0);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  const bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
  return digits ? text : "unknown";
}

}  // namespace

Expected<StateLock> StateLock::acquire(const std::filesystem::path& state_dir) {
  const std::filesystem::path path = state_dir / "nurseryd.lock";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) {
    const int err = errno;
    return Error{
        "state_dir_error",
        fmt::format("cannot create the lock file {}: {}{}", path.string(), std::strerror(err),
                    err == ENOENT
                        ? fmt::format(" (the directory {} does not exist)", state_dir.string())
                        : ""),
        500};
  }
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    Error error =
        err == EWOULDBLOCK
            ? Error{"state_dir_in_use",
                    fmt::format("another nurseryd (pid {}) is using {}", holder_pid(fd),
                                state_dir.string()),
                    409}
            : Error{"state_dir_error",
                    fmt::format("cannot lock {}: {}", path.string(), std::strerror(err)), 500};
    ::close(fd);
    return error;
  }
  // The pid is for the message only: a disk too full to take it does not
  // weaken the lock.
  const std::string pid = fmt::format("{}\n", ::getpid());
  if (::ftruncate(fd, 0) == 0 && ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    // Nothing to do: see above.
  }
  return StateLock(fd, path);
}

StateLock::StateLock(StateLock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

StateLock& StateLock::operator=(StateLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
  }
  return *this;
}

StateLock::~StateLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace nursery
