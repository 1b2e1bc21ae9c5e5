#!/usr/bin/env bash
# Translations: extract the Dutch msgids from the code and templates (babel.cfg), merge them into
# the English catalogue, and compile it.
#
#   scripts/i18n.sh            extract + update + compile
#   scripts/i18n.sh compile    compile only (after editing the .po by hand)
#
# Workflow: run it, fill in every new or fuzzy entry in
# spacematch/translations/en/LC_MESSAGES/messages.po, run `scripts/i18n.sh compile`.
# Commit BOTH the .po and the compiled .mo: the app (and a non-editable install, via setup.cfg's
# package data) reads the .mo, and nothing compiles it at install or start-up. The .pot is an
# intermediate (git-ignored). tests/test_i18n.py fails on an untranslated or fuzzy entry, on a
# .mo that is older than its .po, and on a msgid in the sources that the .po lacks.
set -euo pipefail
cd "$(dirname "$0")/.."
PYBABEL=${PYBABEL:-.venv/bin/pybabel}
DIR=spacematch/translations
POT=$DIR/messages.pot
PO=$DIR/en/LC_MESSAGES/messages.po
mkdir -p "$DIR"

if [[ "${1:-}" != "compile" ]]; then
    "$PYBABEL" -q extract -F babel.cfg -k _l -k lazy_gettext --add-location=file --sort-output \
        --no-wrap --project=spacematch -o "$POT" .
    if [[ -f "$PO" ]]; then
        "$PYBABEL" update -i "$POT" -d "$DIR" -l en --ignore-obsolete --no-wrap
    else
        "$PYBABEL" init -i "$POT" -d "$DIR" -l en --no-wrap
    fi
fi
"$PYBABEL" compile -d "$DIR" -l en --statistics
