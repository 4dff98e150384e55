#!/usr/bin/env bash
# Installs what switchyard needs when it is missing: npm packages (npm ci) and, with --system,
# the Debian packages the integration tests run for real (redis-server, nginx with the Lua module,
# prometheus and its promtool, openssl for test certificates, curl as an HTTP/2 client, chromium for
# the console test).
# Uses apt-get as root or through sudo; otherwise stops and names exactly what to install.
set -euo pipefail
cd "$(dirname "$0")/.."

need_system=0
[ "${1:-}" = "--system" ] && need_system=1

if [ $need_system = 1 ]; then
  missing=()
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  command -v redis-sentinel >/dev/null 2>&1 || missing+=(redis-sentinel)
  command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
  ls /usr/lib/nginx/modules/ngx_http_lua_module.so >/dev/null 2>&1 || missing+=(libnginx-mod-http-lua)
  compgen -G "/usr/lib/*/lua/5.1/cjson.so" >/dev/null || missing+=(lua-cjson)
  { command -v prometheus && command -v promtool; } >/dev/null 2>&1 || missing+=(prometheus)
  command -v openssl >/dev/null 2>&1 || missing+=(openssl)
  # curl with HTTP/2 (nghttp2): the TLS/HTTP/2 tests drive the gateway with it.
  { command -v curl && curl --version | grep -qw HTTP2; } >/dev/null 2>&1 || missing+=(curl)
  # The console's browser test drives Debian's chromium through playwright-core (no browser download).
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo"; else
      echo "switchyard tests need these Debian packages: ${missing[*]}" >&2
      echo "install them with: sudo apt-get install -y ${missing[*]}" >&2
      exit 1
    fi
    echo "installing ${missing[*]} ..." >&2
    $sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
    # The Debian packages start services on their default ports (prometheus on :9090, the admin
    # listener's default); the tests start their own. Without systemd, the init script ran them.
    for svc in nginx prometheus; do
      $sudo systemctl disable --now "$svc" >/dev/null 2>&1 || true
      [ -x "/etc/init.d/$svc" ] && { $sudo "/etc/init.d/$svc" stop; $sudo update-rc.d "$svc" disable; } >/dev/null 2>&1 || true
    done
  fi
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "installing npm packages (npm ci) ..." >&2
  # The first install may run on an older system Node: it brings Node 24 (the `node` dev
  # dependency) into node_modules/.bin, so engine mismatches are warnings here, never errors.
  npm ci --no-audit --no-fund --engine-strict=false >&2
fi
