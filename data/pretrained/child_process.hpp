#pragma once
// Running a piece of work in a forked child process, so that a crash inside a third-party library on
// hostile input cannot take mtag down or corrupt its memory. Used for libhdf5 on downloaded or
// user-supplied Keras weights: libhdf5 1.10 (Debian 12) overflows a heap buffer on some corrupt attribute
// messages (tests/fuzz, keras_h5), and no check mtag can make before calling it prevents that.
#include <chrono>
#include <functional>
#include <stdexcept>
#include <string>

namespace mtag::data {

// The child died (signal, non-zero exit, or produced no complete result) or exceeded its time.
class ChildProcessFailed : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Runs `work` in a child process and returns the bytes it returned. The child writes them to a pipe and
// leaves with _exit (no destructors, no atexit handlers of the parent's state). An exception thrown by
// `work` is returned as the exception's message and rethrown here as mtag::Error with that message, so
// ordinary errors look the same as in-process ones. Throws ChildProcessFailed when the child crashes, exits
// abnormally, or sends nothing for `silence_limit` (a hang: the child is killed). The child keeps none of
// the parent's descriptors but stdio (no lock or temporary file outlives the parent in it) and is killed
// when the parent dies.
std::string run_in_child_process(const std::function<std::string()>& work,
                                 std::chrono::seconds silence_limit = std::chrono::seconds(120));

}  // namespace mtag::data
