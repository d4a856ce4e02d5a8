#pragma once
// What a command answers; built the same way for a fresh command and for an idempotent replay.
#include <optional>
#include <string>

#include "domain/customer.hpp"

namespace fieldledger::commands {

struct command_outcome {
  int status = 200;      // 201 when the command created the entity
  std::string location;  // "/v1/customers/{id}" or "/v1/contacts/{id}"
  std::string entity_id;
  domain::entity_version version;                // the entity's version after the command
  std::optional<domain::log_position> position;  // of the command's last event, or the
                                                 // customer's latest when it changed nothing
  domain::value body;     // {"id","version","position"} (+ "number" for customers)
  bool replayed = false;  // answered from the idempotency record, nothing appended
};

// The answer to a command whose entity is entity_id of customer state (the customer itself
// or one of its contacts), at the given version and position.
command_outcome make_outcome(const domain::customer_state& state, const std::string& entity_id,
                             domain::entity_version version,
                             std::optional<domain::log_position> position, bool created);

}  // namespace fieldledger::commands
