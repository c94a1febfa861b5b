#include "data/extract/segments.hpp"

#include "dsp/audio_io.hpp"
#include "dsp/error.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace mtag::data {

namespace fs = std::filesystem;

namespace {

// Output samples decoded beyond a segment's frames on each side: the resampler's filter (libsoxr HQ spans a
// few hundred samples) and the reduced-rate MP3 grid correction settle well within it.
std::int64_t margin_samples(int sample_rate) { return sample_rate / 2; }

// Native frames between segment starts: where the native and output grids meet (native / gcd), and a
// multiple of 4 so that reduced-rate MP3 synthesis (half or quarter rate) can seek there too.
std::int64_t native_step(const SegmentPlan& plan) {
    const std::int64_t g = std::gcd<std::int64_t>(plan.native_rate, plan.sample_rate);
    return std::lcm<std::int64_t>(plan.native_rate / g, 4);
}

}  // namespace

std::optional<SegmentPlan> plan_segments(const fs::path& path, const dsp::FeatureExtractor& extractor) {
    if (!extractor.has_frame_ranges()) return std::nullopt;
    const dsp::AudioInfo info = dsp::read_audio_info(path);
    const bool exact = info.format == "WAV" || info.format == "WAVEX" || info.format == "AIFF" ||
                       info.format == "FLAC" || info.format == "MP3";
    if (!exact) return std::nullopt;
    SegmentPlan plan;
    plan.native_rate = info.sample_rate;
    plan.sample_rate = extractor.config().sample_rate;
    // Clearly short by the header's count (an MP3's is an estimate, within a few per cent): no need to scan.
    const auto estimate = static_cast<std::int64_t>(static_cast<double>(info.frames) * plan.sample_rate / plan.native_rate);
    if (info.frames <= 0 || extractor.frame_count(estimate) <= kSegmentFrames * 9 / 10) return std::nullopt;
    // An MP3 header only estimates the length without an Info tag; libmpg123's scan of the frame headers counts.
    plan.native_frames = info.format == "MP3" ? dsp::count_mp3_frames(path) : info.frames;
    if (plan.native_frames <= 0) return std::nullopt;
    plan.length = plan.native_rate == plan.sample_rate
                      ? plan.native_frames
                      : std::llround(static_cast<double>(plan.native_frames) * plan.sample_rate / plan.native_rate);
    plan.frames = extractor.frame_count(plan.length);
    if (plan.segments() < 2) return std::nullopt;
    return plan;
}

void compute_segment(const fs::path& path, const SegmentPlan& plan, std::size_t k, dsp::FeatureExtractor& extractor,
                     dsp::ResampleQuality quality, dsp::Mp3Decode mp3_decode, dsp::FloatMatrix& out) {
    const bool last = k + 1 == plan.segments();
    const std::int64_t first = static_cast<std::int64_t>(k) * kSegmentFrames;
    const std::int64_t planned_count = std::min(kSegmentFrames, plan.frames - first);
    const auto [begin, end] = extractor.samples_for_frames(first, planned_count, plan.length);
    // Start on a common grid point at least a margin before the first sample; stop a margin after the last
    // (the last segment reads to the end, which fixes the true length).
    const std::int64_t step = native_step(plan);
    const std::int64_t step_out = step * plan.sample_rate / plan.native_rate;
    const std::int64_t start_out = std::max<std::int64_t>(0, begin - margin_samples(plan.sample_rate)) / step_out * step_out;
    const std::int64_t start_native = start_out / step_out * step;
    const std::int64_t end_native = std::min<std::int64_t>(
        plan.native_frames,
        ((end + margin_samples(plan.sample_rate)) * plan.native_rate + plan.sample_rate - 1) / plan.sample_rate);
    const double rate = plan.native_rate;
    const dsp::Audio audio = dsp::load_audio(
        path, {.sample_rate = plan.sample_rate,
               .mono = true,
               .offset_seconds = static_cast<double>(start_native) / rate,
               .duration_seconds = last ? -1.0 : static_cast<double>(end_native - start_native) / rate,
               .resample_quality = quality,
               .mp3_decode = mp3_decode});
    std::int64_t length = plan.length;
    std::int64_t count = planned_count;
    if (last) {
        length = start_out + static_cast<std::int64_t>(audio.samples.size());
        count = extractor.frame_count(length) - first;
        if (count <= 0)
            throw Error("audio file '" + path.string() + "'",
                        "ended before its last segment (" + std::to_string(length) + " samples decoded, " +
                            std::to_string(plan.length) + " counted)");
    }
    extractor.compute_frames(audio.samples, start_out, length, first, count, out);
}

void join_segments(std::vector<dsp::FloatMatrix>& parts, dsp::FeatureExtractor& extractor, dsp::FloatMatrix& out) {
    std::size_t frames = 0;
    for (const dsp::FloatMatrix& part : parts) frames += part.cols;
    const std::size_t rows = parts.front().rows;
    dsp::FloatMatrix linear(rows, frames);
    std::size_t column = 0;
    for (dsp::FloatMatrix& part : parts) {
        for (std::size_t r = 0; r < rows; ++r)
            std::copy(part.row(r).begin(), part.row(r).end(), linear.row(r).begin() + static_cast<std::ptrdiff_t>(column));
        column += part.cols;
        part = dsp::FloatMatrix();
    }
    extractor.compress(linear, out);
}

}  // namespace mtag::data
