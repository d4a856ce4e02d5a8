#pragma once
// SHA-256 (libsodium's crypto_hash_sha256) in lower-case hex.
#include <string>
#include <string_view>

namespace fieldledger::infra {

std::string sha256_hex(std::string_view content);

}  // namespace fieldledger::infra
