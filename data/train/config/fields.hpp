#pragma once
// The three visitors every typed config section is read, written and documented with. A section is a
// struct with `template <class V> void visit(V& v)` that names each of its keys once:
//
//   v.field("patience", patience, "epochs without improvement before stopping");        // scalars, arrays
//   v.choice("mode", mode, {{Mode::min, "min"}, {Mode::max, "max"}}, "min | max");      // enums by name
//   v.section("evaluation", evaluation, "validation chunks and metric");                // nested sections
//
// JsonReader parses a JSON object into the struct (what the JSON omits keeps the struct's value, so the
// struct's initialisers are the defaults; a key the visit did not name is an error naming it),
// JsonWriter writes every key, and ReferenceWriter collects (key, default, meaning) rows for the README.
#include "dsp/error.hpp"
#include "dsp/json_integer.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace mtag::data::config {

// Value conversions shared by the visitors (throw mtag::Error naming `where` and the key).
namespace detail {

template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

[[noreturn]] inline void wrong(const std::string& where, const std::string& key, const nlohmann::json& got,
                               const std::string& expected) {
    throw Error(where + ": '" + key + "'", "got " + got.dump() + ", expected " + expected);
}

template <class T>
void read_value(const nlohmann::json& j, T& out, const std::string& where, const std::string& key) {
    if constexpr (std::is_same_v<T, nlohmann::json>) {
        out = j;  // validated by its owner (a preset's model options: nn/models build_model)
    } else if constexpr (requires { T::from_json(j, where); }) {
        out = T::from_json(j, where + " " + key);  // a type with its own JSON boundary (FrontEndConfig)
    } else if constexpr (std::is_same_v<T, bool>) {
        if (!j.is_boolean()) wrong(where, key, j, "true or false");
        out = j.get<bool>();
    } else if constexpr (std::is_integral_v<T>) {
        if (!dsp::json_is_integral(j)) wrong(where, key, j, "an integer");
        // Range-checked before converting (dsp/json_integer.hpp): 1e300 or 2^40 for an int is an error.
        const std::optional<T> v = dsp::json_integer<T>(j);
        if (!v) wrong(where, key, j, std::is_unsigned_v<T> && j.get<double>() < 0 ? "a non-negative integer" : "an integer in range");
        out = *v;
    } else if constexpr (std::is_floating_point_v<T>) {
        if (!j.is_number()) wrong(where, key, j, "a number");
        out = j.get<T>();
    } else if constexpr (std::is_same_v<T, std::string>) {
        if (!j.is_string()) wrong(where, key, j, "a string");
        out = j.get<std::string>();
    } else if constexpr (is_optional<T>::value) {
        if (j.is_null()) {
            out.reset();
        } else {
            typename T::value_type v{};
            read_value(j, v, where, key);
            out = v;
        }
    } else {  // std::array / std::vector of scalars
        if (!j.is_array()) wrong(where, key, j, "an array");
        T v{};
        if constexpr (requires { v.resize(0); }) {
            v.resize(j.size());
        } else if (j.size() != v.size()) {
            wrong(where, key, j, "an array of " + std::to_string(v.size()) + " numbers");
        }
        for (std::size_t i = 0; i < j.size(); ++i) read_value(j[i], v[i], where, key);
        out = v;
    }
}

template <class T>
nlohmann::json write_value(const T& v) {
    if constexpr (is_optional<T>::value)
        return v ? write_value(*v) : nlohmann::json(nullptr);
    else if constexpr (requires { v.to_json(); })
        return v.to_json();
    else
        return nlohmann::json(v);
}

template <class E>
const char* enum_name(E value, const std::vector<std::pair<E, const char*>>& names) {
    for (const auto& [e, n] : names)
        if (e == value) return n;
    return "?";
}

template <class E>
std::string enum_list(const std::vector<std::pair<E, const char*>>& names) {
    std::string list;
    for (const auto& [e, n] : names) list += (list.empty() ? "" : ", ") + std::string(n);
    return list;
}

}  // namespace detail

// Parses a JSON object into a section. Keys absent from the JSON (or null) keep the struct's values.
class JsonReader {
  public:
    JsonReader(const nlohmann::json& json, std::string where) : m_json(json), m_where(std::move(where)) {
        if (!m_json.is_object()) throw Error(m_where, "got " + m_json.dump() + ", expected an object");
    }

    template <class T>
    void field(const char* key, T& value, const char* /*doc*/) {
        m_known.insert(key);
        const auto it = m_json.find(key);
        if (it == m_json.end() || (it->is_null() && !detail::is_optional<T>::value)) return;
        detail::read_value(*it, value, m_where, key);
    }

    template <class E>
    void choice(const char* key, E& value, const std::vector<std::pair<E, const char*>>& names, const char* /*doc*/) {
        m_known.insert(key);
        const auto it = m_json.find(key);
        if (it == m_json.end() || it->is_null()) return;
        if (it->is_string())
            for (const auto& [e, n] : names)
                if (*it == n) {
                    value = e;
                    return;
                }
        detail::wrong(m_where, key, *it, "one of " + detail::enum_list(names));
    }

    template <class S>
    void section(const char* key, S& value, const char* /*doc*/) {
        m_known.insert(key);
        const auto it = m_json.find(key);
        if (it == m_json.end()) return;
        if constexpr (detail::is_optional<S>::value) {
            if (it->is_null()) {
                value.reset();
                return;
            }
            if (!value) value.emplace();
            read(*it, *value, m_where + " " + key);
        } else {
            if (it->is_null()) return;
            read(*it, value, m_where + " " + key);
        }
    }

    // A list of sections; the JSON's list replaces the whole list (each element from S's defaults).
    template <class S>
    void list(const char* key, std::vector<S>& value, const char* /*doc*/) {
        m_known.insert(key);
        const auto it = m_json.find(key);
        if (it == m_json.end() || it->is_null()) return;
        if (!it->is_array()) detail::wrong(m_where, key, *it, "a list");
        std::vector<S> out;
        for (std::size_t i = 0; i < it->size(); ++i) {
            S element{};
            read((*it)[i], element, m_where + " " + key + "[" + std::to_string(i) + "]");
            out.push_back(std::move(element));
        }
        value = std::move(out);
    }

    // Throws for the first key of the JSON that no visit named.
    void finish() const {
        for (const auto& [key, v] : m_json.items())
            if (!m_known.count(key)) {
                std::string list;
                for (const auto& k : m_known) list += (list.empty() ? "" : ", ") + k;
                throw Error(m_where + ": '" + key + "'", "unknown key; expected one of " + list);
            }
    }

    // Reads a whole section (visit + unknown-key check).
    template <class S>
    static void read(const nlohmann::json& json, S& value, const std::string& where) {
        JsonReader r(json, where);
        value.visit(r);
        r.finish();
    }

  private:
    const nlohmann::json& m_json;
    std::string m_where;
    std::set<std::string> m_known;
};

// Writes every key of a section.
class JsonWriter {
  public:
    template <class T>
    void field(const char* key, T& value, const char*) {
        m_json[key] = detail::write_value(value);
    }
    template <class E>
    void choice(const char* key, E& value, const std::vector<std::pair<E, const char*>>& names, const char*) {
        m_json[key] = detail::enum_name(value, names);
    }
    template <class S>
    void section(const char* key, S& value, const char*) {
        if constexpr (detail::is_optional<S>::value)
            m_json[key] = value ? write(*value) : nlohmann::json(nullptr);
        else
            m_json[key] = write(value);
    }
    template <class S>
    void list(const char* key, std::vector<S>& value, const char*) {
        nlohmann::json a = nlohmann::json::array();
        for (S& element : value) a.push_back(write(element));
        m_json[key] = a;
    }
    template <class S>
    nlohmann::json list_json(std::vector<S> value) {
        nlohmann::json a = nlohmann::json::array();
        for (S& element : value) a.push_back(write(element));
        return a;
    }
    // The section as JSON (the visit needs a mutable object; a copy is visited).
    template <class S>
    static nlohmann::json write(S value) {
        JsonWriter w;
        w.m_json = nlohmann::json::object();
        value.visit(w);
        return w.m_json;
    }

  private:
    nlohmann::json m_json;
};

// One row of the config reference.
struct KeyDoc {
    std::string key;        // dotted path: "evaluation.metric"
    std::string value;      // default, as JSON text
    std::string doc;
};

// Collects every key of a section with its default (the visited object's value) and meaning.
class ReferenceWriter {
  public:
    explicit ReferenceWriter(std::string prefix = {}) : m_prefix(std::move(prefix)) {}
    template <class T>
    void field(const char* key, T& value, const char* doc) {
        m_rows.push_back({m_prefix + key, detail::write_value(value).dump(), doc});
    }
    template <class E>
    void choice(const char* key, E& value, const std::vector<std::pair<E, const char*>>& names, const char* doc) {
        m_rows.push_back({m_prefix + key, nlohmann::json(detail::enum_name(value, names)).dump(),
                          std::string(doc) + " (" + detail::enum_list(names) + ")"});
    }
    template <class S>
    void section(const char* key, S& value, const char* doc) {
        if constexpr (detail::is_optional<S>::value) {
            // The section's default (usually null), then its keys with the defaults they take when it is given.
            m_rows.push_back({m_prefix + key, value ? "{...}" : "null", doc});
            typename S::value_type element = value ? *value : typename S::value_type{};
            ReferenceWriter inner(m_prefix + key + ".");
            element.visit(inner);
            m_rows.insert(m_rows.end(), inner.m_rows.begin(), inner.m_rows.end());
        } else {
            ReferenceWriter inner(m_prefix + key + ".");
            value.visit(inner);
            m_rows.insert(m_rows.end(), inner.m_rows.begin(), inner.m_rows.end());
        }
    }
    // A list: one row for the list, then the rows of one default element under "key[].".
    template <class S>
    void list(const char* key, std::vector<S>& value, const char* doc) {
        m_rows.push_back({m_prefix + key, JsonWriter{}.list_json(value).dump(), doc});
        S element{};
        ReferenceWriter inner(m_prefix + key + "[].");
        element.visit(inner);
        m_rows.insert(m_rows.end(), inner.m_rows.begin(), inner.m_rows.end());
    }
    template <class S>
    static std::vector<KeyDoc> rows(S value, const std::string& prefix = {}) {
        ReferenceWriter r(prefix);
        value.visit(r);
        return r.m_rows;
    }

  private:
    std::string m_prefix;
    std::vector<KeyDoc> m_rows;
};

}  // namespace mtag::data::config
