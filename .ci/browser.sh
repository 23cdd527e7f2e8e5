#!/usr/bin/env bash
# Install the headless browser the web tests drive: Debian's chromium (Playwright for Python is
# pointed at it with executable_path; a browser that Playwright would download cannot be fetched here).
# Usage: bash .ci/browser.sh    (as root on Debian; does nothing when chromium is present)
set -euo pipefail

if command -v chromium >/dev/null && [ -e /usr/lib/chromium/locales/zh-CN.pak ]; then
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "the browser tests need: apt install chromium chromium-l10n fonts-wqy-zenhei" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# chromium-l10n: the browser's own controls (the file button, the date field) in Chinese, as users see them
apt-get install -y -qq --no-install-recommends chromium chromium-l10n fonts-wqy-zenhei >/dev/null
