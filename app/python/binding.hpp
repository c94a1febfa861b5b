#pragma once
// Shared by the binding files of the `_mtag` extension module (app/python/*.cpp): NumPy conversions,
// mtag::Error -> Python exceptions, and the scope that releases the GIL around computation.
//
// Conventions:
// - Inputs are taken as float32, C-contiguous (py::array::forcecast | c_style): a float32 C-contiguous
//   array is used in place (zero-copy); float64 or a strided view is converted once, while the GIL is held.
// - Outputs are float32 (complex64 for complex transforms) NumPy arrays that take over mtag's buffers (the
//   std::vector is moved into a capsule), so a result is never copied on its way out.
// - Every computation runs in a ComputeScope: the GIL is released, so Python threads run mtag in parallel.
#include "dsp/error.hpp"
#include "dsp/matrix.hpp"
#include "dsp/resample.hpp"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <complex>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace mtag::python {

namespace py = pybind11;

// A float32 C-contiguous array, converted only when it is not one already.
using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;
using ComplexArray = py::array_t<std::complex<float>, py::array::c_style | py::array::forcecast>;

// Bad arguments (raised as ValueError) and missing files (FileNotFoundError); anything else mtag throws
// becomes RuntimeError. The message is mtag's own.
struct ValueError : Error {
    using Error::Error;
};
struct FileNotFound : Error {
    using Error::Error;
};

// Runs f (building an options struct or a plan) and turns the mtag::Error it throws into ValueError.
template <class F>
decltype(auto) validated(F&& f) {
    try {
        return f();
    } catch (const ValueError&) {
        throw;
    } catch (const Error& e) {
        throw ValueError(e.what());
    }
}

// Runs f on a file and, when it throws because the file does not exist, raises FileNotFoundError with
// mtag's message (mtag itself says "cannot open"; Python code expects the FileNotFoundError type).
template <class F>
decltype(auto) on_file(const std::filesystem::path& path, F&& f) {
    try {
        return f();
    } catch (const Error& e) {
        std::error_code ec;
        if (!std::filesystem::exists(path, ec)) throw FileNotFound(e.what());
        throw;
    }
}

// The GIL released for the duration of a computation. Also the place where the test hook runs (see
// testing_hook in module.cpp), so a test can prove two Python threads are inside mtag at once.
class ComputeScope {
  public:
    ComputeScope();
    ~ComputeScope() = default;

  private:
    py::gil_scoped_release m_release;
};

// 1-D float32 samples of a NumPy array (any dtype NumPy can cast to float32). Throws ValueError for an
// array that is not one-dimensional, naming `what`.
FloatArray samples_of(const py::handle& y, const char* what = "y");
std::span<const float> span_of(const FloatArray& a);

// NumPy arrays that own mtag's buffers.
py::array_t<float> to_numpy(std::vector<float>&& values, std::vector<py::ssize_t> shape);
py::array_t<float> to_numpy(dsp::FloatMatrix&& m);
py::array_t<std::complex<float>> to_numpy(dsp::ComplexMatrix&& m);

// librosa's res_type names: soxr_vhq .. soxr_qq (libsoxr) and sinc_best .. sinc_fastest (libsamplerate) as
// they are, best/medium/fastest as aliases, kaiser_best, kaiser_fast, fft, ... onto the nearest; ValueError
// for anything else.
dsp::ResampleQuality resample_quality(const std::string& res_type);

// Area registration, one per binding file.
void bind_audio(py::module_& m);
void bind_effects(py::module_& m);
void bind_tagger(py::module_& m);
void bind_loader(py::module_& m);

}  // namespace mtag::python
