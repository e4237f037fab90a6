# Turns report/html/page.js and page.css into html_assets.cc (raw string literals), so
# orch carries its page without reading files at run time. Run by report/CMakeLists.txt:
#   cmake -DJS=page.js -DCSS=page.css -DOUT=html_assets.cc -P embed.cmake
file(READ "${JS}" js)
file(READ "${CSS}" css)
string(FIND "${js}" ")orch_asset\"" bad_js)
string(FIND "${css}" ")orch_asset\"" bad_css)
if(NOT bad_js EQUAL -1 OR NOT bad_css EQUAL -1)
  message(FATAL_ERROR "an asset under report/html/ contains the raw-string delimiter )orch_asset\"")
endif()
file(WRITE "${OUT}.tmp" "// Generated from report/html/ by report/html/embed.cmake; do not edit.\n#include \"report/html_writer.h\"\n\nnamespace orch::report {\n\nstd::string_view HtmlPageScript() {\n  static constexpr char kScript[] = R\"orch_asset(${js})orch_asset\";\n  return {kScript, sizeof(kScript) - 1};\n}\n\nstd::string_view HtmlPageStyle() {\n  static constexpr char kStyle[] = R\"orch_asset(${css})orch_asset\";\n  return {kStyle, sizeof(kStyle) - 1};\n}\n\n}  // namespace orch::report\n")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
