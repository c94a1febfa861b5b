// png_stats FILE: prints "width height distinct_colours non_white_fraction" of a PNG, for the CLI tests
// (e.g. that Chromium's screenshot of the report is not blank). Exit 1 when the file is not a PNG.
#include "support/png_image.hpp"

#include <cstdio>
#include <set>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: png_stats FILE.png\n");
        return 2;
    }
    try {
        const mtag::test::PngImage image(argv[1]);
        std::set<int> colours;
        long non_white = 0;
        for (int y = 0; y < image.height(); ++y)
            for (int x = 0; x < image.width(); ++x) {
                const mtag::test::Pixel p = image.at(x, y);
                colours.insert((p.r << 16) | (p.g << 8) | p.b);
                non_white += p.sum() < 3 * 250;
            }
        std::printf("%d %d %zu %.4f\n", image.width(), image.height(), colours.size(),
                    static_cast<double>(non_white) / (static_cast<double>(image.width()) * image.height()));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "png_stats: %s\n", e.what());
        return 1;
    }
    return 0;
}
