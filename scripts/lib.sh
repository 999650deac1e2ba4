# shellcheck shell=bash
# Shared by scripts/demo.sh and scripts/test.sh: install what is missing, configure, build.
# Sourced, not run.

TSUNAGU_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# Debian 12 packages the build, the tests and the demo need.
TSUNAGU_PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git
  libpoco-dev libboost-dev libboost-filesystem-dev libxml2-dev libxml2-utils libssl-dev openssl
  libicu-dev libpq-dev
  # The PostgreSQL store's tests and `scripts/demo.sh --postgres` run a throwaway server (scripts/pg.sh).
  postgresql-15 postgresql-client-15
  googletest libgtest-dev libgmock-dev libbenchmark-dev
  python3-aiosmtpd  # the real SMTP server of the smtp channel's tests (tests/channels/smtp_peer.py)
  # The browser tests (tests/e2e): Debian's Chromium, driven by playwright-core from npm.
  chromium fonts-ipafont-gothic
  dpkg-dev  # cpack's DEB generator: dpkg-shlibdeps computes the package's dependencies
)

# Node.js and npm for the browser tests, only if there are none: a machine with Node from
# elsewhere (NodeSource) keeps it, and Debian's npm would conflict with it.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  TSUNAGU_PACKAGES+=(nodejs npm)
fi

log() { printf '\033[1m[tsunagu]\033[0m %s\n' "$*" >&2; }

# install_packages [extra packages…]: apt-get installs whatever is not installed yet.
install_packages() {
  local missing=()
  local p
  for p in "${TSUNAGU_PACKAGES[@]}" "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$p")
    fi
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  log "installing Debian packages: ${missing[*]}"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { log "need root (or sudo) to install: ${missing[*]}"; exit 1; }
    sudo=(sudo)
  fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
}

# A throwaway PostgreSQL cluster in <dir> (scripts/pg.sh; under ${TMPDIR:-/tmp}: run as root, the
# server runs as an unprivileged user that must reach <dir>, and the socket path must stay short).
# pg_start <dir>: starts it, prints the conninfo "host=<dir> port=<port> user=tsunagu dbname=postgres".
# pg_stop <dir>: stops it and removes <dir>. pg_createdb <dir> <name>: a UTF8, C-collated database.
pg_start() { "$TSUNAGU_ROOT/scripts/pg.sh" start "$1"; }
pg_stop() { "$TSUNAGU_ROOT/scripts/pg.sh" stop "$1"; }
pg_createdb() { "$TSUNAGU_ROOT/scripts/pg.sh" createdb "$1" "$2"; }

# configure_and_build <build dir> [cmake -D options…]
configure_and_build() {
  local dir="$1"
  shift
  export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
  export CCACHE_MAXSIZE="${CCACHE_MAXSIZE:-5G}"
  # Paths relative to the checkout, so that a clone in another folder (CI's, a worktree) hits the
  # objects an earlier build of the same sources left in the cache.
  export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$TSUNAGU_ROOT}"
  export CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-true}"
  log "configuring $dir"
  cmake -S "$TSUNAGU_ROOT" -B "$dir" -G Ninja -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
    -DCMAKE_C_COMPILER_LAUNCHER=ccache "$@" >/dev/null
  log "building $dir"
  cmake --build "$dir" -j "$(nproc)"
}
