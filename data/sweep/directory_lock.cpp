#include "data/sweep/directory_lock.hpp"

#include "dsp/error.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace mtag::data {

DirectoryLock::DirectoryLock(const std::filesystem::path& dir, const std::string& name, const std::string& what) {
    std::filesystem::create_directories(dir);
    const std::filesystem::path file = dir / name;
    m_fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (m_fd < 0) throw Error(std::string("'") + file.string() + "'", std::string("cannot open the lock file: ") + std::strerror(errno));
    if (::flock(m_fd, LOCK_EX | LOCK_NB) != 0) {
        const int error = errno;
        char pid[32] = {};
        const ssize_t n = ::pread(m_fd, pid, sizeof pid - 1, 0);
        ::close(m_fd);
        m_fd = -1;
        if (error == EWOULDBLOCK) {
            std::string holder = n > 0 ? std::string(pid, static_cast<std::size_t>(n)) : std::string("?");
            while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
            throw Error("--out " + dir.string(), "another " + what + " (pid " + holder +
                                                     ") is running in this directory; wait for it or use another --out");
        }
        throw Error(std::string("'") + file.string() + "'", std::string("cannot be locked: ") + std::strerror(error));
    }
    // The holder's pid, for the message above (informational: the flock itself is the lock).
    const std::string text = std::to_string(::getpid()) + "\n";
    if (::ftruncate(m_fd, 0) == 0) (void)!::pwrite(m_fd, text.data(), text.size(), 0);
}

DirectoryLock::~DirectoryLock() {
    if (m_fd >= 0) ::close(m_fd);  // releases the flock
}

}  // namespace mtag::data
