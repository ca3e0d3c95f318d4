# Shared by scripts/run, scripts/test and scripts/bench. Every step checks
# first and skips what is already there, so running again is cheap.

set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export PATH="$HOME/.cargo/bin:$PATH"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

apt_updated=
# apt_need PACKAGE COMMAND-OR-FILE…: installs PACKAGE when any is missing.
apt_need() {
  local pkg=$1 missing=; shift
  for what in "$@"; do
    if [[ $what == /* ]]; then [[ -e $what ]] || missing=1; else command -v "$what" >/dev/null || missing=1; fi
  done
  [[ -z $missing ]] && return 0
  if [[ -z $apt_updated ]]; then say "apt-get update"; apt-get update -qq; apt_updated=1; fi
  say "installing $pkg"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null
}

# The wasm-bindgen the console pins; Trunk must find exactly this one on PATH.
wasm_bindgen_version() {
  sed -n 's/^wasm-bindgen = "=\([0-9.]*\)"/\1/p' frontend/Cargo.toml
}

ensure_console_tools() {
  rustup target list --installed | grep -qx wasm32-unknown-unknown \
    || { say "adding the wasm32 target"; rustup target add wasm32-unknown-unknown; }
  # The release console rebuilds the standard library (see build_console).
  rustup component list --installed | grep -q '^rust-src' \
    || { say "adding rust-src"; rustup component add rust-src; }
  if [[ "$(trunk --version 2>/dev/null)" != "trunk 0.21.14" ]]; then
    say "installing trunk 0.21.14 (about 10 minutes on 2 cores)"
    cargo install trunk --version 0.21.14 --locked
  fi
  local wbg; wbg=$(wasm_bindgen_version)
  if [[ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $wbg" ]]; then
    say "installing wasm-bindgen-cli $wbg (about 4 minutes)"
    # --locked fails here: one of its locked dependencies is not served.
    cargo install wasm-bindgen-cli --version "$wbg" --force
  fi
  # Splits the wasm per page group (scripts/split-wasm, Trunk's post_build
  # hook). Pinned there: it must read what the wasm_split macros leptos
  # locks emit. It has no --version; cargo's list of installs says.
  local split; split=$(sed -n 's/^WASM_SPLIT_VERSION=\([0-9.]*\).*/\1/p' scripts/split-wasm)
  if ! command -v wasm-split-cli >/dev/null \
    || ! cargo install --list | grep -qx "wasm_split_cli_support v$split:"; then
    say "installing wasm-split-cli $split (about 4 minutes on 2 cores)"
    cargo install wasm_split_cli_support --version "$split" --features build-binary --locked --force
  fi
  if ! wasm-opt --version 2>/dev/null | grep -q 'version 1[2-9][0-9]'; then
    apt_need npm npm
    say "installing wasm-opt (npm binaryen; Debian's is too old)"
    npm install -g binaryen >/dev/null
  fi
}

# The browser libraries the console loads as they are (xterm.js), pinned by
# frontend/package-lock.json; installed again only when the lock changes.
ensure_console_vendor() {
  local lock=frontend/package-lock.json stamp=frontend/node_modules/.package-lock.json
  if [[ ! -f $stamp || $lock -nt $stamp ]]; then
    apt_need npm npm
    say "installing the console's npm packages (xterm.js)"
    (cd frontend && npm ci --no-audit --no-fund >/dev/null)
  fi
}

build_console() {
  ensure_console_tools
  ensure_console_vendor
  say "building the console (trunk, release; split per page group and wasm-opt: scripts/split-wasm)"
  # Smaller: the standard library rebuilt with the console's settings, a
  # panic aborting at once (no formatting of its message; index.html says
  # the console stopped) and no source locations kept for panics. Together
  # about 8% off the first download. Unstable flags of the pinned stable
  # toolchain, hence RUSTC_BOOTSTRAP; only this build uses them (cargo adds
  # them to .cargo/config.toml's).
  RUSTC_BOOTSTRAP=1 CARGO_UNSTABLE_BUILD_STD=std,panic_abort \
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none" \
    trunk build --release --offline
  # Compressed once here rather than on every load (the relay sends the
  # .br or the .gz, whichever the browser takes, brotli first). The .bin
  # are scripts/split-wasm's packs of wasm modules.
  apt_need brotli brotli
  find dist -type f \( -name '*.wasm' -o -name '*.js' -o -name '*.css' -o -name '*.bin' \
    -o -name '*.webmanifest' -o -name '*.svg' \) \
    -exec gzip -9 -k -f {} \; -exec brotli -q 11 -k -f {} \;
}

# A static (musl) release relay with the console built in, for images FROM
# scratch: target/x86_64-unknown-linux-musl/release/berth.
STATIC_TARGET=x86_64-unknown-linux-musl
build_static_relay() {
  rustup target list --installed | grep -qx "$STATIC_TARGET" \
    || { say "adding the $STATIC_TARGET target"; rustup target add "$STATIC_TARGET"; }
  apt_need musl-tools musl-gcc
  say "building the static relay (release, musl, console built in)"
  CC_x86_64_unknown_linux_musl=musl-gcc cargo build --release --locked -p berth --target "$STATIC_TARGET"
}

ensure_engine_tools() {
  apt_need docker.io dockerd docker
  apt_need busybox-static /bin/busybox
  apt_need socat socat
  apt_need curl curl
  apt_need docker-compose docker-compose
}

# Starts a private dockerd (own socket, data root, no bridge of its own, no
# iptables) and exports BERTH_TEST_DOCKER_HOST. stop_private_engine ends it.
start_private_engine() {
  ENGINE_DIR=$(mktemp -d /tmp/berth-engine.XXXXXX)
  say "starting a private dockerd in $ENGINE_DIR"
  dockerd --data-root "$ENGINE_DIR/data" --exec-root "$ENGINE_DIR/exec" \
    --pidfile "$ENGINE_DIR/dockerd.pid" -H "unix://$ENGINE_DIR/docker.sock" \
    --storage-driver vfs --bridge none --iptables=false \
    >"$ENGINE_DIR/dockerd.log" 2>&1 &
  local i
  for i in $(seq 1 120); do
    if docker -H "unix://$ENGINE_DIR/docker.sock" version >/dev/null 2>&1; then
      export BERTH_TEST_DOCKER_HOST="unix://$ENGINE_DIR/docker.sock"
      return 0
    fi
    sleep 0.5
  done
  tail -20 "$ENGINE_DIR/dockerd.log" >&2
  echo "the private dockerd did not start" >&2
  return 1
}

stop_private_engine() {
  [[ -n ${ENGINE_DIR:-} && -d $ENGINE_DIR ]] || return 0
  local pid; pid=$(cat "$ENGINE_DIR/dockerd.pid" 2>/dev/null || true)
  if [[ -n $pid ]]; then
    # Containers the tests left behind go with the engine.
    docker -H "unix://$ENGINE_DIR/docker.sock" ps -aq 2>/dev/null \
      | xargs -r docker -H "unix://$ENGINE_DIR/docker.sock" rm -f >/dev/null 2>&1 || true
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  pkill -f "containerd.*$ENGINE_DIR" 2>/dev/null || true
  # dockerd can leave mounts behind (the host network namespace it binds
  # for host-network containers and builds): unmount them, deepest first.
  awk -v d="$ENGINE_DIR" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r \
    | xargs -r umount -l 2>/dev/null || true
  rm -rf "$ENGINE_DIR" || echo "could not remove all of $ENGINE_DIR" >&2
}
