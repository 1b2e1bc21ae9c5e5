# Sourced by run.sh and test.sh: create .venv and install the package (with the given extras)
# only when the dependency files changed since the last install, so a second start is quick.
ensure_venv() {
    local extras="$1" stamp=".venv/.installed${1:+-$1}" want
    want=$(cat setup.cfg pyproject.toml | sha256sum | cut -c1-16)
    if [[ -x .venv/bin/python && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
        return 0
    fi
    python3 -m venv .venv
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e ".${extras:+[$extras]}"
    echo "$want" > "$stamp"
}

# The design system's CSS the app serves and axe-core for the browser tests, exactly as locked
# in package-lock.json; again only when the lock file changed.
ensure_node_modules() {
    local want
    want=$(sha256sum package-lock.json | cut -c1-16)
    if [[ -f node_modules/.installed && "$(cat node_modules/.installed)" == "$want" ]]; then
        return 0
    fi
    npm ci --no-audit --no-fund
    echo "$want" > node_modules/.installed
}
