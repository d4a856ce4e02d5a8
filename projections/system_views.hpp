#pragma once
// The views of systems (seed 004) and what the history view shows of their events. Key layout:
//   yt/<type id>                 -> system type document {"id","name","fields",version,…}
//   ys/<system id>               -> system document, secrets masked as {"set": true}
//   yc/<customer id>/<system id> -> ""   systems of a customer
//   yd/<site id>/<system id>     -> ""   systems at a site
//   yz/<system id>               -> {key: sealed} the sealed secrets (ciphertext only), read
//                                   for an admin's reveal; never part of an ordinary answer
//   ow/<system id>               -> customer id (with the owners view's entries)
#include <memory>
#include <vector>

#include "domain/event.hpp"
#include "projections/view.hpp"

namespace fieldledger::projections {

inline constexpr std::string_view k_system_type_prefix = "yt/";
inline constexpr std::string_view k_system_prefix = "ys/";
inline constexpr std::string_view k_customer_systems_prefix = "yc/";
inline constexpr std::string_view k_site_systems_prefix = "yd/";
inline constexpr std::string_view k_sealed_prefix = "yz/";

std::vector<std::unique_ptr<view>> make_system_views();

// The history entry's changes of a system.* event ([{field, before, after}]), every secret
// masked; nullopt for other events.
std::optional<domain::array> system_changes(const domain::event& e);

}  // namespace fieldledger::projections
