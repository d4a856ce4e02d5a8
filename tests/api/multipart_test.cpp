// multipart/form-data parsing: the parts of well-formed bodies, and every malformation refused
// naming the body (or the Content-Type for a bad boundary).
#include <gtest/gtest.h>

#include "api/files.hpp"
#include "api/multipart.hpp"

namespace fieldledger::api {
namespace {

using domain::errc;

std::string field_of(const domain::error& e) { return e.fields.empty() ? "" : e.fields[0].field; }

TEST(Multipart, FindsTheBoundaryQuotedOrNot) {
  EXPECT_EQ(*multipart_boundary("multipart/form-data; boundary=abc"), "abc");
  EXPECT_EQ(*multipart_boundary("multipart/form-data; charset=utf-8; boundary=\"a b:c\""), "a b:c");
  EXPECT_EQ(*multipart_boundary("multipart/form-data;BOUNDARY=x"), "x");
  for (const std::string& bad : std::vector<std::string>{
           "multipart/form-data",
           "multipart/form-data; boundary=", "multipart/form-data; boundary=\"x",
           "multipart/form-data; boundary=" + std::string(71, 'x')}) {
    auto b = multipart_boundary(bad);
    ASSERT_FALSE(b) << bad;
    EXPECT_EQ(b.error().code, errc::malformed);
    EXPECT_EQ(field_of(b.error()), "Content-Type");
  }
}

TEST(Multipart, SplitsPartsWithNamesFileNamesAndTypes) {
  const std::string body =
      "ignored preamble\r\n--b\r\n"
      "Content-Disposition: form-data; name=\"title\"\r\n\r\n"
      "Boiler\r\n"
      "--b  \r\n"
      "content-disposition: form-data; name=file; filename=\"a \\\"q\\\".pdf\"; "
      "filename*=UTF-8''Pr%C3%BCf.pdf\r\n"
      "Content-Type: application/pdf\r\n\r\n"
      "%PDF\r\n--bx not a delimiter\r\n"
      "--b\r\n"
      "Content-Disposition: form-data; name=\"empty\"; filename=\"e.txt\"\r\n\r\n"
      "\r\n--b--\r\nepilogue";
  auto parts = parse_multipart("b", body);
  ASSERT_TRUE(parts) << parts.error().detail;
  ASSERT_EQ(parts->size(), 3u);
  EXPECT_EQ((*parts)[0].name, "title");
  EXPECT_FALSE((*parts)[0].filename);
  EXPECT_EQ((*parts)[0].body, "Boiler");
  EXPECT_EQ((*parts)[1].name, "file");
  EXPECT_EQ(*(*parts)[1].filename,
            "Pr\xC3\xBC"
            "f.pdf")
      << "filename* wins";
  EXPECT_EQ((*parts)[1].content_type, "application/pdf");
  EXPECT_EQ((*parts)[1].body, "%PDF\r\n--bx not a delimiter");
  EXPECT_EQ(*(*parts)[2].filename, "e.txt");
  EXPECT_EQ((*parts)[2].body, "");
}

TEST(Multipart, AQuotedFileNameKeepsItsEscapedCharacters) {
  auto parts = parse_multipart(
      "b",
      "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a \\\"q\\\".pdf\"\r\n"
      "\r\nx\r\n--b--");
  ASSERT_TRUE(parts);
  EXPECT_EQ(*(*parts)[0].filename, "a \"q\".pdf");
}

TEST(Multipart, RefusesMalformedBodies) {
  const std::string part = "Content-Disposition: form-data; name=\"file\"\r\n\r\nx\r\n";
  for (const std::string& bad : std::vector<std::string>{
           std::string(""),                                                  // no delimiter
           "--b\r\n" + part,                                                 // never closed
           "--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nx",  // part not closed
           "--bX\r\n" + part + "--b--",                                      // no line break
           "--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--",              // no disposition
           "--b\r\nContent-Disposition: attachment; name=\"f\"\r\n\r\nx\r\n--b--",
           "--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--",  // no name
           "--b\r\nContent-Disposition: form-data; name=\"f\r\n\r\nx\r\n--b--",
           "--b\r\nno colon here\r\n\r\nx\r\n--b--",
           "--b\r\n bad: folded\r\n\r\nx\r\n--b--",
           "--b\r\nContent-Disposition: form-data; name=\"f\"; =x\r\n\r\nx\r\n--b--",
           "--b\r\nX: " + std::string(k_max_part_header, 'h') + "\r\n\r\nx\r\n--b--",
       }) {
    auto parts = parse_multipart("b", bad);
    ASSERT_FALSE(parts) << bad;
    EXPECT_EQ(parts.error().code, errc::malformed) << bad;
    EXPECT_EQ(field_of(parts.error()), "body") << bad;
  }
  std::string many;
  for (std::size_t i = 0; i <= k_max_parts; ++i) many += "--b\r\n" + part;
  many += "--b--";
  EXPECT_FALSE(parse_multipart("b", many));
}

TEST(Files, ContentDispositionHasAnAsciiFallbackAndTheExactUtf8Name) {
  EXPECT_EQ(content_disposition("plan.pdf"),
            "attachment; filename=\"plan.pdf\"; filename*=UTF-8''plan.pdf");
  EXPECT_EQ(content_disposition("\xE2\x82\xAC rates \"2026\";x=1%.pdf"),
            "attachment; filename=\"_ rates _2026_;x=1_.pdf\"; "
            "filename*=UTF-8''%E2%82%AC%20rates%20%222026%22%3Bx%3D1%25.pdf");
}

TEST(Files, OnlyUploadRoutesTakeTheLargerLimit) {
  const std::string id = "01a2085e-2d6a-7000-8dc5-9574100495dd";
  EXPECT_TRUE(is_file_upload(http::verb::post, "/v1/customers/" + id + "/files"));
  EXPECT_TRUE(is_file_upload(http::verb::post, "/v1/sites/" + id + "/files?filename=a.pdf"));
  EXPECT_TRUE(is_file_upload(http::verb::post, "/v1/assets/" + id + "/files"));
  EXPECT_FALSE(is_file_upload(http::verb::get, "/v1/customers/" + id + "/files"));
  EXPECT_FALSE(is_file_upload(http::verb::post, "/v1/customers"));
  EXPECT_FALSE(is_file_upload(http::verb::post, "/v1/customers//files"));
  EXPECT_FALSE(is_file_upload(http::verb::post, "/v1/contacts/" + id + "/files"));
  EXPECT_FALSE(is_file_upload(http::verb::post, "/v1/customers/" + id + "/files/x"));
  EXPECT_FALSE(is_file_upload(http::verb::post, "/v1/batch"));
}

}  // namespace
}  // namespace fieldledger::api
