#include "commands/outcome.hpp"

namespace fieldledger::commands {

using namespace fieldledger::domain;

command_outcome make_outcome(const customer_state& state, const std::string& entity_id,
                             entity_version version, std::optional<log_position> position,
                             bool created) {
  command_outcome o;
  o.status = created ? 201 : 200;
  const bool is_customer = entity_id == state.id.get();
  o.location = (is_customer ? "/v1/customers/" : "/v1/contacts/") + entity_id;
  o.entity_id = entity_id;
  o.version = version;
  o.position = position;
  object body{{"id", entity_id}, {"version", version.get()}};
  body["position"] = position ? value(to_string(*position)) : value{};
  if (is_customer) {
    body["number"] = state.number;
  } else {
    body["customer_id"] = state.id.get();
  }
  o.body = std::move(body);
  return o;
}

}  // namespace fieldledger::commands
