#pragma once
// mtag::Error: the one exception type mtag throws at its boundaries (files, options, model cards).
// Header-only and dependency-free so that every library (dsp, nn, data, app) may include it; this is
// the single header of dsp/ that nn/ is allowed to see (target mtag_error).
#include <stdexcept>
#include <string>
#include <utility>

namespace mtag {

// A failure the user can act on. The message is one line that says where (file or option), what is
// wrong and, where possible, what to do; app/main.cpp prints it as "mtag: error: <message>".
class Error : public std::runtime_error {
public:
    explicit Error(const std::string& message) : std::runtime_error(message) {}
    // Context first, then the problem: Error("audio file 'x.wav'", "is a directory").
    Error(const std::string& context, const std::string& problem)
        : std::runtime_error(context + ": " + problem) {}
};

// Bad command-line usage (unknown option, missing argument): exit code 2 rather than 1.
class UsageError : public Error {
public:
    using Error::Error;
};

}  // namespace mtag
