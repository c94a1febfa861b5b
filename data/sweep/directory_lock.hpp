#pragma once
// An exclusive lock on a work directory (flock(2) on DIR/NAME), held for the lifetime of the object, so two
// sweeps (or cross-validations) on the same directory cannot interleave their trials. The kernel drops an
// flock when its process dies, kill -9 included: a stale lock file never blocks a rerun.
#include <filesystem>
#include <string>

namespace mtag::data {

class DirectoryLock {
  public:
    // Creates DIR (and DIR/NAME) as needed and takes the lock without waiting; throws mtag::Error naming the
    // directory and the holder's pid when another process holds it. `what` names the job ("sweep").
    DirectoryLock(const std::filesystem::path& dir, const std::string& name, const std::string& what);
    ~DirectoryLock();
    DirectoryLock(const DirectoryLock&) = delete;
    DirectoryLock& operator=(const DirectoryLock&) = delete;

  private:
    int m_fd = -1;
};

}  // namespace mtag::data
