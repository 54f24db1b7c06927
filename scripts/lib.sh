# Shared by scripts/demo and scripts/test.

# A shared build folder keeps repeated builds fast; fall back to ./target when it is not usable.
use_target_dir() {
  if [ -z "${CARGO_TARGET_DIR:-}" ]; then
    if mkdir -p /var/cache/civgrid-target 2>/dev/null && [ -w /var/cache/civgrid-target ]; then
      export CARGO_TARGET_DIR=/var/cache/civgrid-target
    else
      export CARGO_TARGET_DIR="$PWD/target"
    fi
  fi
}

# Installs Debian packages that are missing (as root, or through sudo).
apt_install() {
  [ $# -gt 0 ] || return 0
  echo "== installing $*"
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@"
}

# The web apps' dependencies, exactly as locked (reinstalled only when the lock file changed).
web_deps() {
  command -v npm >/dev/null || apt_install nodejs npm
  local stamp=web/node_modules/.civgrid-lock
  if [ ! -f "$stamp" ] || ! cmp -s web/package-lock.json "$stamp"; then
    echo "== npm ci (web/)"
    (cd web && npm ci --no-audit --no-fund)
    cp web/package-lock.json "$stamp"
  fi
}

# Builds the console and the field app into web/*/dist (embedded by release builds).
web_build() {
  web_deps
  echo "== building the web apps"
  (cd web && npm run build)
}
