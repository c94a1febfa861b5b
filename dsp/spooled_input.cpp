#include "dsp/spooled_input.hpp"

#include "dsp/error.hpp"

#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <system_error>
#include <unistd.h>
#include <vector>

namespace mtag::dsp {

namespace fs = std::filesystem;

namespace {

std::string describe(const std::string& source) {
    return source == "-" ? "input '-' (standard input)" : "input '" + source + "'";
}

// Closes a file descriptor on every path out of the constructor.
struct Descriptor {
    int fd = -1;
    bool owned = true;
    ~Descriptor() {
        if (fd >= 0 && owned) ::close(fd);
    }
};

// Copies still on disk, so that Ctrl-C (SIGINT), SIGTERM or SIGHUP, which end `tag` and `extract` at once,
// do not leave them in $TMPDIR: the handler removes them with unlink and rmdir (both async-signal-safe), then
// dies of the signal as it would have. It is installed only over the default action, so a command with its own
// handler (train's Ctrl-C checkpoint) keeps it. Paths are written before a slot is marked live, and the handler
// reads only live slots.
class LiveCopies {
public:
    static LiveCopies& instance() {
        static LiveCopies copies;
        return copies;
    }

    // A slot for the copy, or -1 when all are taken or a path does not fit (the copy is then only removed by the
    // destructor).
    int add(const std::string& folder, const std::string& file) {
        if (folder.size() >= kPath || file.size() >= kPath) return -1;
        std::lock_guard lock(m_mutex);
        install_handlers();
        for (int i = 0; i < kSlots; ++i) {
            Slot& slot = m_slots[static_cast<std::size_t>(i)];
            if (slot.live.load(std::memory_order_relaxed)) continue;
            std::memcpy(slot.folder, folder.c_str(), folder.size() + 1);
            std::memcpy(slot.file, file.c_str(), file.size() + 1);
            slot.live.store(true, std::memory_order_release);
            return i;
        }
        return -1;
    }

    void remove(int i) {
        if (i >= 0) m_slots[static_cast<std::size_t>(i)].live.store(false, std::memory_order_release);
    }

private:
    static constexpr int kSlots = 64;
    static constexpr std::size_t kPath = 4096;
    struct Slot {
        std::atomic<bool> live{false};
        char folder[kPath] = {};
        char file[kPath] = {};
    };

    static void on_signal(int sig) {
        for (Slot& slot : instance().m_slots) {
            if (!slot.live.load(std::memory_order_acquire)) continue;
            ::unlink(slot.file);
            ::rmdir(slot.folder);
        }
        std::signal(sig, SIG_DFL);
        std::raise(sig);
    }

    void install_handlers() {
        if (m_installed) return;
        m_installed = true;
        for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
            struct sigaction old {};
            if (::sigaction(sig, nullptr, &old) != 0 || old.sa_handler != SIG_DFL) continue;
            struct sigaction action {};
            action.sa_handler = on_signal;
            sigemptyset(&action.sa_mask);
            ::sigaction(sig, &action, nullptr);
        }
    }

    std::mutex m_mutex;
    bool m_installed = false;
    std::array<Slot, kSlots> m_slots;
};

}  // namespace

bool is_stream_input(const fs::path& path) {
    if (path == "-") return true;
    std::error_code ec;
    const fs::file_status status = fs::status(path, ec);
    if (ec || !fs::exists(status)) return false;
    return !fs::is_regular_file(status) && !fs::is_directory(status);
}

std::string SpooledInput::name() const {
    if (m_source == "-") return "stdin";
    const std::string file = fs::path(m_source).filename().string();
    return file.empty() || file == "." || file == ".." ? "stream" : file;
}

SpooledInput::SpooledInput(const fs::path& source, std::uint64_t max_bytes) : m_source(source.string()) {
    const std::string what = describe(m_source);
    Descriptor in;
    if (m_source == "-") {
        in.fd = STDIN_FILENO;
        in.owned = false;
    } else {
        in.fd = ::open(source.c_str(), O_RDONLY | O_CLOEXEC);
        if (in.fd < 0) throw Error(what, std::string("cannot be opened: ") + std::strerror(errno));
    }
    std::error_code ec;
    const fs::path base = fs::temp_directory_path(ec);
    if (ec) {
        const char* tmpdir = std::getenv("TMPDIR");
        throw Error(what, "no temporary folder to copy the stream into (TMPDIR '" + std::string(tmpdir ? tmpdir : "") +
                              "': " + ec.message() + "); set TMPDIR to an existing, writable folder");
    }
    std::string folder = (base / "mtag-stream-XXXXXX").string();
    if (::mkdtemp(folder.data()) == nullptr)
        throw Error(what, "cannot create a temporary folder in '" + base.string() + "' to copy the stream into: " +
                              std::strerror(errno) + "; set TMPDIR to a writable folder");
    m_folder = folder;
    m_path = m_folder / name();
    m_slot = LiveCopies::instance().add(m_folder.string(), m_path.string());
    try {
        Descriptor out;
        out.fd = ::open(m_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (out.fd < 0) throw Error(what, "cannot write its copy '" + m_path.string() + "': " + std::strerror(errno));
        std::vector<char> buffer(std::size_t{1} << 20);
        std::uint64_t total = 0;
        for (;;) {
            const ssize_t got = ::read(in.fd, buffer.data(), buffer.size());
            if (got < 0 && errno == EINTR) continue;
            if (got < 0) throw Error(what, std::string("cannot be read: ") + std::strerror(errno));
            if (got == 0) break;
            total += static_cast<std::uint64_t>(got);
            if (total > max_bytes)
                throw Error(what, "is longer than " + std::to_string(max_bytes >> 20) +
                                      " MiB, the most mtag copies from a stream; save it to a file and pass that");
            for (ssize_t done = 0; done < got;) {
                const ssize_t put = ::write(out.fd, buffer.data() + done, static_cast<std::size_t>(got - done));
                if (put < 0 && errno == EINTR) continue;
                if (put < 0)
                    throw Error(what, "cannot write its copy '" + m_path.string() + "': " + std::strerror(errno));
                done += put;
            }
        }
        if (total == 0) throw Error(what, "gave no bytes (the stream was empty or already read)");
    } catch (...) {
        fs::remove_all(m_folder, ec);
        LiveCopies::instance().remove(m_slot);
        throw;
    }
}

SpooledInput::~SpooledInput() {
    std::error_code ec;
    fs::remove_all(m_folder, ec);
    LiveCopies::instance().remove(m_slot);
}

}  // namespace mtag::dsp
