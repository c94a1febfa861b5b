// The `_mtag` extension module: mtag's C++ libraries behind the thin Python package app/python/mtag/.
// This file holds what every area shares (exception translation, NumPy conversions, the GIL scope and
// its test hook); the functions are bound per area in audio.cpp, effects.cpp, tagger.cpp and loader.cpp.
#include "app/python/binding.hpp"

#include "mtag_version.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace mtag::python {

namespace {

// A rendezvous the tests arm to prove that the GIL is released: every ComputeScope (i.e. every mtag call,
// after it has released the GIL) checks in and waits until `expected` calls are inside at once, or until
// the timeout. If a call held the GIL, the second Python thread could never enter and the count would
// stay at one. Disarmed (expected == 0) it costs one relaxed atomic load.
struct Rendezvous {
    std::mutex mutex;
    std::condition_variable arrived;
    std::atomic<int> expected{0};
    int inside = 0;
    int peak = 0;
    double timeout_seconds = 10.0;
};

Rendezvous& rendezvous() {
    static Rendezvous r;
    return r;
}

void testing_hook() {
    Rendezvous& r = rendezvous();
    if (r.expected.load(std::memory_order_relaxed) == 0) return;
    std::unique_lock lock(r.mutex);
    const int expected = r.expected.load();
    if (expected == 0) return;
    ++r.inside;
    r.peak = std::max(r.peak, r.inside);
    r.arrived.notify_all();
    r.arrived.wait_for(lock, std::chrono::duration<double>(r.timeout_seconds),
                       [&] { return r.peak >= expected; });
}

}  // namespace

ComputeScope::ComputeScope() {
    testing_hook();
}

FloatArray samples_of(const py::handle& y, const char* what) {
    FloatArray a;
    try {
        a = FloatArray::ensure(y);
    } catch (const py::error_already_set&) {
        a = FloatArray();
    }
    if (!a) throw ValueError(std::string(what) + ": expected a NumPy array of real numbers");
    if (a.ndim() != 1)
        throw ValueError(std::string(what) + ": expected a 1-D signal, got " + std::to_string(a.ndim()) +
                         " dimensions (mix to mono first, e.g. y.mean(axis=0))");
    return a;
}

std::span<const float> span_of(const FloatArray& a) {
    return {a.data(), static_cast<std::size_t>(a.size())};
}

py::array_t<float> to_numpy(std::vector<float>&& values, std::vector<py::ssize_t> shape) {
    auto* owner = new std::vector<float>(std::move(values));
    py::capsule free_when_done(owner, [](void* p) { delete static_cast<std::vector<float>*>(p); });
    return py::array_t<float>(shape, owner->data(), free_when_done);
}

py::array_t<float> to_numpy(dsp::FloatMatrix&& m) {
    const auto rows = static_cast<py::ssize_t>(m.rows), cols = static_cast<py::ssize_t>(m.cols);
    return to_numpy(std::move(m.data), {rows, cols});
}

py::array_t<std::complex<float>> to_numpy(dsp::ComplexMatrix&& m) {
    auto* owner = new std::vector<std::complex<float>>(std::move(m.data));
    py::capsule free_when_done(owner,
                               [](void* p) { delete static_cast<std::vector<std::complex<float>>*>(p); });
    return py::array_t<std::complex<float>>({static_cast<py::ssize_t>(m.rows), static_cast<py::ssize_t>(m.cols)},
                                            owner->data(), free_when_done);
}

}  // namespace mtag::python

PYBIND11_MODULE(_mtag, m) {
    namespace py = pybind11;
    using namespace mtag::python;
    m.doc() = "mtag's C++ core; use the `mtag` package, which documents and wraps these functions.";
    m.attr("__version__") = mtag::version;

    // mtag::Error and its subclasses become Python exceptions carrying mtag's message.
    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const FileNotFound& e) {
            PyErr_SetString(PyExc_FileNotFoundError, e.what());
        } catch (const ValueError& e) {
            PyErr_SetString(PyExc_ValueError, e.what());
        } catch (const mtag::UsageError& e) {
            PyErr_SetString(PyExc_ValueError, e.what());
        } catch (const mtag::Error& e) {
            PyErr_SetString(PyExc_RuntimeError, e.what());
        }
    });

    py::module_ testing = m.def_submodule("_testing", "Hooks for mtag's own tests.");
    testing.def(
        "arm_rendezvous",
        [](int expected, double timeout_seconds) {
            Rendezvous& r = rendezvous();
            std::lock_guard lock(r.mutex);
            r.inside = 0;
            r.peak = 0;
            r.timeout_seconds = timeout_seconds;
            r.expected = expected;
        },
        py::arg("expected"), py::arg("timeout_seconds") = 10.0,
        "Every mtag computation waits (GIL released) until `expected` of them are inside at once.");
    testing.def("disarm_rendezvous", [] {
        Rendezvous& r = rendezvous();
        std::lock_guard lock(r.mutex);
        r.expected = 0;
        const int peak = r.peak;
        r.peak = 0;
        r.arrived.notify_all();
        return peak;
    }, "Disarms the rendezvous; returns the most computations that were inside mtag at once since it was armed.");

    bind_audio(m);
    bind_effects(m);
    bind_tagger(m);
    bind_loader(m);
}
