#include "data/run/output_lock.hpp"

#include "dsp/error.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <utility>

namespace mtag::data {

namespace fs = std::filesystem;

namespace {

// "pid 1234: mtag train" from the lock file's content, or "pid unknown" while the holder has not yet written
// it (it locks first, then writes).
std::string holder_of(int fd) {
    char buffer[256] = {};
    const ssize_t n = ::pread(fd, buffer, sizeof buffer - 1, 0);
    std::string text = n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string();
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    const std::size_t space = text.find(' ');
    if (text.empty() || text.find_first_not_of("0123456789") == 0) return "pid unknown";
    if (space == std::string::npos) return "pid " + text;
    return "pid " + text.substr(0, space) + ": " + text.substr(space + 1);
}

void create_directories(const fs::path& dir, const std::string& what) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw Error(what, "cannot create directory '" + dir.string() + "': " + ec.message());
}

}  // namespace

OutputLock OutputLock::in_directory(const fs::path& dir, const std::string& what, const std::string& command,
                                    Busy busy) {
    create_directories(dir, what);
    return OutputLock(dir / ".mtag.lock", what, command, busy);
}

OutputLock OutputLock::beside(const fs::path& dir, const std::string& what, const std::string& command, Busy busy) {
    // "runs/model/" names the same directory as "runs/model".
    const fs::path normal = dir.lexically_normal();
    const fs::path path = normal.has_filename() ? normal : normal.parent_path();
    const fs::path parent = path.has_parent_path() ? path.parent_path() : fs::path(".");
    create_directories(parent, what);
    std::string name = ".";
    name += path.filename().string();
    name += ".mtag.lock";
    return OutputLock(parent / name, what, command, busy);
}

OutputLock::OutputLock(fs::path file, const std::string& what, const std::string& command, Busy busy)
    : m_file(std::move(file)) {
    m_fd = ::open(m_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (m_fd < 0)
        throw Error(what, "cannot create the lock file '" + m_file.string() + "': " + std::strerror(errno));
    if (::flock(m_fd, LOCK_EX | LOCK_NB) != 0) {
        const int err = errno;
        if (err != EWOULDBLOCK) {
            ::close(m_fd);
            throw Error(what, "cannot lock '" + m_file.string() + "': " + std::strerror(err));
        }
        const std::string holder = holder_of(m_fd);
        if (busy == Busy::refuse) {
            ::close(m_fd);
            throw Error(what, "is being written by another mtag process (" + holder + ", holding " + m_file.string() +
                                  "); wait for it to finish or choose another directory");
        }
        std::cerr << "mtag: waiting for another mtag process (" << holder << ") writing " << what << "\n";
        int rc;
        while ((rc = ::flock(m_fd, LOCK_EX)) != 0 && errno == EINTR) {
        }
        if (rc != 0) {
            const int e = errno;
            ::close(m_fd);
            throw Error(what, "cannot lock '" + m_file.string() + "': " + std::strerror(e));
        }
    }
    // Ours now: record who holds it for the message another process prints. Best effort (a full disk must
    // not stop the lock from working; the message then says "pid unknown").
    const std::string text = std::to_string(::getpid()) + " " + command + "\n";
    if (::ftruncate(m_fd, 0) == 0) {
        [[maybe_unused]] const ssize_t written = ::pwrite(m_fd, text.data(), text.size(), 0);
    }
}

OutputLock::OutputLock(OutputLock&& other) noexcept
    : m_file(std::move(other.m_file)), m_fd(std::exchange(other.m_fd, -1)) {}

OutputLock& OutputLock::operator=(OutputLock&& other) noexcept {
    if (this != &other) {
        if (m_fd >= 0) ::close(m_fd);
        m_file = std::move(other.m_file);
        m_fd = std::exchange(other.m_fd, -1);
    }
    return *this;
}

OutputLock::~OutputLock() {
    if (m_fd >= 0) ::close(m_fd);  // releases the flock
}

}  // namespace mtag::data
