#pragma once
// Figure and Axes: the drawing surface every plot of mtag shares, on cairo (Debian libcairo2-dev).
//
// A Figure records its drawing (a cairo recording surface, so the same figure becomes a PNG, an SVG or a
// PDF without being drawn twice) and is saved by the output's extension through a temporary name and a
// rename: nothing partial ever sits under the final name. Coordinates are points with the origin at the
// top left; a PNG has one pixel per point, so a test can map data values to pixel positions with Axes.
//
// Axes are plain geometry: a rectangle of the figure and a data range per axis (linear or log10), with
// the ticks to draw. The drawing functions below take the Figure and the Axes; a plot function returns
// its Axes so that callers (and tests) know where each value landed.
#include "data/plot/colormap.hpp"

#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

typedef struct _cairo cairo_t;

namespace mtag::data::plot {

struct Rect {
    double x = 0, y = 0, width = 0, height = 0;  // points, origin top left
};

struct Tick {
    double value = 0;   // in data units (before the log transform)
    std::string label;
};

enum class Scale { linear, log };

struct Axis {
    double min = 0, max = 1;  // data range shown (min at the left / bottom)
    Scale scale = Scale::linear;
    std::string label;
    std::vector<Tick> ticks;
};

struct Axes {
    Rect rect;
    Axis x, y;
    // The figure coordinate of a data value (y grows downwards: y.max is at rect.y).
    double x_pixel(double value) const;
    double y_pixel(double value) const;
};

// About `count` round ticks ("1, 2, 5 x 10^k" steps) covering [min, max], labelled with %g.
std::vector<Tick> nice_ticks(double min, double max, int count = 6);
// Ticks at the powers of ten (and 2x, 5x when the range is short) of a log axis.
std::vector<Tick> log_ticks(double min, double max);

class Figure {
  public:
    // A white canvas of width x height points.
    Figure(double width, double height);
    ~Figure();
    Figure(Figure&&) noexcept;
    Figure& operator=(Figure&&) noexcept;

    double width() const { return m_width; }
    double height() const { return m_height; }
    cairo_t* context() const { return m_cr; }  // for the drawing functions of data/plot

    // Writes .png, .svg or .pdf (by extension, case-insensitive) through a temporary name and a rename.
    // Throws mtag::Error naming the file (unknown extension, folder missing, write failure).
    void save(const std::filesystem::path& path) const;
    // The figure as an SVG document (for inline use in HTML).
    std::string svg() const;

  private:
    double m_width, m_height;
    struct Surface;
    std::unique_ptr<Surface> m_surface;
    cairo_t* m_cr = nullptr;
};

// Whether `path` has an extension save() understands.
bool is_figure_extension(const std::filesystem::path& path);

// --- drawing on a Figure -------------------------------------------------------------------------
// The axes' frame, ticks, tick labels and axis labels (draw after the content so the frame is on top).
void draw_axes(Figure& figure, const Axes& axes);
// A [rows, cols] row-major array as an image filling data x in [x0, x1], y in [y0, y1]; row 0 is drawn at
// y0 (the bottom), as librosa's specshow draws bin 0 at the bottom. Values map to colours over [vmin, vmax].
// Pixels are not smoothed (nearest), so each cell keeps its colour.
void draw_image(Figure& figure, const Axes& axes, std::span<const float> values, std::size_t rows, std::size_t cols,
                double x0, double x1, double y0, double y1, ColorMap cmap, double vmin, double vmax);
// A polyline through (xs[i], ys[i]); non-finite points break the line. dash: 0 solid, else the dash length.
void draw_line(Figure& figure, const Axes& axes, std::span<const double> xs, std::span<const double> ys, Rgb color,
               double width = 1.5, double dash = 0);
// A vertical line at data x across the axes.
void draw_vline(Figure& figure, const Axes& axes, double x, Rgb color, double width = 1.5, double dash = 0);
// A filled rectangle in data coordinates.
void draw_box(Figure& figure, const Axes& axes, double x0, double x1, double y0, double y1, Rgb color);
// Text at a figure point; align 0 left, 0.5 centre, 1 right; the point is the text's vertical middle.
void draw_text(Figure& figure, double x, double y, const std::string& text, double size = 11, double align = 0,
               Rgb color = {0, 0, 0}, bool bold = false, double angle_degrees = 0);
// A legend box of coloured line samples and labels, in the top-right corner of the axes.
void draw_legend(Figure& figure, const Axes& axes, const std::vector<std::pair<std::string, Rgb>>& entries);
// A vertical colour bar in `rect` for [vmin, vmax], with ticks and a label (e.g. "dB").
void draw_colorbar(Figure& figure, const Rect& rect, ColorMap cmap, double vmin, double vmax, const std::string& label);

// Distinct line colours (matplotlib's tab10) for series i.
Rgb series_color(std::size_t i);

}  // namespace mtag::data::plot
