#include "app/number_checks.hpp"

#include <cmath>
#include <cstdlib>
#include <string>

namespace mtag::app {

namespace {

// The validator for numbers that pass `ok`; text that is not a number is left to CLI11's conversion, whose
// message ("could not be converted") already says so.
CLI::Validator number_check(bool (*ok)(double), const char* wanted, const char* help_name) {
    return CLI::Validator(
        [ok, wanted](std::string& text) -> std::string {
            const char* begin = text.c_str();
            char* end = nullptr;
            const double value = std::strtod(begin, &end);
            if (end == begin || *end != '\0') return {};
            if (std::isfinite(value) && ok(value)) return {};
            return std::string("must be ") + wanted + ", got '" + text + "'";
        },
        help_name);
}

}  // namespace

const CLI::Validator positive = number_check([](double v) { return v > 0; }, "a positive number", "POSITIVE");
const CLI::Validator non_negative = number_check([](double v) { return v >= 0; }, "0 or more", "NONNEGATIVE");
const CLI::Validator finite = number_check([](double) { return true; }, "a finite number", "");

}  // namespace mtag::app
