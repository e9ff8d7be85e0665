// Bearer tokens are compared in constant time; basic-auth passwords are checked with
// libcrypt's bcrypt (crypt_rn), and successful checks are cached by SHA-256 digest.
#include "daemon/auth.hpp"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cstring>
#include <optional>

namespace boundwise {

namespace {

bool equal_constant_time(std::string_view a, std::string_view b) {
  // The length leaks nothing useful (the token's length is not secret in practice),
  // but compare a full buffer anyway so that timing depends on `a` only.
  std::string padded(b.substr(0, a.size()));
  padded.resize(a.size(), '\0');
  return CRYPTO_memcmp(a.data(), padded.data(), a.size()) == 0 && a.size() == b.size();
}

bool bcrypt_matches(const std::string& password, const std::string& hash) {
  crypt_data data{};
  const char* out = crypt_rn(password.c_str(), hash.c_str(), &data, sizeof data);
  return out != nullptr && out[0] != '*' && std::strlen(out) == hash.size() &&
         CRYPTO_memcmp(out, hash.data(), hash.size()) == 0;
}

std::string sha256(std::string_view text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof digest);
}

std::optional<std::string> base64_decode(std::string_view in) {
  if (in.empty() || in.size() % 4 != 0 || in.size() > 4096) return std::nullopt;
  std::string out(in.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts the padding as zero bytes.
  std::size_t padding = in.ends_with("==") ? 2 : in.ends_with("=") ? 1 : 0;
  out.resize(static_cast<std::size_t>(n) - padding);
  return out;
}

}  // namespace

Authenticator::Authenticator(const WebConfig& web)
    : token_(web.bearer_token), users_(web.basic_auth_users), protected_(web.protected_endpoints) {
  // A hash of the configured cost ("$2b$12$" prefix) with a fixed salt: checking an
  // unknown user against it costs what a known user's check costs.
  std::string prefix = users_.empty() ? "$2b$12$" : users_.begin()->second.substr(0, 7);
  dummy_hash_ = prefix + std::string(53, 'A');
  crypt_data data{};
  if (const char* out = crypt_rn("boundwise", dummy_hash_.c_str(), &data, sizeof data);
      out != nullptr && out[0] != '*') {
    dummy_hash_ = out;
  }
}

bool Authenticator::protects(std::string_view path) const {
  if (!enabled()) return false;
  return std::find(protected_.begin(), protected_.end(), path) != protected_.end();
}

bool Authenticator::requires_credentials(std::string_view method, std::string_view path) const {
  if (!enabled()) return false;
  return protects(path) || (method != "GET" && method != "HEAD");
}

std::string Authenticator::challenge() const {
  return users_.empty() ? "Bearer realm=\"boundwise\"" : "Basic realm=\"boundwise\"";
}

namespace {

// "Scheme credentials" → (lower-case scheme, credentials); nullopt without a space.
std::optional<std::pair<std::string, std::string_view>> split_authorization(
    std::string_view authorization) {
  auto space = authorization.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  std::string scheme(authorization.substr(0, space));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string_view credentials = authorization.substr(space + 1);
  while (!credentials.empty() && credentials.front() == ' ') credentials.remove_prefix(1);
  return std::make_pair(std::move(scheme), credentials);
}

}  // namespace

bool Authenticator::check(std::string_view authorization) {
  if (!enabled()) return true;
  auto parts = split_authorization(authorization);
  if (!parts) return false;
  const auto& [scheme, credentials] = *parts;
  if (scheme == "bearer" && !token_.empty()) return equal_constant_time(token_, credentials);
  if (scheme == "basic" && !users_.empty()) return check_basic(credentials);
  return false;
}

bool Authenticator::slow(std::string_view authorization) const {
  if (users_.empty()) return false;
  auto parts = split_authorization(authorization);
  if (!parts || parts->first != "basic") return false;
  auto decoded = base64_decode(parts->second);
  if (!decoded || decoded->find(':') == std::string::npos) return false;  // refused at once
  std::string digest = sha256(*decoded);
  std::lock_guard lock(verified_mutex_);
  return std::find(verified_.begin(), verified_.end(), digest) == verified_.end();
}

bool Authenticator::check_basic(std::string_view encoded) {
  auto decoded = base64_decode(encoded);
  if (!decoded) return false;
  auto colon = decoded->find(':');
  if (colon == std::string::npos) return false;
  std::string user = decoded->substr(0, colon);
  std::string password = decoded->substr(colon + 1);

  std::string digest = sha256(*decoded);
  auto it = users_.find(user);
  {
    std::lock_guard lock(verified_mutex_);
    auto cached = std::find(verified_.begin(), verified_.end(), digest);
    if (cached != verified_.end() && it != users_.end()) return true;
  }
  // bcrypt outside the lock: it takes ~0.2 s.
  bool ok = bcrypt_matches(password, it != users_.end() ? it->second : dummy_hash_);
  ok = ok && it != users_.end();
  if (ok) {
    std::lock_guard lock(verified_mutex_);
    verified_.push_front(digest);
    if (verified_.size() > kVerifiedCache) verified_.pop_back();
  }
  return ok;
}

}  // namespace boundwise
