#pragma once
// Reading a family's options struct from JSON overrides: each key present replaces the default,
// with a type check; keys the family does not have are an error that lists the valid ones, so a
// typo in train.json ("dropuot") fails loudly instead of silently training the default.
#include "dsp/error.hpp"

#include <nlohmann/json.hpp>

#include <set>
#include <string>
#include <vector>

namespace mtag::nn::models {

class OptionReader {
  public:
    // `where` names the source in messages ("model options of fcn5").
    OptionReader(const nlohmann::json& overrides, std::string where)
        : m_json(overrides), m_where(std::move(where)) {
        if (!m_json.is_object() && !m_json.is_null())
            throw Error(m_where, "expected a JSON object, got " + m_json.dump());
    }
    // Replaces `field` by overrides[key] when present; throws naming the key on a type mismatch.
    template <class T>
    void read(const std::string& key, T& field) {
        m_known.insert(key);
        if (m_json.is_null() || !m_json.contains(key)) return;
        try {
            field = m_json.at(key).get<T>();
        } catch (const nlohmann::json::exception&) {
            throw Error(m_where, "option '" + key + "' has the wrong type: " + m_json.at(key).dump() +
                                     " (default " + nlohmann::json(field).dump() + ")");
        }
    }
    // Throws on any key that no read() asked for.
    void finish() const {
        if (m_json.is_null()) return;
        for (const auto& [key, value] : m_json.items()) {
            if (m_known.count(key)) continue;
            std::string valid;
            for (const std::string& k : m_known) valid += (valid.empty() ? "" : ", ") + k;
            throw Error(m_where, "unknown option '" + key + "'; valid options: " + valid);
        }
    }

  private:
    const nlohmann::json& m_json;
    std::string m_where;
    std::set<std::string> m_known;
};

// Throws mtag::Error(where, message) unless `ok`.
inline void check_option(bool ok, const std::string& where, const std::string& message) {
    if (!ok) throw Error(where, message);
}

// The per-block dropout option ("block_dropout"): empty (no dropout in the blocks) or one rate in [0, 1)
// per block.
inline void check_block_dropout(const std::vector<double>& rates, std::size_t blocks, const std::string& where) {
    check_option(rates.empty() || rates.size() == blocks, where,
                 "block_dropout has " + std::to_string(rates.size()) + " rates for " + std::to_string(blocks) +
                     " blocks; give one per block (or [] for none)");
    for (std::size_t i = 0; i < rates.size(); ++i)
        check_option(rates[i] >= 0 && rates[i] < 1, where,
                     "block_dropout[" + std::to_string(i) + "] = " + std::to_string(rates[i]) + ", expected in [0, 1)");
}

}  // namespace mtag::nn::models
