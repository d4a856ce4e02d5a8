#include "projections/view.hpp"

#include <utility>

#include "json/parse.hpp"

namespace fieldledger::projections {

using namespace fieldledger::domain;

result<std::optional<std::string>> batch::get(std::string_view key) {
  if (auto it = index_.find(key); it != index_.end()) {
    auto& e = it->second;
    if (e.dirty) render(e);
    if (e.op != k_no_op) return ops_[e.op].value;
  }
  return store_.get(key);
}

batch::node& batch::write(std::string key, std::optional<std::string> value) {
  auto it = index_.find(key);
  if (it == index_.end()) it = index_.emplace(key, entry{}).first;
  auto& e = it->second;
  drop(e);
  if (e.op == k_no_op) {
    e.op = ops_.size();
    ops_.push_back({std::move(key), std::move(value)});
  } else {
    ops_[e.op].value = std::move(value);
  }
  return *it;
}

void batch::put(std::string key, std::string value) { write(std::move(key), std::move(value)); }

void batch::del(std::string key) { write(std::move(key), std::nullopt); }

result<batch::document> batch::doc(std::string_view key) {
  auto it = index_.find(key);
  if (it != index_.end() && it->second.decoded) return document(*this, *it);
  std::optional<std::string> stored;
  const std::optional<std::string>* text = &stored;
  if (it != index_.end() && it->second.op != k_no_op) {
    text = &ops_[it->second.op].value;
  } else {
    auto got = store_.get(key);
    if (!got) return std::unexpected(got.error());
    stored = std::move(*got);
  }
  value v;
  if (*text) {
    auto parsed = json::parse(**text, {.max_depth = 64, .max_string_bytes = 1 << 20});
    if (!parsed || !parsed->is_object()) {
      return fail(errc::internal, "view document " + std::string(key) + " is corrupt");
    }
    v = std::move(*parsed);
  }
  if (it == index_.end()) it = index_.emplace(std::string(key), entry{}).first;
  it->second.decoded = true;
  it->second.doc = std::move(v);
  return document(*this, *it);
}

batch::document batch::put_doc(std::string key, value doc) {
  auto text = to_json(doc);
  auto& n = write(std::move(key), std::move(text));
  n.second.decoded = true;
  n.second.doc = std::move(doc);
  return document(*this, n);
}

void batch::document::changed() const {
  auto& e = node_->second;
  if (!e.dirty) {
    e.dirty = true;
    batch_->dirty_.push_back(node_);
  }
  if (e.op != k_no_op) return;
  e.op = batch_->ops_.size();
  batch_->ops_.push_back({node_->first, std::nullopt});  // rendered before it is read
}

void batch::render(entry& e) {
  ops_[e.op].value = e.doc.is_null() ? std::nullopt : std::optional(to_json(e.doc));
  e.dirty = false;
}

std::vector<write_op> batch::take() {
  for (auto* n : dirty_) {
    if (n->second.dirty) render(n->second);
  }
  dirty_.clear();
  index_.clear();
  return std::exchange(ops_, {});
}

std::string checkpoint_key(std::string_view view_name, std::uint32_t partition) {
  std::string k = "~ckpt/";
  k += view_name;
  k += '/';
  k += std::to_string(partition);
  return k;
}

}  // namespace fieldledger::projections
