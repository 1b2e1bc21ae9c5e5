#!/usr/bin/env bash
# Move the front-end packages (NL Design System component CSS, axe-core) to their newest
# versions, rewrite package-lock.json, and show what changed. Run the browser tests
# (tests/browser/test_accessibility.py) before committing: the token set in
# spacematch/static/spacematch/themes/ names the components' custom properties.
set -euo pipefail
cd "$(dirname "$0")/.."
npm install --no-audit --no-fund --save-exact @utrecht/component-library-css@latest
npm install --no-audit --no-fund --save-exact --save-dev axe-core@latest
npm ls --depth=0
git diff --stat -- package.json package-lock.json
