#pragma once
// Loads the reference fixtures written by scripts/make_train_fixtures.py (tests/fixtures/train/*.json).
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace mtag::test {

inline nlohmann::json load_train_fixture(const std::string& name) {
    const std::string path = std::string(MTAG_SOURCE_DIR) + "/tests/fixtures/train/" + name;
    std::ifstream in(path);
    if (!in) throw std::runtime_error("missing fixture " + path + " (run scripts/make_train_fixtures.py)");
    return nlohmann::json::parse(in);
}

// |a - b| <= rel * max(|a|, |b|) + abs_tol
inline bool close(double a, double b, double rel, double abs_tol = 0) {
    return std::fabs(a - b) <= rel * std::max(std::fabs(a), std::fabs(b)) + abs_tol;
}

}  // namespace mtag::test
