#pragma once
// A view: a projection of the log into view_store keys. Each view owns a key prefix; the runner
// writes its checkpoints in the same commit as the data (projections/checkpoints.hpp).
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "domain/event.hpp"
#include "projections/view_store.hpp"

namespace fieldledger::projections {

// The writes of one commit, readable before they land, so later events of a batch see the
// effect of earlier ones. Not thread-safe.
//
// A document can also be read and changed decoded (doc()): it is parsed at most once per batch,
// and a changed one is rendered to text once, when the ops are taken, however many events of
// the batch change it. get() sees the current state of a changed document (it renders it on
// demand); put() and del() of a key drop its decoded document, so a later doc() reads what they
// wrote.
class batch {
  struct entry;

 public:
  explicit batch(const view_store& store) : store_(store) {}
  // Room for about n writes without growing.
  void reserve(std::size_t n) {
    ops_.reserve(n);
    index_.reserve(n);
  }
  [[nodiscard]] domain::result<std::optional<std::string>> get(std::string_view key);
  void put(std::string key, std::string value);
  void del(std::string key);
  bool empty() const noexcept { return ops_.empty(); }
  // The ops in the order given, later writes to a key superseding earlier ones; the changed
  // decoded documents rendered (a null document is a delete).
  std::vector<write_op> take();

  // A decoded document of the batch. Valid until its key is put or deleted, or the batch is
  // taken.
  class document {
   public:
    domain::value& operator*() const noexcept;
    domain::value* operator->() const noexcept { return &**this; }
    // Records a change made through this handle, so that the document is written. A document
    // left null is written as a delete.
    void changed() const;

   private:
    friend class batch;
    document(batch& b, std::pair<const std::string, entry>& e) : batch_(&b), node_(&e) {}
    batch* batch_;
    std::pair<const std::string, entry>* node_;
  };
  // The document at key, decoded (a null value when there is none); the store's error, or an
  // internal error when its text is not a JSON object.
  [[nodiscard]] domain::result<document> doc(std::string_view key);
  // Puts a new document and keeps it decoded, so that later events of the batch change it
  // without parsing it. It is rendered now (while it is in the cache), and once more at take()
  // only if it is changed.
  document put_doc(std::string key, domain::value doc);

 private:
  static constexpr std::size_t k_no_op = static_cast<std::size_t>(-1);
  struct entry {
    std::size_t op = k_no_op;  // -> ops_, k_no_op while the key has no write
    bool decoded = false;      // doc holds the key's document
    bool dirty = false;        // doc was changed since it was last rendered into ops_
    domain::value doc;
  };
  using node = std::pair<const std::string, entry>;
  // Renders a dirty document into its op.
  void render(entry& e);
  // Drops the decoded document of e (a raw write supersedes it).
  static void drop(entry& e) {
    if (!e.decoded) return;
    e.decoded = false;
    e.dirty = false;
    e.doc = domain::value{};
  }
  node& write(std::string key, std::optional<std::string> value);

  const view_store& store_;
  std::vector<write_op> ops_;
  // Looked up by string_view without making a string of it.
  struct key_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view k) const noexcept {
      return std::hash<std::string_view>{}(k);
    }
  };
  // Every key written or decoded in this batch. Nodes are stable, so documents may point in.
  std::unordered_map<std::string, entry, key_hash, std::equal_to<>> index_;
  // The documents changed since they were last rendered (and some rendered since: see dirty).
  std::vector<node*> dirty_;
};

inline domain::value& batch::document::operator*() const noexcept { return node_->second.doc; }

class view {
 public:
  virtual ~view() = default;
  virtual std::string_view name() const = 0;
  // Applies one event; must be deterministic (rebuilds give byte-equal views).
  [[nodiscard]] virtual domain::result<void> apply(const domain::recorded_event& e, batch& b) = 0;
};

// The views of this release: customer detail, customer search, contacts (by customer and by
// id, with the contact search index), primary contact by customer.
std::vector<std::unique_ptr<view>> make_views();

// The history view (projections/audit.cpp): "hi/<customer>/<inverted offset>" -> the history
// entry of each event; it is also the per-customer index of the log.
std::unique_ptr<view> make_history_view();

// The own checkpoint key of a view for a partition (projections/checkpoints.hpp).
std::string checkpoint_key(std::string_view view_name, std::uint32_t partition);

}  // namespace fieldledger::projections
