#pragma once
// Validators for numeric options. CLI11's PositiveNumber and NonNegativeNumber are ranges up to DBL_MAX, so
// `--threads -1` said "Value -1 not in range 0.000000 to 17976931348623157081452742373170435679807056752584...",
// 300 digits long, and PositiveNumber printed its lower bound (DBL_MIN) as 0.000000. These say what is wanted.
// Their help names stay CLI11's (POSITIVE, NONNEGATIVE), so `--help` reads as before.
#include <CLI/CLI.hpp>

namespace mtag::app {

// A finite number above 0 ("must be a positive number, got '0'").
extern const CLI::Validator positive;
// A finite number, 0 or above; also catches "-1" given to an unsigned option, which would wrap.
extern const CLI::Validator non_negative;
// Any finite number (no nan or inf).
extern const CLI::Validator finite;

}  // namespace mtag::app
