#!/usr/bin/env bash
# Install what the site's browser test needs: Debian's chromium and chromium-driver
# packages, and the Python selenium package into the interpreter given as $1 (default:
# python3). Idempotent: does nothing when everything is already there. Exits 0 when
# the browser is ready, 3 when it cannot be installed here (no apt, not root, no
# package source), with the reason on stderr; tests/site/test_site_browser.py skips
# with that reason.
set -uo pipefail
PYTHON="${1:-python3}"

have_browser() { command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; }

if ! have_browser; then
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "browser-setup: no chromium/chromedriver and no apt-get to install them" >&2
        exit 3
    fi
    SUDO=""
    if [ "$(id -u)" != 0 ]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
            echo "browser-setup: installing chromium needs root (or password-less sudo)" >&2
            exit 3
        fi
    fi
    export DEBIAN_FRONTEND=noninteractive
    # Try with the package lists as they are first; update them only if that fails.
    if ! $SUDO apt-get install -y --no-install-recommends chromium chromium-driver >/tmp/rnnref-browser-setup.log 2>&1; then
        $SUDO apt-get update >>/tmp/rnnref-browser-setup.log 2>&1
        if ! $SUDO apt-get install -y --no-install-recommends chromium chromium-driver >>/tmp/rnnref-browser-setup.log 2>&1; then
            echo "browser-setup: apt-get could not install chromium chromium-driver (see /tmp/rnnref-browser-setup.log)" >&2
            exit 3
        fi
    fi
    have_browser || { echo "browser-setup: chromium installed but not on PATH" >&2; exit 3; }
fi

if ! "$PYTHON" -c "import selenium" >/dev/null 2>&1; then
    if ! "$PYTHON" -m pip install --quiet "selenium>=4.10" >/tmp/rnnref-browser-setup-pip.log 2>&1; then
        echo "browser-setup: pip could not install selenium (see /tmp/rnnref-browser-setup-pip.log)" >&2
        exit 3
    fi
fi
echo "browser-setup: $(chromium --version 2>/dev/null | head -1), selenium $("$PYTHON" -c 'import selenium; print(selenium.__version__)')"
