#include "json/parse.hpp"

#include <simdjson.h>

#include <string>

namespace fieldledger::json {

using domain::errc;
using domain::value;
namespace od = simdjson::ondemand;

namespace {

struct parse_error {
  std::string why;
};

class reader {
 public:
  reader(const char* base, const parse_limits& limits) : base_(base), limits_(limits) {}

  value read(od::value v, std::size_t depth) {
    if (depth > limits_.max_depth) {
      fail_at(v, "nesting deeper than " + std::to_string(limits_.max_depth) + " levels");
    }
    od::json_type t;
    check(v.type().get(t), v);
    switch (t) {
      case od::json_type::object: {
        od::object obj;
        check(v.get_object().get(obj), v);
        domain::object out;
        for (auto field : obj) {
          std::string_view key;
          check(field.unescaped_key().get(key), v);
          if (key.size() > limits_.max_string_bytes) fail_at(v, "object key too long");
          std::string k(key);
          value member = read(field.value(), depth + 1);
          if (!out.emplace(k, std::move(member)).second) {
            fail_at(v, "duplicate key \"" + k + "\"");
          }
        }
        return value(std::move(out));
      }
      case od::json_type::array: {
        od::array arr;
        check(v.get_array().get(arr), v);
        domain::array out;
        for (auto element : arr) {
          od::value ev;
          check(element.get(ev), v);
          out.push_back(read(ev, depth + 1));
        }
        return value(std::move(out));
      }
      case od::json_type::string: {
        std::string_view s;
        check(v.get_string().get(s), v);
        if (s.size() > limits_.max_string_bytes) {
          fail_at(v, "string longer than " + std::to_string(limits_.max_string_bytes) + " bytes");
        }
        return value(s);
      }
      case od::json_type::number: {
        od::number_type nt;
        check(v.get_number_type().get(nt), v);
        if (nt == od::number_type::signed_integer) {
          std::int64_t i = 0;
          check(v.get_int64().get(i), v);
          return value(i);
        }
        if (nt == od::number_type::unsigned_integer) fail_at(v, "integer out of range");
        double d = 0;
        check(v.get_double().get(d), v);
        return value(d);
      }
      case od::json_type::boolean: {
        bool b;
        check(v.get_bool().get(b), v);
        return value(b);
      }
      case od::json_type::null: {
        bool is_null = false;
        check(v.is_null().get(is_null), v);
        if (!is_null) fail_at(v, "invalid literal");
        return value(nullptr);
      }
    }
    fail_at(v, "unexpected value");
  }

  void check(simdjson::error_code ec, od::value& v) {
    if (ec != simdjson::SUCCESS) fail_at(v, simdjson::error_message(ec));
  }

  [[noreturn]] void fail_at(od::value& v, const std::string& why) {
    std::string where;
    const char* loc = nullptr;
    if (v.current_location().get(loc) == simdjson::SUCCESS && loc != nullptr) {
      where = " at byte " + std::to_string(loc - base_);
    }
    throw parse_error{why + where};
  }

 private:
  const char* base_;
  const parse_limits& limits_;
};

}  // namespace

domain::result<value> parse(std::string_view text, const parse_limits& limits) {
  if (text.empty())
    return domain::fail(errc::malformed, "the body is empty; a JSON document is required");
  simdjson::padded_string padded(text);
  // One parser per thread: its buffers are kept from one document to the next.
  thread_local od::parser parser;
  od::document doc;
  if (auto ec = parser.iterate(padded).get(doc); ec != simdjson::SUCCESS) {
    return domain::fail(errc::malformed,
                        std::string("malformed JSON: ") + simdjson::error_message(ec));
  }
  try {
    reader r(padded.data(), limits);
    od::value root;
    // A scalar document cannot be taken as a value in simdjson 3; wrap the common case.
    od::json_type t;
    if (auto ec = doc.type().get(t); ec != simdjson::SUCCESS) {
      return domain::fail(errc::malformed,
                          std::string("malformed JSON: ") + simdjson::error_message(ec));
    }
    value out;
    if (t == od::json_type::object || t == od::json_type::array) {
      if (auto ec = doc.get_value().get(root); ec != simdjson::SUCCESS) {
        return domain::fail(errc::malformed,
                            std::string("malformed JSON: ") + simdjson::error_message(ec));
      }
      out = r.read(root, 1);
    } else {
      return domain::fail(errc::malformed,
                          "malformed JSON: the document must be an object or an array");
    }
    // At the end of the document current_location() fails; anything else is trailing content.
    if (const char* loc = nullptr;
        doc.current_location().get(loc) == simdjson::SUCCESS && loc != nullptr) {
      return domain::fail(errc::malformed,
                          "malformed JSON: unexpected content after the document at byte " +
                              std::to_string(loc - padded.data()));
    }
    return out;
  } catch (const parse_error& e) {
    return domain::fail(errc::malformed, "malformed JSON: " + e.why);
  }
}

std::optional<std::int64_t> top_level_int(std::string_view doc, std::string_view key) {
  thread_local od::parser parser;
  simdjson::padded_string padded(doc);
  od::document d;
  if (parser.iterate(padded).get(d) != simdjson::SUCCESS) return std::nullopt;
  od::object o;
  if (d.get_object().get(o) != simdjson::SUCCESS) return std::nullopt;
  std::int64_t n = 0;
  if (o.find_field_unordered(key).get_int64().get(n) != simdjson::SUCCESS) return std::nullopt;
  return n;
}

}  // namespace fieldledger::json
