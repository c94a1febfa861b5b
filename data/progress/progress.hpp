#pragma once
// Progress reporting on stderr for long batch commands: a one-line bar redrawn in place when stderr is a
// terminal (done/total, files/s, ETA), plain periodic lines otherwise (logs, CI), nothing when disabled.
#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>

namespace mtag::data {

class Progress {
  public:
    // `label` prefixes every line ("extract"); `interval_seconds` spaces the plain lines; `unit` names what
    // is counted ("files", "bytes").
    Progress(std::string label, std::size_t total, bool enabled, double interval_seconds = 10.0,
             std::string unit = "files");
    ~Progress();

    // Counts n more items done; thread-safe. Redraws at most every 0.1 s on a terminal.
    void advance(std::size_t n = 1);
    // Prints one line (an error, a note) without garbling the bar; shown even when progress is disabled.
    void message(const std::string& line);
    // Text appended to the status ("loss 0.312, run ETA 12:05"); thread-safe, shown at the next redraw.
    void set_note(std::string note);
    // Draws the final state and ends the bar's line. With final_line false, a log (not a terminal) gets no
    // closing line (for callers that print their own summary line right after, like train's epoch line).
    void finish(bool final_line = true);

    // The status text, e.g. "37/100 files, 12.3 files/s, ETA 0:05" (exposed for tests).
    std::string status() const;

  private:
    void draw(bool force);
    double elapsed() const;

    std::string m_label;
    std::string m_unit;
    std::string m_note;
    std::size_t m_total;
    std::size_t m_done = 0;
    bool m_enabled;
    bool m_tty;
    double m_interval;
    double m_last_draw = 0.0;  // the first plain line comes one interval after the start
    bool m_bar_visible = false;
    bool m_finished = false;
    std::chrono::steady_clock::time_point m_start;
    mutable std::mutex m_mutex;
};

}  // namespace mtag::data
