#!/usr/bin/env bash
# GIL Lab browser tests (and, with --bench, the browser benchmark).
#
#   tests/e2e/run.sh            build, serve with `gil-lab serve`, run e2e.mjs, lesson.mjs, view.mjs, backends.mjs, phone.mjs and subpath.mjs
#                               in Chromium, then e2e.mjs and lesson.mjs in Firefox ESR
#   tests/e2e/run.sh --bench    the same, then bench.mjs, bench-simulate.mjs, slow-link.mjs and long-tasks.mjs instead of the tests
#   tests/e2e/run.sh --slow-link only slow-link.mjs (first load and first Run on an emulated slow link)
#   tests/e2e/run.sh --long-tasks only long-tasks.mjs (the main thread's long tasks during load and runs)
#   tests/e2e/run.sh --no-build reuse dist/ and the native binary as they are
#
# Installs what it needs when missing: npm dependencies (npm ci, from package-lock.json),
# Debian's chromium and firefox-esr (apt). It never downloads a browser build of its own.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
mode=test
build=1
filter=""
for a in "$@"; do
  case "$a" in
    --bench) mode=bench ;;
    --slow-link) mode=slow-link ;;
    --long-tasks) mode=long-tasks ;;
    --no-build) build=0 ;;
    --*) echo "usage: $0 [--bench|--slow-link|--long-tasks] [--no-build] [TEST-NAME-REGEX]" >&2; exit 2 ;;
    *) filter="$a" ;;
  esac
done

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "e2e: installing node and npm (apt)"; apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
fi
chromium_bin="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium_bin" ]; then
  echo "e2e: installing Debian's chromium (apt)"; apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi
firefox_bin="${FIREFOX:-/usr/bin/firefox-esr}"
if [ "$mode" = test ] && [ ! -x "$firefox_bin" ]; then
  echo "e2e: installing Debian's firefox-esr (apt)"; apt-get update -qq && apt-get install -y -qq firefox-esr >/dev/null
fi
if [ ! -d "$here/node_modules/playwright-core" ] || [ ! -d "$here/node_modules/axe-core" ] || [ ! -d "$here/node_modules/puppeteer-core" ]; then
  echo "e2e: npm ci"; (cd "$here" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund)
fi

cd "$root"
if [ "$build" = 1 ]; then
  cargo xtask build
  # `cargo xtask test` passes the debug binary its tests already built; building a release
  # one as well would add minutes to a cold CI run.
  [ -n "${GIL_LAB_BIN:-}" ] || cargo build --release -p gil-lab-native
fi
bin="${GIL_LAB_BIN:-$root/target/release/gil-lab}"
[ -x "$bin" ] || bin="$root/target/debug/gil-lab"
[ -x "$bin" ] || { echo "e2e: no gil-lab binary (cargo build --release -p gil-lab-native)"; exit 1; }
[ -f "$root/dist/index.html" ] || { echo "e2e: no dist/ (cargo xtask build)"; exit 1; }

port="${E2E_PORT:-$(( 20000 + RANDOM % 20000 ))}"
"$bin" serve --port "$port" --root "$root/dist" >/tmp/gil-lab-e2e-serve.log 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do
  curl -fsS -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null && break
  sleep 0.1
done

export BASE="http://127.0.0.1:$port" DIST="$root/dist" GIL_LAB_BIN="$bin" CHROMIUM="$chromium_bin" FIREFOX="$firefox_bin" SERVER_PID="$server"
cd "$here"
if [ "$mode" = bench ]; then
  node bench.mjs
  node bench-simulate.mjs
  node slow-link.mjs
  node long-tasks.mjs
elif [ "$mode" = slow-link ]; then
  node slow-link.mjs
elif [ "$mode" = long-tasks ]; then
  node long-tasks.mjs
else
  # Both suites run even when the first fails, so one run shows every failure.
  rc=0
  node e2e.mjs ${filter:+"$filter"} || rc=1
  node lesson.mjs ${filter:+"$filter"} || rc=1
  node view.mjs ${filter:+"$filter"} || rc=1
  node backends.mjs ${filter:+"$filter"} || rc=1
  node phone.mjs ${filter:+"$filter"} || rc=1
  node subpath.mjs ${filter:+"$filter"} || rc=1
  # The lab's and the lesson's suites again in Firefox ESR (firefox.mjs), both page kinds.
  BROWSER=firefox node e2e.mjs ${filter:+"$filter"} || rc=1
  BROWSER=firefox node lesson.mjs ${filter:+"$filter"} || rc=1
  exit $rc
fi
