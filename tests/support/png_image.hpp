#pragma once
// A PNG read back with cairo (the library that wrote it) so that tests check what a plot shows: pixel
// colours, the brightest row of a region, the colour-map value of a pixel.
#include <cairo.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace mtag::test {

struct Pixel {
    int r = 0, g = 0, b = 0;  // 0..255
    int sum() const { return r + g + b; }
    double distance(int R, int G, int B) const { return std::sqrt(double((r - R) * (r - R) + (g - G) * (g - G) + (b - B) * (b - B))); }
};

class PngImage {
  public:
    explicit PngImage(const std::filesystem::path& path) {
        cairo_surface_t* s = cairo_image_surface_create_from_png(path.c_str());
        if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
            cairo_surface_destroy(s);
            throw std::runtime_error("cannot read PNG " + path.string());
        }
        m_width = cairo_image_surface_get_width(s);
        m_height = cairo_image_surface_get_height(s);
        const int stride = cairo_image_surface_get_stride(s);
        const unsigned char* data = cairo_image_surface_get_data(s);
        m_pixels.resize(static_cast<std::size_t>(m_width) * m_height);
        for (int y = 0; y < m_height; ++y) {
            const auto* line = reinterpret_cast<const std::uint32_t*>(data + static_cast<std::size_t>(stride) * y);
            for (int x = 0; x < m_width; ++x) {
                const std::uint32_t v = line[x];  // ARGB32 / RGB24, premultiplied (our figures are opaque)
                m_pixels[static_cast<std::size_t>(y) * m_width + x] = {int((v >> 16) & 255), int((v >> 8) & 255), int(v & 255)};
            }
        }
        cairo_surface_destroy(s);
    }
    int width() const { return m_width; }
    int height() const { return m_height; }
    Pixel at(int x, int y) const { return m_pixels.at(static_cast<std::size_t>(y) * m_width + x); }

    // The row in [y0, y1) whose pixels in [x0, x1) have the largest mean r+g+b.
    int brightest_row(int x0, int x1, int y0, int y1) const {
        int best = y0;
        double best_value = -1;
        for (int y = y0; y < y1; ++y) {
            double v = 0;
            for (int x = x0; x < x1; ++x) v += at(x, y).sum();
            if (v > best_value) best_value = v, best = y;
        }
        return best;
    }

  private:
    int m_width = 0, m_height = 0;
    std::vector<Pixel> m_pixels;
};

}  // namespace mtag::test
