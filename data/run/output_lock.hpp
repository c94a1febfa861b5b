#pragma once
// OutputLock: at most one mtag process writes a given output directory at a time. Two `mtag train --out run`
// (or extract, tag --embeddings, model import/fetch) into the same folder would interleave checkpoints,
// journals and renames; the second one refuses instead, naming the directory and the holder's pid.
//
// How: flock(2) on a lock file, exclusive and non-blocking. The kernel releases a flock when its holder
// exits for any reason (kill -9, a crash, a power cut), so a dead process never holds a directory: no stale
// pid file to clean up by hand. The file stays after a run (deleting it would let a third process lock a
// fresh inode while the second still holds the old one); its content, "<pid> <command>", only serves the
// message. Under MPI only rank 0 locks (the ranks of one job write the same directory on purpose).
// flock on NFS is emulated with POSIX byte-range locks by Linux (>= 2.6.12) and works across clients.
#include <filesystem>
#include <string>

namespace mtag::data {

class OutputLock {
  public:
    // What to do when another process holds the lock: throw mtag::Error (the default), or wait for it
    // (saying so on stderr once) — for a shared cache a second user only has to wait for.
    enum class Busy { refuse, wait };

    // Locks DIR/.mtag.lock, creating DIR: for outputs written file by file inside the directory (train,
    // extract, tag --embeddings / --taggram). `what` names the directory in messages ("--out run");
    // `command` is recorded for the message another process prints ("mtag train").
    static OutputLock in_directory(const std::filesystem::path& dir, const std::string& what,
                                   const std::string& command, Busy busy = Busy::refuse);
    // Locks PARENT/.NAME.mtag.lock, creating PARENT: for a directory that appears whole through a rename
    // (model import, model fetch) and so cannot hold its own lock file while being written.
    static OutputLock beside(const std::filesystem::path& dir, const std::string& what, const std::string& command,
                             Busy busy = Busy::refuse);

    OutputLock(OutputLock&& other) noexcept;
    OutputLock& operator=(OutputLock&& other) noexcept;
    OutputLock(const OutputLock&) = delete;
    OutputLock& operator=(const OutputLock&) = delete;
    ~OutputLock();  // releases the lock (closing the descriptor); the file stays

    const std::filesystem::path& file() const { return m_file; }

  private:
    OutputLock(std::filesystem::path file, const std::string& what, const std::string& command, Busy busy);
    std::filesystem::path m_file;
    int m_fd = -1;
};

}  // namespace mtag::data
