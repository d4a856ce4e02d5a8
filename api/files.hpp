#pragma once
// The HTTP side of files: what an upload carries, and how a file is named going back out.
#include <string>
#include <string_view>

#include "api/http.hpp"
#include "api/request_parts.hpp"
#include "domain/error.hpp"

namespace fieldledger::api {

// True for POST /v1/{customers,sites,assets}/{id}/files: the requests whose body may be as
// large as handler_options::max_file_bytes (the server reads the header to know).
bool is_file_upload(http::verb method, std::string_view target);

struct upload {
  std::string name;          // sanitized (domain::sanitize_file_name)
  std::string content_type;  // of the file, "application/octet-stream" when not given
  std::string_view content;  // a view into the request body
};

// The file of an upload request: either the raw body, its Content-Type and the `filename`
// query parameter, or (Content-Type multipart/form-data) the part named "file", its
// Content-Type and file name (a `filename` parameter wins). Errors name filename, file,
// Content-Type or body.
[[nodiscard]] domain::result<upload> read_upload(const request& req, const target& t);

// Content-Disposition of a download: attachment with an ASCII fallback filename and the
// exact UTF-8 name as filename* (RFC 6266, RFC 8187).
std::string content_disposition(std::string_view name);

}  // namespace fieldledger::api
