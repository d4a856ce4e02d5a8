#pragma once
// The write side's front door: commands go into a queue; one writer thread drains it, decides
// each command against the write model (seeing the effect of earlier commands of the same
// batch), appends the whole batch's events with one durable append (group commit: one fsync
// for many commands), then applies them to the write model and answers every command.
// A command is answered only after its events are durable. If the append fails, no command of
// the batch takes effect: the write model's tentative changes are rolled back and each gets
// the error.
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "commands/outcome.hpp"
#include "commands/write_model.hpp"
#include "domain/customer.hpp"
#include "domain/event_log.hpp"

namespace fieldledger::commands {

struct command_meta {
  std::string actor;            // API key name; recorded in every event
  std::string idempotency_key;  // "" when none
  std::string request_digest;   // digest of method, path and body; required with a key
  // files: decide only, append nothing; the answer says whether the command would be taken
  // now (an upload checks its owner before it stores the content). Not idempotent: send no key.
  bool dry_run = false;
};

using command_callback = std::function<void(domain::result<command_outcome>)>;
using group_callback = std::function<void(std::vector<domain::result<command_outcome>>)>;

struct pipeline_options {
  std::size_t max_batch = 1024;   // commands per group commit
  std::size_t max_queue = 65536;  // beyond this, submit answers unavailable at once
};

class pipeline {
 public:
  // Neither log nor model is owned; both must outlive the pipeline.
  // REQUIRES: model has been restored from log.
  pipeline(domain::event_log& log, write_model& model, pipeline_options options = {});
  ~pipeline();  // stops after answering the commands already queued
  pipeline(const pipeline&) = delete;
  pipeline& operator=(const pipeline&) = delete;

  void start();
  // Stops taking commands (submit answers unavailable), answers those queued, joins.
  void stop();

  // Queues a command; done is called exactly once, on the writer thread (or on the caller's
  // when the queue is full or the pipeline is stopped). Thread-safe.
  void submit(domain::command cmd, command_meta meta, command_callback done);

  // Queues commands that go into the same group commit (a group larger than max_batch gets a
  // commit of its own); done gets one answer per command, in order, once all are answered.
  // atomic: all or nothing; when one is refused, none takes effect (the refused one gets its
  // error, the others a conflict naming it). Thread-safe.
  void submit_group(std::vector<std::pair<domain::command, command_meta>> cmds, bool atomic,
                    group_callback done);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace fieldledger::commands
