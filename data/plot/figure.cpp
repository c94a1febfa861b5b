#include "data/plot/figure.hpp"
#include "dsp/temporary_path.hpp"

#include "dsp/error.hpp"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <cairo.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <system_error>

namespace mtag::data::plot {

namespace fs = std::filesystem;

namespace {

std::string lower_extension(const fs::path& path) {
    std::string ext = path.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    return ext;
}

double transform(const Axis& axis, double v) {
    return axis.scale == Scale::log ? std::log10(std::max(v, 1e-300)) : v;
}

double fraction(const Axis& axis, double v) {
    const double lo = transform(axis, axis.min), hi = transform(axis, axis.max);
    return hi == lo ? 0.5 : (transform(axis, v) - lo) / (hi - lo);
}

std::string format_number(double v) {
    char text[32];
    if (std::abs(v) < 1e-12) v = 0;
    std::snprintf(text, sizeof text, "%g", v);
    return text;
}

cairo_status_t append_to_string(void* closure, const unsigned char* data, unsigned int length) {
    static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
    return CAIRO_STATUS_SUCCESS;
}

void set_color(cairo_t* cr, Rgb c) { cairo_set_source_rgb(cr, c.r, c.g, c.b); }

}  // namespace

double Axes::x_pixel(double value) const { return rect.x + fraction(x, value) * rect.width; }
double Axes::y_pixel(double value) const { return rect.y + (1 - fraction(y, value)) * rect.height; }

std::vector<Tick> nice_ticks(double min, double max, int count) {
    std::vector<Tick> ticks;
    if (!(max > min) || !std::isfinite(min) || !std::isfinite(max)) return ticks;
    const double raw = (max - min) / std::max(1, count);
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    double step = magnitude;
    for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
        if (m * magnitude >= raw) {
            step = m * magnitude;
            break;
        }
    for (double v = std::ceil(min / step - 1e-9) * step; v <= max + step * 1e-9; v += step)
        ticks.push_back({v, format_number(v)});
    return ticks;
}

std::vector<Tick> log_ticks(double min, double max) {
    std::vector<Tick> ticks;
    if (!(min > 0) || !(max > min)) return ticks;
    const bool short_range = max / min < 100;
    for (double decade = std::pow(10.0, std::floor(std::log10(min))); decade <= max; decade *= 10)
        for (double m : short_range ? std::vector<double>{1, 2, 5} : std::vector<double>{1}) {
            const double v = m * decade;
            if (v >= min * (1 - 1e-9) && v <= max * (1 + 1e-9)) ticks.push_back({v, format_number(v)});
        }
    return ticks;
}

struct Figure::Surface {
    cairo_surface_t* recording = nullptr;
    ~Surface() {
        if (recording) cairo_surface_destroy(recording);
    }
};

Figure::Figure(double width, double height)
    : m_width(width), m_height(height), m_surface(std::make_unique<Surface>()) {
    const cairo_rectangle_t extents{0, 0, width, height};
    m_surface->recording = cairo_recording_surface_create(CAIRO_CONTENT_COLOR_ALPHA, &extents);
    m_cr = cairo_create(m_surface->recording);
    cairo_set_source_rgb(m_cr, 1, 1, 1);
    cairo_paint(m_cr);
    cairo_select_font_face(m_cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
}

Figure::~Figure() {
    if (m_cr) cairo_destroy(m_cr);
}

Figure::Figure(Figure&& other) noexcept
    : m_width(other.m_width), m_height(other.m_height), m_surface(std::move(other.m_surface)), m_cr(other.m_cr) {
    other.m_cr = nullptr;
}

Figure& Figure::operator=(Figure&& other) noexcept {
    if (this != &other) {
        if (m_cr) cairo_destroy(m_cr);
        m_width = other.m_width;
        m_height = other.m_height;
        m_surface = std::move(other.m_surface);
        m_cr = other.m_cr;
        other.m_cr = nullptr;
    }
    return *this;
}

bool is_figure_extension(const fs::path& path) {
    const std::string ext = lower_extension(path);
    return ext == ".png" || ext == ".svg" || ext == ".pdf";
}

void Figure::save(const fs::path& path) const {
    const std::string ext = lower_extension(path);
    if (!is_figure_extension(path))
        throw Error("plot output '" + path.string() + "'", "unknown extension '" + ext + "' (use .png, .svg or .pdf)");
    if (path.has_parent_path() && !fs::is_directory(path.parent_path()))
        throw Error("plot output '" + path.string() + "'", "folder '" + path.parent_path().string() +
                                                              "' does not exist (create it first)");
    const fs::path tmp = dsp::temporary_path(path, ".tmp" + std::to_string(::getpid()) + ext);
    cairo_surface_flush(m_surface->recording);
    cairo_surface_t* target = nullptr;
    if (ext == ".png")
        target = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, static_cast<int>(std::ceil(m_width)),
                                            static_cast<int>(std::ceil(m_height)));
    else if (ext == ".svg")
        target = cairo_svg_surface_create(tmp.c_str(), m_width, m_height);
    else
        target = cairo_pdf_surface_create(tmp.c_str(), m_width, m_height);
    cairo_t* cr = cairo_create(target);
    cairo_set_source_surface(cr, m_surface->recording, 0, 0);
    cairo_paint(cr);
    cairo_destroy(cr);
    cairo_status_t status = CAIRO_STATUS_SUCCESS;
    if (ext == ".png") {
        cairo_surface_flush(target);
        status = cairo_surface_write_to_png(target, tmp.c_str());
    }
    cairo_surface_finish(target);
    if (status == CAIRO_STATUS_SUCCESS) status = cairo_surface_status(target);
    cairo_surface_destroy(target);
    std::error_code ec;
    if (status != CAIRO_STATUS_SUCCESS) {
        fs::remove(tmp, ec);
        throw Error("plot output '" + path.string() + "'", std::string("cannot be written: ") +
                                                               cairo_status_to_string(status));
    }
    fs::rename(tmp, path, ec);
    if (ec) {
        fs::remove(tmp, ec);
        throw Error("plot output '" + path.string() + "'", "cannot be renamed into place: " + ec.message());
    }
}

std::string Figure::svg() const {
    std::string out;
    cairo_surface_t* target = cairo_svg_surface_create_for_stream(append_to_string, &out, m_width, m_height);
    cairo_t* cr = cairo_create(target);
    cairo_set_source_surface(cr, m_surface->recording, 0, 0);
    cairo_paint(cr);
    cairo_destroy(cr);
    cairo_surface_finish(target);
    const cairo_status_t status = cairo_surface_status(target);
    cairo_surface_destroy(target);
    if (status != CAIRO_STATUS_SUCCESS)
        throw Error("plot", std::string("SVG rendering failed: ") + cairo_status_to_string(status));
    // Drop the XML declaration so the document can sit inline in HTML.
    if (out.rfind("<?xml", 0) == 0) out.erase(0, out.find('\n') + 1);
    return out;
}

void draw_text(Figure& figure, double x, double y, const std::string& text, double size, double align, Rgb color,
               bool bold, double angle_degrees) {
    cairo_t* cr = figure.context();
    cairo_save(cr);
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
    cairo_text_extents_t e;
    cairo_text_extents(cr, text.c_str(), &e);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, angle_degrees * M_PI / 180.0);
    cairo_move_to(cr, -align * e.x_advance, size * 0.35);
    set_color(cr, color);
    cairo_show_text(cr, text.c_str());
    cairo_restore(cr);
}

void draw_axes(Figure& figure, const Axes& axes) {
    cairo_t* cr = figure.context();
    const Rect& r = axes.rect;
    cairo_save(cr);
    cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, r.x, r.y, r.width, r.height);
    cairo_stroke(cr);
    for (const Tick& t : axes.x.ticks) {
        const double px = axes.x_pixel(t.value);
        if (px < r.x - 0.5 || px > r.x + r.width + 0.5) continue;
        cairo_move_to(cr, px, r.y + r.height);
        cairo_line_to(cr, px, r.y + r.height + 4);
        cairo_stroke(cr);
        draw_text(figure, px, r.y + r.height + 13, t.label, 10, 0.5);
    }
    for (const Tick& t : axes.y.ticks) {
        const double py = axes.y_pixel(t.value);
        if (py < r.y - 0.5 || py > r.y + r.height + 0.5) continue;
        cairo_move_to(cr, r.x - 4, py);
        cairo_line_to(cr, r.x, py);
        cairo_stroke(cr);
        draw_text(figure, r.x - 6, py, t.label, 10, 1);
    }
    cairo_restore(cr);
    if (!axes.x.label.empty()) draw_text(figure, r.x + r.width / 2, r.y + r.height + 30, axes.x.label, 11, 0.5);
    if (!axes.y.label.empty()) draw_text(figure, r.x - 52, r.y + r.height / 2, axes.y.label, 11, 0.5, {0, 0, 0}, false, -90);
}

void draw_image(Figure& figure, const Axes& axes, std::span<const float> values, std::size_t rows, std::size_t cols,
                double x0, double x1, double y0, double y1, ColorMap cmap, double vmin, double vmax) {
    if (rows == 0 || cols == 0) return;
    cairo_surface_t* image =
        cairo_image_surface_create(CAIRO_FORMAT_RGB24, static_cast<int>(cols), static_cast<int>(rows));
    const int stride = cairo_image_surface_get_stride(image);
    unsigned char* data = cairo_image_surface_get_data(image);
    const double span = vmax > vmin ? vmax - vmin : 1.0;
    for (std::size_t r = 0; r < rows; ++r) {
        // Image row 0 is the top of the picture: the last data row.
        auto* line = reinterpret_cast<std::uint32_t*>(data + static_cast<std::size_t>(stride) * (rows - 1 - r));
        for (std::size_t c = 0; c < cols; ++c) {
            const Rgb rgb = color_at(cmap, (values[r * cols + c] - vmin) / span);
            const auto byte = [](double v) { return static_cast<std::uint32_t>(std::lround(std::clamp(v, 0.0, 1.0) * 255)); };
            line[c] = (byte(rgb.r) << 16) | (byte(rgb.g) << 8) | byte(rgb.b);
        }
    }
    cairo_surface_mark_dirty(image);
    const double px0 = axes.x_pixel(x0), px1 = axes.x_pixel(x1);
    const double py_top = axes.y_pixel(y1), py_bottom = axes.y_pixel(y0);
    cairo_t* cr = figure.context();
    cairo_save(cr);
    cairo_rectangle(cr, axes.rect.x, axes.rect.y, axes.rect.width, axes.rect.height);
    cairo_clip(cr);
    cairo_translate(cr, px0, py_top);
    cairo_scale(cr, (px1 - px0) / static_cast<double>(cols), (py_bottom - py_top) / static_cast<double>(rows));
    cairo_set_source_surface(cr, image, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
    cairo_pattern_set_extend(cairo_get_source(cr), CAIRO_EXTEND_PAD);
    cairo_rectangle(cr, 0, 0, static_cast<double>(cols), static_cast<double>(rows));
    cairo_fill(cr);
    cairo_restore(cr);
    cairo_surface_destroy(image);
}

void draw_line(Figure& figure, const Axes& axes, std::span<const double> xs, std::span<const double> ys, Rgb color,
               double width, double dash) {
    cairo_t* cr = figure.context();
    cairo_save(cr);
    cairo_rectangle(cr, axes.rect.x, axes.rect.y, axes.rect.width, axes.rect.height);
    cairo_clip(cr);
    set_color(cr, color);
    cairo_set_line_width(cr, width);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    if (dash > 0) cairo_set_dash(cr, &dash, 1, 0);
    bool open = false;
    std::size_t points = 0;
    for (std::size_t i = 0; i < std::min(xs.size(), ys.size()); ++i) {
        if (!std::isfinite(xs[i]) || !std::isfinite(ys[i])) {
            open = false;
            continue;
        }
        const double px = axes.x_pixel(xs[i]), py = axes.y_pixel(ys[i]);
        if (open) cairo_line_to(cr, px, py);
        else cairo_move_to(cr, px, py);
        open = true;
        ++points;
    }
    cairo_stroke(cr);
    if (points == 1)  // a single point: a dot, so it is visible
        for (std::size_t i = 0; i < std::min(xs.size(), ys.size()); ++i)
            if (std::isfinite(xs[i]) && std::isfinite(ys[i])) {
                cairo_arc(cr, axes.x_pixel(xs[i]), axes.y_pixel(ys[i]), width * 1.5, 0, 2 * M_PI);
                cairo_fill(cr);
            }
    cairo_restore(cr);
}

void draw_vline(Figure& figure, const Axes& axes, double x, Rgb color, double width, double dash) {
    cairo_t* cr = figure.context();
    const double px = axes.x_pixel(x);
    cairo_save(cr);
    set_color(cr, color);
    cairo_set_line_width(cr, width);
    if (dash > 0) cairo_set_dash(cr, &dash, 1, 0);
    cairo_move_to(cr, px, axes.rect.y);
    cairo_line_to(cr, px, axes.rect.y + axes.rect.height);
    cairo_stroke(cr);
    cairo_restore(cr);
}

void draw_box(Figure& figure, const Axes& axes, double x0, double x1, double y0, double y1, Rgb color) {
    cairo_t* cr = figure.context();
    const double px0 = axes.x_pixel(x0), px1 = axes.x_pixel(x1), py0 = axes.y_pixel(y0), py1 = axes.y_pixel(y1);
    cairo_save(cr);
    set_color(cr, color);
    cairo_rectangle(cr, std::min(px0, px1), std::min(py0, py1), std::abs(px1 - px0), std::abs(py1 - py0));
    cairo_fill(cr);
    cairo_restore(cr);
}

void draw_legend(Figure& figure, const Axes& axes, const std::vector<std::pair<std::string, Rgb>>& entries) {
    if (entries.empty()) return;
    cairo_t* cr = figure.context();
    cairo_save(cr);
    cairo_set_font_size(cr, 10);
    double text_width = 0;
    for (const auto& [label, color] : entries) {
        cairo_text_extents_t e;
        cairo_text_extents(cr, label.c_str(), &e);
        text_width = std::max(text_width, e.x_advance);
    }
    const double w = text_width + 34, h = 15.0 * static_cast<double>(entries.size()) + 6;
    const double x = axes.rect.x + axes.rect.width - w - 6, y = axes.rect.y + 6;
    cairo_set_source_rgba(cr, 1, 1, 1, 0.85);
    cairo_rectangle(cr, x, y, w, h);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 0.7, 0.7, 0.7);
    cairo_set_line_width(cr, 0.8);
    cairo_stroke(cr);
    cairo_restore(cr);
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const double ly = y + 10 + 15.0 * static_cast<double>(i);
        cairo_save(cr);
        set_color(cr, entries[i].second);
        cairo_set_line_width(cr, 2);
        cairo_move_to(cr, x + 5, ly);
        cairo_line_to(cr, x + 25, ly);
        cairo_stroke(cr);
        cairo_restore(cr);
        draw_text(figure, x + 29, ly, entries[i].first, 10);
    }
}

void draw_colorbar(Figure& figure, const Rect& rect, ColorMap cmap, double vmin, double vmax, const std::string& label) {
    constexpr std::size_t steps = 256;
    std::vector<float> ramp(steps);
    for (std::size_t i = 0; i < steps; ++i)
        ramp[i] = static_cast<float>(vmin + (vmax - vmin) * (static_cast<double>(i) + 0.5) / steps);
    Axes bar{rect, Axis{0, 1, Scale::linear, "", {}}, Axis{vmin, vmax, Scale::linear, "", {}}};
    draw_image(figure, bar, ramp, steps, 1, 0, 1, vmin, vmax, cmap, vmin, vmax);
    cairo_t* cr = figure.context();
    cairo_save(cr);
    cairo_set_source_rgb(cr, 0.15, 0.15, 0.15);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, rect.x, rect.y, rect.width, rect.height);
    cairo_stroke(cr);
    for (const Tick& t : nice_ticks(vmin, vmax, 5)) {
        const double py = bar.y_pixel(t.value);
        cairo_move_to(cr, rect.x + rect.width, py);
        cairo_line_to(cr, rect.x + rect.width + 4, py);
        cairo_stroke(cr);
        draw_text(figure, rect.x + rect.width + 6, py, t.label, 10);
    }
    cairo_restore(cr);
    if (!label.empty()) draw_text(figure, rect.x + rect.width / 2, rect.y - 10, label, 10, 0.5);
}

Rgb series_color(std::size_t i) {
    static const Rgb tab10[] = {{0.122, 0.467, 0.706}, {1.000, 0.498, 0.055}, {0.173, 0.627, 0.173},
                                {0.839, 0.153, 0.157}, {0.580, 0.404, 0.741}, {0.549, 0.337, 0.294},
                                {0.890, 0.467, 0.761}, {0.498, 0.498, 0.498}, {0.737, 0.741, 0.133},
                                {0.090, 0.745, 0.812}};
    return tab10[i % 10];
}

}  // namespace mtag::data::plot
