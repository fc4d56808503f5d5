// tojson: byte-for-byte Python json.dumps(x, ensure_ascii=False, indent=..., separators=...,
// sort_keys=...), which is what Hugging Face's chat-template tojson filter calls.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "base/error.h"
#include "chat/value.h"

namespace qlm::chat {
namespace {

void append_json_string(const std::string& s, std::string& out) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);  // ensure_ascii=False: UTF-8 passes through
        }
    }
  }
  out += '"';
}

struct JsonWriter {
  const JsonFormat& format;
  std::string item_sep;
  std::string key_sep;
  std::string out;

  void newline(int level) {
    out += '\n';
    out.append(static_cast<size_t>(format.indent) * level, ' ');
  }

  void write(const Value& v, int level) {
    switch (v.kind) {
      case Kind::kNone:
        out += "null";
        return;
      case Kind::kBool:
        out += v.boolean ? "true" : "false";
        return;
      case Kind::kInt:
        out += std::to_string(v.integer);
        return;
      case Kind::kFloat:
        if (std::isnan(v.number))
          out += "NaN";
        else if (std::isinf(v.number))
          out += v.number > 0 ? "Infinity" : "-Infinity";
        else
          out += format_float(v.number);
        return;
      case Kind::kString:
        append_json_string(v.text, out);
        return;
      case Kind::kList: {
        if (v.list->empty()) {
          out += "[]";
          return;
        }
        out += '[';
        for (size_t i = 0; i < v.list->size(); ++i) {
          if (i) out += item_sep;
          if (format.indent >= 0) newline(level + 1);
          write((*v.list)[i], level + 1);
        }
        if (format.indent >= 0) newline(level);
        out += ']';
        return;
      }
      case Kind::kDict: {
        if (v.dict->items.empty()) {
          out += "{}";
          return;
        }
        std::vector<const std::pair<std::string, Value>*> items;
        for (const auto& item : v.dict->items) items.push_back(&item);
        if (format.sort_keys)
          std::stable_sort(items.begin(), items.end(),
                           [](auto* a, auto* b) { return a->first < b->first; });
        out += '{';
        for (size_t i = 0; i < items.size(); ++i) {
          if (i) out += item_sep;
          if (format.indent >= 0) newline(level + 1);
          append_json_string(items[i]->first, out);
          out += key_sep;
          write(items[i]->second, level + 1);
        }
        if (format.indent >= 0) newline(level);
        out += '}';
        return;
      }
      default:
        fail("chat template: tojson: Object of type ", type_name(v), " is not JSON serializable");
    }
  }
};

}  // namespace

std::string to_json(const Value& v, const JsonFormat& format) {
  JsonWriter w{format, format.item_separator, format.key_separator, {}};
  // Python's defaults: (', ', ': ') without indent, (',', ': ') with one.
  if (!format.custom_separators) {
    w.item_sep = format.indent >= 0 ? "," : ", ";
    w.key_sep = ": ";
  }
  w.write(v, 0);
  return w.out;
}

}  // namespace qlm::chat
