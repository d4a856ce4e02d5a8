#pragma once
// The key layout of the views of this release (views write it, queries read it).
//   cu/<customer id>                       -> customer document
//   sw/<word>\0<customer id>               -> ""   customer search words
//   ct/<contact id>                        -> contact document (removed contacts: absent)
//   cc/<customer id>/<contact id>          -> ""   contacts of a customer, in creation order
//   cw/<word>\0<contact id>                -> ""   contact search words
//   hi/<customer id>/<inverted offset>     -> history entry of each event (projections/audit.cpp)
//   pc/<customer id>                       -> primary contact's document (earlier: its id)
#include <string>
#include <string_view>

namespace fieldledger::projections::keys {

inline constexpr std::string_view customer_prefix = "cu/";
inline constexpr std::string_view customer_word_prefix = "sw/";
inline constexpr std::string_view contact_prefix = "ct/";
inline constexpr std::string_view customer_contacts_prefix = "cc/";
inline constexpr std::string_view contact_word_prefix = "cw/";
inline constexpr std::string_view primary_contact_prefix = "pc/";

inline constexpr std::string_view site_prefix = "st/";
inline constexpr std::string_view asset_prefix = "as/";
inline constexpr std::string_view part_prefix = "pa/";

// "<prefix><a>" and "<prefix><a>/<b>".
inline std::string key(std::string_view prefix, std::string_view a) {
  return std::string(prefix) += a;
}
inline std::string key(std::string_view prefix, std::string_view a, std::string_view b) {
  std::string k(prefix);
  k += a;
  k += '/';
  k += b;
  return k;
}

inline std::string customer(std::string_view id) { return std::string(customer_prefix) += id; }
inline std::string contact(std::string_view id) { return std::string(contact_prefix) += id; }
inline std::string primary_contact(std::string_view customer) {
  return std::string(primary_contact_prefix) += customer;
}
inline std::string customer_contacts(std::string_view customer) {
  return (std::string(customer_contacts_prefix) += customer) += '/';
}
inline std::string word(std::string_view prefix, std::string_view word, std::string_view id) {
  std::string k(prefix);
  k += word;
  k += '\0';
  k += id;
  return k;
}

}  // namespace fieldledger::projections::keys
