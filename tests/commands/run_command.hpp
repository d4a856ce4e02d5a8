#pragma once
// Submitting to a pipeline and waiting for the answer, and counting a log's events: what the
// command tests share.
#include <future>
#include <utility>
#include <vector>

#include "commands/pipeline.hpp"

namespace fieldledger::commands::test_support {

inline domain::result<command_outcome> run_command(pipeline& p, domain::command cmd,
                                                   command_meta meta = {"tester", "", ""}) {
  std::promise<domain::result<command_outcome>> done;
  auto f = done.get_future();
  p.submit(std::move(cmd), std::move(meta),
           [&done](domain::result<command_outcome> r) { done.set_value(std::move(r)); });
  return f.get();
}

inline std::vector<domain::result<command_outcome>> run_group(
    pipeline& p, std::vector<std::pair<domain::command, command_meta>> group, bool atomic) {
  std::promise<std::vector<domain::result<command_outcome>>> done;
  auto f = done.get_future();
  p.submit_group(std::move(group), atomic, [&done](std::vector<domain::result<command_outcome>> r) {
    done.set_value(std::move(r));
  });
  return f.get();
}

// The events in every partition of log.
inline std::int64_t events_in(domain::event_log& log) {
  std::int64_t n = 0;
  for (std::uint32_t p = 0; p < log.partition_count(); ++p) {
    n += log.end_offset(domain::partition_id{p}).get();
  }
  return n;
}

}  // namespace fieldledger::commands::test_support
