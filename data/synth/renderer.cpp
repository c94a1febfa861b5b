// fluidsynth rendering of a Score. ref: FluidSynth 2.3 API (fluid_synth_write_float, program_select).
#include "data/synth/renderer.hpp"

#include "data/synth/styles.hpp"
#include "dsp/error.hpp"

#include <fluidsynth.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace mtag::data::synth {
namespace {

// fluidsynth mixes in blocks of this many frames (FLUID_BUFSIZE); we always render whole blocks.
constexpr std::int64_t block_frames = 64;

// fluidsynth's global set-up and soundfont loading are not documented as thread-safe: serialise them.
std::mutex& synth_creation_mutex() {
    static std::mutex mutex;
    return mutex;
}

// mtag reports its own errors; fluidsynth's log lines would interleave with progress on stderr.
void silence_fluidsynth_log() {
    static std::once_flag once;
    std::call_once(once, [] {
        for (int level : {FLUID_PANIC, FLUID_ERR, FLUID_WARN, FLUID_INFO, FLUID_DBG})
            fluid_set_log_function(level, nullptr, nullptr);
    });
}

struct Event {
    std::int64_t frame = 0;
    int on = 0;  // 0 note-off, 1 note-on: offs first at equal frames so a repeated key retriggers
    int channel = 0;
    int key = 0;
    int velocity = 0;
    std::size_t note = 0;  // index of the note, to pair offs with their ons
};

}  // namespace

std::filesystem::path default_soundfont() {
    return "/usr/share/sounds/sf2/TimGM6mb.sf2";
}

struct Renderer::Impl {
    RenderOptions options;
    fluid_settings_t* settings = nullptr;
    fluid_synth_t* holder = nullptr;  // owns the loaded soundfont; never plays
    fluid_sfont_t* sfont = nullptr;
    std::vector<int> kits;  // drum kits the soundfont has on bank 128
    std::vector<float> left, right;

    ~Impl() {
        std::lock_guard lock(synth_creation_mutex());
        if (holder) delete_fluid_synth(holder);
        if (settings) delete_fluid_settings(settings);
    }

    int kit_or_standard(int kit) const {
        return std::find(kits.begin(), kits.end(), kit) != kits.end() ? kit : 0;
    }
};

// A fresh synth for one clip, playing the holder's soundfont. fluid_synth_system_reset does not
// return a used synth to its initial state (voice and mixer state survive), so every clip gets a new
// synth (about 2 ms) and only the soundfont (about 100 ms to load) is reused.
class ClipSynth {
  public:
    ClipSynth(fluid_settings_t* settings, fluid_sfont_t* sfont) : m_sfont(sfont) {
        std::lock_guard lock(synth_creation_mutex());
        m_synth = new_fluid_synth(settings);
        if (!m_synth) throw Error("fluidsynth", "cannot create a synth");
        m_sfont_id = fluid_synth_add_sfont(m_synth, sfont);
        if (m_sfont_id == FLUID_FAILED) {
            delete_fluid_synth(m_synth);
            throw Error("fluidsynth", "cannot attach the soundfont to a synth");
        }
    }
    ~ClipSynth() {
        std::lock_guard lock(synth_creation_mutex());
        fluid_synth_remove_sfont(m_synth, m_sfont);  // detach, so that deleting the synth keeps it
        delete_fluid_synth(m_synth);
    }
    ClipSynth(const ClipSynth&) = delete;
    ClipSynth& operator=(const ClipSynth&) = delete;
    fluid_synth_t* get() const { return m_synth; }
    int sfont_id() const { return m_sfont_id; }

  private:
    fluid_sfont_t* m_sfont;
    fluid_synth_t* m_synth = nullptr;
    int m_sfont_id = -1;
};

Renderer::Renderer(const RenderOptions& options) : m_impl(std::make_unique<Impl>()) {
    Impl& m = *m_impl;
    m.options = options;
    const std::string where = "soundfont '" + options.soundfont.string() + "'";
    if (options.sample_rate < 8000 || options.sample_rate > 96000)
        throw Error("synth sample rate " + std::to_string(options.sample_rate),
                    "fluidsynth renders at 8000-96000 Hz");
    if (options.channels != 1 && options.channels != 2)
        throw Error("synth channels " + std::to_string(options.channels), "must be 1 or 2");
    std::error_code ec;
    if (!std::filesystem::is_regular_file(options.soundfont, ec))
        throw Error(where,
                    "not found; install Debian's timgm6mb-soundfont (scripts/setup.sh) or pass "
                    "--soundfont PATH to a General MIDI .sf2");

    // A SoundFont 2 file is a RIFF container of form type 'sfbk'. Checked here because fluidsynth hands
    // other files to its DLS loader, which prints glib warnings before failing.
    {
        char header[12] = {};
        std::ifstream in(options.soundfont, std::ios::binary);
        in.read(header, sizeof header);
        if (!in || std::string_view(header, 4) != "RIFF" || std::string_view(header + 8, 4) != "sfbk")
            throw Error(where, "is not a SoundFont 2 (.sf2) file");
    }

    silence_fluidsynth_log();
    std::lock_guard lock(synth_creation_mutex());
    m.settings = new_fluid_settings();
    if (!m.settings) throw Error("fluidsynth", "cannot create settings");
    fluid_settings_setnum(m.settings, "synth.sample-rate", options.sample_rate);
    fluid_settings_setint(m.settings, "synth.cpu-cores", 1);       // no helper threads
    fluid_settings_setint(m.settings, "synth.threadsafe-api", 0);  // one thread per synth
    fluid_settings_setint(m.settings, "synth.polyphony", 512);     // never steal voices
    fluid_settings_setint(m.settings, "synth.reverb.active", 1);
    fluid_settings_setint(m.settings, "synth.chorus.active", 1);
    fluid_settings_setint(m.settings, "synth.dynamic-sample-loading", 0);
    fluid_settings_setnum(m.settings, "synth.gain", 0.4);
    m.holder = new_fluid_synth(m.settings);
    if (!m.holder)
        throw Error("fluidsynth", "cannot create a synth at " + std::to_string(options.sample_rate) + " Hz");
    const int sfont_id = fluid_synth_sfload(m.holder, options.soundfont.c_str(), 0);
    if (sfont_id == FLUID_FAILED) throw Error(where, "fluidsynth cannot load it (not a SoundFont 2 file?)");
    fluid_sfont_t* sfont = fluid_synth_get_sfont_by_id(m.holder, sfont_id);
    m.sfont = sfont;

    std::string missing;
    for (int program : style_programs()) {
        if (!fluid_sfont_get_preset(sfont, 0, program)) missing.append(" ").append(std::to_string(program));
    }
    if (!missing.empty()) throw Error(where, "lacks General MIDI programs (0-based) on bank 0:" + missing);
    for (int kit = 0; kit < 128; ++kit) {
        if (fluid_sfont_get_preset(sfont, 128, kit)) m.kits.push_back(kit);
    }
    if (m.kits.empty() || m.kits.front() != 0)
        throw Error(where, "has no standard drum kit (bank 128, program 0)");
}

Renderer::~Renderer() = default;

dsp::Audio Renderer::render(const Score& score) {
    Impl& m = *m_impl;
    const int sr = m.options.sample_rate;
    const auto frames = static_cast<std::int64_t>(std::llround(score.seconds * sr));
    const std::int64_t padded = (frames + block_frames - 1) / block_frames * block_frames;

    ClipSynth clip_synth(m.settings, m.sfont);
    fluid_synth_t* synth = clip_synth.get();
    const int sfont_id = clip_synth.sfont_id();
    for (const Part& part : score.parts) {
        const int channel = part.channel;
        if (part.percussion)
            fluid_synth_program_select(synth, channel, sfont_id, 128, m.kit_or_standard(part.program));
        else
            fluid_synth_program_select(synth, channel, sfont_id, 0, part.program);
        fluid_synth_cc(synth, channel, 7, part.volume);
        fluid_synth_cc(synth, channel, 10, part.pan);
        fluid_synth_cc(synth, channel, 91, part.reverb_send);
        fluid_synth_cc(synth, channel, 93, part.chorus_send);
    }

    std::vector<Event> events;
    events.reserve(score.notes.size() * 2);
    for (std::size_t i = 0; i < score.notes.size(); ++i) {
        const Note& note = score.notes[i];
        const int channel = score.parts[static_cast<std::size_t>(note.part)].channel;
        const auto on = static_cast<std::int64_t>(std::llround(note.start * sr));
        const auto off = static_cast<std::int64_t>(std::llround((note.start + note.duration) * sr));
        if (on >= frames) continue;
        events.push_back({on, 1, channel, note.key, note.velocity, i});
        if (off < frames) events.push_back({std::max(off, on + 1), 0, channel, note.key, 0, i});
    }
    std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
        if (a.frame != b.frame) return a.frame < b.frame;
        if (a.on != b.on) return a.on < b.on;
        if (a.channel != b.channel) return a.channel < b.channel;
        if (a.key != b.key) return a.key < b.key;
        return a.note < b.note;
    });

    // A note-off only ends its own note: when the same key was struck again since, it is dropped.
    std::vector<std::size_t> latest_on(16 * 128, static_cast<std::size_t>(-1));
    m.left.assign(static_cast<std::size_t>(padded), 0.0f);
    m.right.assign(static_cast<std::size_t>(padded), 0.0f);
    std::int64_t cursor = 0;
    auto render_to = [&](std::int64_t frame) {
        while (cursor < frame) {
            const auto n = static_cast<int>(std::min<std::int64_t>(frame - cursor, 1 << 16));
            fluid_synth_write_float(synth, n, m.left.data(), static_cast<int>(cursor), 1, m.right.data(),
                                    static_cast<int>(cursor), 1);
            cursor += n;
        }
    };
    for (const Event& e : events) {
        render_to(e.frame);
        const std::size_t slot = static_cast<std::size_t>(e.channel) * 128 + static_cast<std::size_t>(e.key);
        if (e.on) {
            fluid_synth_noteon(synth, e.channel, e.key, e.velocity);
            latest_on[slot] = e.note;
        } else if (latest_on[slot] == e.note) {
            fluid_synth_noteoff(synth, e.channel, e.key);
        }
    }
    render_to(padded);

    dsp::Audio audio;
    audio.sample_rate = sr;
    audio.channels = m.options.channels;
    audio.samples.resize(static_cast<std::size_t>(frames * audio.channels));
    float peak = 0;
    for (std::int64_t i = 0; i < frames; ++i) {
        const auto f = static_cast<std::size_t>(i);
        if (audio.channels == 1) {
            audio.samples[f] = 0.5f * (m.left[f] + m.right[f]);
        } else {
            audio.samples[2 * f] = m.left[f];
            audio.samples[2 * f + 1] = m.right[f];
        }
    }
    for (float v : audio.samples) peak = std::max(peak, std::abs(v));
    if (!(peak > 1e-6f))
        throw Error("synth clip (" + score.style + ", " + std::to_string(score.notes.size()) + " notes)",
                    "rendered silent; is the soundfont a General MIDI set?");
    const float gain =
        m.options.normalize ? static_cast<float>(std::pow(10.0, score.peak_dbfs / 20.0)) / peak : 1.0f;
    const std::int64_t fade = std::min<std::int64_t>(frames, sr / 100);
    for (std::int64_t i = 0; i < frames; ++i) {
        const float ramp =
            i >= frames - fade ? static_cast<float>(frames - i) / static_cast<float>(fade) : 1.0f;
        for (int c = 0; c < audio.channels; ++c)
            audio.samples[static_cast<std::size_t>(i * audio.channels + c)] *= gain * ramp;
    }
    return audio;
}

}  // namespace mtag::data::synth
