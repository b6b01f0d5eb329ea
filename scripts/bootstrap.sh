#!/usr/bin/env bash
# Installs everything Tipline needs on a Debian 12 machine (run as root):
# Debian packages, a project venv with Tryton 8.0 from PyPI, the sao 8.0 web
# client and the browser-test driver from npm, and the development links
# that let Tryton load the module and its native core from this checkout.
# Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

APT_PACKAGES=(
  build-essential cmake pkg-config libssl-dev
  googletest libgtest-dev libgmock-dev pybind11-dev
  clang-14 libclang-rt-14-dev
  libicu-dev libutf8proc-dev libopencc-dev libopencc-data opencc
  python3-venv python3-dev
  postgresql postgresql-client
  chromium fonts-noto-cjk fonts-dejavu-core
  mat2 libimage-exiftool-perl
)
# The machine may bring its own node and npm instead of Debian's.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  APT_PACKAGES+=(nodejs npm)
fi
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" \
    || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# pip on some machines warns about every missing local index folder.
quiet_pip() { "$@" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2); }

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv"
  "$PYTHON" -m venv .venv
  quiet_pip .venv/bin/pip install -q --upgrade pip setuptools wheel
fi
stamp=.venv/.requirements-dev.sha
want=$(sha256sum requirements-dev.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "bootstrap: pip install -r requirements-dev.txt"
  quiet_pip .venv/bin/pip install -q -r requirements-dev.txt
  echo "$want" > "$stamp"
fi

# Development route: Tryton finds the module in its modules folder and
# Python finds tipline_core (with the extension built in place) in python/.
SITE=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
ln -sfn "$ROOT/plugin/tipline" "$SITE/trytond/modules/tipline"
echo "$ROOT/python" > "$SITE/tipline-dev.pth"

# sao, the Tryton web client, from npm, with its third-party libraries.
SAO_DIR=var/sao
if [ ! -f "$SAO_DIR/package/dist/tryton-sao.js" ] \
    || [ ! -d "$SAO_DIR/package/node_modules" ]; then
  echo "bootstrap: npm tryton-sao@~8.0"
  rm -rf "$SAO_DIR" && mkdir -p "$SAO_DIR"
  (cd "$SAO_DIR" && npm pack --silent 'tryton-sao@~8.0' >/dev/null \
    && tar xzf tryton-sao-*.tgz \
    && cd package && npm install --silent --omit=dev --legacy-peer-deps \
       --no-audit --no-fund >/dev/null)
fi

# The browser tests drive Debian's chromium with playwright-core (no browser
# download).
if [ ! -d tests/e2e/node_modules/playwright-core ]; then
  echo "bootstrap: npm install (tests/e2e)"
  (cd tests/e2e && npm install --silent --no-audit --no-fund >/dev/null)
fi
echo "bootstrap: ready"
