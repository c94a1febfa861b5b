#pragma once
// Renders a Score to audio through libfluidsynth with a General MIDI soundfont. One Renderer owns one
// loaded soundfont and is not shareable across threads: make one per worker thread. Output depends
// only on the score and the options: each clip plays on a fresh fluidsynth synth (a used synth keeps
// voice and mixer state through fluid_synth_system_reset), so a renderer that has played other clips
// gives the same bytes as a new one, and the thread count never changes the corpus.
#include "data/synth/score.hpp"
#include "dsp/audio_io.hpp"

#include <filesystem>
#include <memory>

namespace mtag::data::synth {

// Where Debian's timgm6mb-soundfont installs its General MIDI soundfont.
std::filesystem::path default_soundfont();

// Options of the renderer.
struct RenderOptions {
    std::filesystem::path soundfont = default_soundfont();
    int sample_rate = 22050;  // fluidsynth accepts 8000-96000 Hz
    int channels = 1;         // 1: the average of fluidsynth's stereo mix; 2: the stereo mix
    bool normalize = true;    // scale to the score's peak_dbfs; false keeps fluidsynth's raw level
};

class Renderer {
  public:
    // Creates the synth and loads the soundfont. Throws mtag::Error when the soundfont is missing or
    // unreadable, lacks a melodic program the styles use (drum kits fall back to the standard kit), or
    // an option is out of range.
    explicit Renderer(const RenderOptions& options);
    ~Renderer();
    Renderer(const Renderer&) = delete;
    Renderer& operator=(const Renderer&) = delete;

    // Exactly round(score.seconds * sample_rate) frames, peak-normalised to score.peak_dbfs (unless
    // options.normalize is false), the last 10 ms faded out. Events are applied at fluidsynth's
    // 64-frame block boundaries (2.9 ms at 22.05 kHz).
    // Throws mtag::Error if the result is silent.
    dsp::Audio render(const Score& score);

  private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

}  // namespace mtag::data::synth
