#include "data/progress/progress.hpp"

#include <unistd.h>
#include <cstdio>

namespace mtag::data {

namespace {

std::string clock_text(double seconds) {
    if (!(seconds >= 0) || seconds > 1e7) return "--:--";
    const auto s = static_cast<long>(seconds + 0.5);
    char text[32];
    if (s >= 3600)
        std::snprintf(text, sizeof(text), "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
    else
        std::snprintf(text, sizeof(text), "%ld:%02ld", s / 60, s % 60);
    return text;
}

}  // namespace

Progress::Progress(std::string label, std::size_t total, bool enabled, double interval_seconds, std::string unit)
    : m_label(std::move(label)),
      m_unit(std::move(unit)),
      m_total(total),
      m_enabled(enabled),
      m_tty(::isatty(STDERR_FILENO) == 1),
      m_interval(interval_seconds),
      m_start(std::chrono::steady_clock::now()) {}

Progress::~Progress() {
    finish();
}

double Progress::elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count();
}

std::string Progress::status() const {
    const double seconds = elapsed();
    const double rate = seconds > 0 ? static_cast<double>(m_done) / seconds : 0.0;
    const double eta = rate > 0 ? static_cast<double>(m_total - m_done) / rate : -1.0;
    char text[200];
    std::snprintf(text, sizeof(text), "%zu/%zu %s, %.1f %s/s, elapsed %s, ETA %s", m_done, m_total, m_unit.c_str(),
                  rate, m_unit.c_str(), clock_text(seconds).c_str(), m_done == m_total ? "0:00" : clock_text(eta).c_str());
    return m_note.empty() ? std::string(text) : std::string(text) + ", " + m_note;
}

void Progress::set_note(std::string note) {
    std::lock_guard lock(m_mutex);
    m_note = std::move(note);
}

void Progress::draw(bool force) {
    if (!m_enabled) return;
    const double now = elapsed();
    if (m_tty) {
        if (!force && now - m_last_draw < 0.1) return;
        constexpr int width = 30;
        const int filled = m_total == 0 ? width : static_cast<int>(width * m_done / m_total);
        std::string bar(static_cast<std::size_t>(filled), '=');
        if (filled < width) bar += '>' + std::string(static_cast<std::size_t>(width - filled - 1), ' ');
        std::fprintf(stderr, "\r\033[K%s [%s] %s", m_label.c_str(), bar.c_str(), status().c_str());
        m_bar_visible = true;
    } else {
        if (!force && now - m_last_draw < m_interval) return;
        std::fprintf(stderr, "%s: %s\n", m_label.c_str(), status().c_str());
    }
    std::fflush(stderr);
    m_last_draw = now;
}

void Progress::advance(std::size_t n) {
    std::lock_guard lock(m_mutex);
    m_done += n;
    draw(false);
}

void Progress::message(const std::string& line) {
    std::lock_guard lock(m_mutex);
    if (m_bar_visible) std::fprintf(stderr, "\r\033[K");
    std::fprintf(stderr, "%s\n", line.c_str());
    m_bar_visible = false;
    if (m_tty) draw(true);
}

void Progress::finish(bool final_line) {
    std::lock_guard lock(m_mutex);
    if (m_finished) return;
    m_finished = true;
    if (m_tty || final_line) draw(true);
    if (m_enabled && m_tty) std::fprintf(stderr, "\n");
}

}  // namespace mtag::data
