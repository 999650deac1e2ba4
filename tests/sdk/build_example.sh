#!/usr/bin/env bash
# build_example.sh <build dir> <example source dir> <source dir> <generator>
set -euo pipefail
build="$1" example="$2" source="$3" generator="$4"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$tmp/sdk" --component sdk >/dev/null
for f in include/tsunagu/plugin.hpp include/tsunagu/adapter.hpp include/tsunagu/codec/cp932.hpp \
         include/tsunagu/codec/csv_reader.hpp lib/libtsunagu_codec.a \
         lib/cmake/Tsunagu/TsunaguConfig.cmake lib/cmake/Tsunagu/TsunaguPlugin.cmake; do
  [ -f "$tmp/sdk/$f" ] || fail "the SDK install has no $f"
done
# Nothing of the runtime comes with --component sdk.
[ ! -e "$tmp/sdk/bin" ] || fail "the SDK install has bin/"

cmake -S "$example" -B "$tmp/example" -G "$generator" -DCMAKE_PREFIX_PATH="$tmp/sdk" >"$tmp/configure.log" 2>&1 ||
  { cat "$tmp/configure.log"; fail "configuring the example against the SDK"; }
cmake --build "$tmp/example" >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log"; fail "building the example"; }
plugin="$tmp/example/tsunagu-adapter-example_csv.so"
[ -f "$plugin" ] || fail "no $plugin"

# The real loader: descriptor, api version, factory.
mkdir -p "$tmp/plugins"
cp "$plugin" "$tmp/plugins/"
cat >"$tmp/tsunagu.xml" <<XML
<tsunagu>
  <data-dir>$tmp/data</data-dir>
  <plugins><directory>$tmp/plugins</directory></plugins>
  <mappings><directory>$source/mappings</directory></mappings>
  <systems><public_assistance><adapter>public_assistance</adapter><mapping>public_assistance.xml</mapping></public_assistance></systems>
</tsunagu>
XML
out="$("$build/bin/tsunagu" --config "$tmp/tsunagu.xml" plugins list)" || { echo "$out"; fail "plugins list refused a plugin"; }
echo "$out"
grep -Eq '^adapter +example_csv +1\.0\.0 +1 +tsunagu-adapter-example_csv\.so$' <<<"$out" ||
  fail "plugins list does not show example_csv 1.0.0 (api 1)"
echo "OK: example_csv built against the installed SDK and loaded"
