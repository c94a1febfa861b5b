#include "data/pretrained/child_process.hpp"

#include "dsp/error.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>

namespace mtag::data {

namespace {

// The result travels as one status byte ('+' the work's bytes, '!' an error message) then the payload; a
// child that dies before writing it all leaves a short stream, which the parent reports as a crash.
void write_all(int fd, const char* data, std::size_t size) {
    while (size > 0) {
        const ssize_t n = ::write(fd, data, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) ::_exit(3);
        data += n;
        size -= static_cast<std::size_t>(n);
    }
}

[[noreturn]] void child_main(int fd, pid_t parent, const std::function<std::string()>& work) {
    // A parent killed while the child works (kill -9 during `model fetch`) must not leave the child running
    // with the parent's descriptors: one of them is the output folder's lock, and a rerun would be refused
    // until the child finished. So the child dies with its parent and keeps only stdio and its pipe.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(3);  // the parent was gone before prctl took effect
    if (fd > 3) ::close_range(3, static_cast<unsigned>(fd) - 1, 0);
    ::close_range(static_cast<unsigned>(fd) + 1, ~0U, 0);
    // The parent's handlers are not the child's: a crash must end the child with its signal (not run
    // a crash reporter or a cleanup of the parent's temporary files), and a gone reader must end it too.
    for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGINT, SIGTERM, SIGHUP, SIGPIPE})
        ::signal(sig, SIG_DFL);
    std::string out;
    try {
        out = '+' + work();
    } catch (const std::exception& e) {
        out = std::string("!") + e.what();
    } catch (...) {
        out = "!unknown error";
    }
    write_all(fd, out.data(), out.size());
    ::close(fd);
    ::_exit(0);
}

std::string describe(int status) {
    if (WIFSIGNALED(status)) {
        const char* name = ::strsignal(WTERMSIG(status));
        return "was killed by signal " + std::to_string(WTERMSIG(status)) + (name ? std::string(" (") + name + ")" : "");
    }
    if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
    return "ended abnormally";
}

}  // namespace

std::string run_in_child_process(const std::function<std::string()>& work, std::chrono::seconds silence_limit) {
    const pid_t parent = ::getpid();
    int fds[2];
    if (::pipe(fds) != 0) throw Error("child process", std::string("cannot create a pipe: ") + std::strerror(errno));
    const pid_t pid = ::fork();
    if (pid < 0) {
        const int e = errno;
        ::close(fds[0]);
        ::close(fds[1]);
        throw Error("child process", std::string("cannot fork: ") + std::strerror(e));
    }
    if (pid == 0) {
        ::close(fds[0]);
        child_main(fds[1], parent, work);
    }
    ::close(fds[1]);
    std::string received;
    bool hung = false;
    char buffer[1 << 16];
    for (;;) {
        pollfd p{fds[0], POLLIN, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(silence_limit.count() * 1000));
        if (ready < 0 && errno == EINTR) continue;
        if (ready == 0) {
            hung = true;
            ::kill(pid, SIGKILL);
            break;
        }
        const ssize_t n = ::read(fds[0], buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        received.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(fds[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (hung)
        throw ChildProcessFailed("sent nothing for " + std::to_string(silence_limit.count()) + " s and was killed");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || received.empty())
        throw ChildProcessFailed(describe(status));
    if (received[0] == '!') throw Error(received.substr(1));
    if (received[0] != '+') throw ChildProcessFailed("sent a malformed result");
    return received.substr(1);
}

}  // namespace mtag::data
