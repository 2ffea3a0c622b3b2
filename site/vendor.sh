#!/usr/bin/env bash
# Refresh the JavaScript that the site serves itself (see site/VENDOR.md): MathJax
# and Mermaid, fetched from the npm registry with `npm pack` at the pinned versions
# below and copied into site/docs/assets/vendor/. The build and the built site never
# fetch anything; only this script does, and only when a maintainer runs it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

MATHJAX_VERSION=3.2.2    # MathJax 3: tex-chtml-full.js, every TeX extension built in
MERMAID_VERSION=11.17.2  # mkdocs-material 9.x drives the Mermaid 11 API

vendor=docs/assets/vendor
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "mathjax@$MATHJAX_VERSION" "mermaid@$MERMAID_VERSION" >/dev/null)
mkdir -p "$tmp/mathjax" "$tmp/mermaid"
tar -xzf "$tmp/mathjax-$MATHJAX_VERSION.tgz" -C "$tmp/mathjax"
tar -xzf "$tmp/mermaid-$MERMAID_VERSION.tgz" -C "$tmp/mermaid"

rm -rf "$vendor/mathjax" "$vendor/mermaid"
mkdir -p "$vendor/mathjax/output/chtml/fonts" "$vendor/mermaid"
cp "$tmp/mathjax/package/es5/tex-chtml-full.js" "$tmp/mathjax/package/LICENSE" "$vendor/mathjax/"
cp -r "$tmp/mathjax/package/es5/output/chtml/fonts/woff-v2" "$vendor/mathjax/output/chtml/fonts/"
cp "$tmp/mermaid/package/dist/mermaid.min.js" "$tmp/mermaid/package/LICENSE" "$vendor/mermaid/"
echo "$MATHJAX_VERSION" > "$vendor/mathjax/VERSION"
echo "$MERMAID_VERSION" > "$vendor/mermaid/VERSION"
echo "vendored mathjax $MATHJAX_VERSION and mermaid $MERMAID_VERSION into site/$vendor"
