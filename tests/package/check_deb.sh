#!/usr/bin/env bash
# check_deb.sh <build dir> <version>
set -euo pipefail
build="$1" version="$2"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
problems=0
fail() { echo "FAIL: $*" >&2; problems=$((problems + 1)); }
need() { [ -e "$root/$1" ] || fail "the package has no $1"; }

(cd "$build" && cpack -G DEB -B "$tmp/out" >"$tmp/cpack.log" 2>&1) || { cat "$tmp/cpack.log"; exit 1; }
arch="$(dpkg --print-architecture)"
deb="$tmp/out/tsunagu_${version}_${arch}.deb"
dev="$tmp/out/tsunagu-dev_${version}_${arch}.deb"
[ -f "$deb" ] || { ls "$tmp/out"; echo "FAIL: no $deb"; exit 1; }
[ -f "$dev" ] || fail "no $dev"

root="$tmp/root"
dpkg-deb -x "$deb" "$root"
dpkg-deb -e "$deb" "$tmp/control"

# Layout
need usr/sbin/tsunagud
need usr/bin/tsunagu
for p in public_assistance health_centre education child_guidance; do
  need "usr/lib/tsunagu/plugins/tsunagu-adapter-$p.so"
done
need usr/share/tsunagu/mappings/mapping.xsd
need usr/share/tsunagu/mappings/public_assistance.xml
for f in tsunagu.xml policies.xml roster.xml holidays.xml routes.xml; do need "etc/tsunagu/$f"; done
unit="lib/systemd/system/tsunagud.service"
need "$unit"
need usr/share/doc/tsunagu/README.md
[ ! -e "$root/usr/include" ] || fail "headers belong in tsunagu-dev, not tsunagu"
[ ! -e "$root/var/lib/tsunagu" ] || fail "the data directory is made by postinst, not shipped"

# The unit and its hardening
for line in "User=tsunagu" "NoNewPrivileges=yes" "ProtectSystem=strict" "ProtectHome=yes" \
            "PrivateTmp=yes" "ReadWritePaths=/var/lib/tsunagu" "Restart=on-failure" \
            'ExecReload=/bin/kill -HUP $MAINPID' \
            "ExecStart=/usr/sbin/tsunagud --config /etc/tsunagu/tsunagu.xml"; do
  grep -qxF "$line" "$root/$unit" || fail "$unit lacks '$line'"
done

# Control: maintainer scripts, conffiles, dependencies from shlibdeps
for s in postinst prerm postrm; do
  [ -x "$tmp/control/$s" ] || fail "no executable $s"
done
grep -q "adduser --system" "$tmp/control/postinst" || fail "postinst does not create the tsunagu user"
grep -q "/var/lib/tsunagu" "$tmp/control/postinst" || fail "postinst does not make /var/lib/tsunagu"
for f in tsunagu.xml policies.xml roster.xml holidays.xml routes.xml; do
  grep -qxF "/etc/tsunagu/$f" "$tmp/control/conffiles" || fail "/etc/tsunagu/$f is not a conffile"
done
depends="$(dpkg-deb -f "$deb" Depends)"
for lib in libpoco adduser libssl3 libxml2 libicu; do
  grep -q "$lib" <<<"$depends" || fail "Depends lacks $lib: $depends"
done

# The packaged config names the packaged directories
grep -q "<directory>/usr/lib/tsunagu/plugins</directory>" "$root/etc/tsunagu/tsunagu.xml" || fail "plugins dir"
grep -q "<data-dir>/var/lib/tsunagu</data-dir>" "$root/etc/tsunagu/tsunagu.xml" || fail "data-dir"

# The unpacked programs run, and `config check` passes on the packaged configuration with its
# /usr paths moved into the scratch root (so the unpacked plugins and mappings are the ones used).
"$root/usr/bin/tsunagu" --help >"$tmp/help.txt" || fail "tsunagu --help"
grep -q "backup <dir>" "$tmp/help.txt" || fail "tsunagu --help does not list backup"
"$root/usr/sbin/tsunagud" --help >/dev/null || fail "tsunagud --help"
mkdir -p "$tmp/etc"
cp "$root"/etc/tsunagu/*.xml "$tmp/etc/"
sed -i "s#<directory>/usr/#<directory>$root/usr/#" "$tmp/etc/tsunagu.xml"
if ! "$root/usr/bin/tsunagu" --config "$tmp/etc/tsunagu.xml" --data-dir "$tmp/data" config check >"$tmp/check.txt" 2>&1; then
  cat "$tmp/check.txt"
  fail "config check on the packaged configuration"
fi
grep -q "configuration OK" "$tmp/check.txt" || fail "config check did not say OK"
for p in public_assistance health_centre education child_guidance; do
  grep -q "^OK  system $p: adapter $p" "$tmp/check.txt" || fail "the unpacked $p adapter was not loaded"
done

# The SDK package
dpkg-deb -x "$dev" "$tmp/dev"
for f in usr/include/tsunagu/adapter.hpp usr/include/tsunagu/codec/cp932.hpp usr/lib/libtsunagu_codec.a \
         usr/lib/cmake/Tsunagu/TsunaguConfig.cmake usr/lib/cmake/Tsunagu/TsunaguTargets.cmake; do
  [ -e "$tmp/dev/$f" ] || fail "tsunagu-dev has no $f"
done

if [ "$problems" -ne 0 ]; then
  echo "$problems problems" >&2
  exit 1
fi
echo "OK: $(basename "$deb") and $(basename "$dev")"
