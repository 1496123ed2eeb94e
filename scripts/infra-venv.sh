# Shell helper for scripts/check-infra.sh and scripts/package.sh: the Python tools of the
# deployment (SAM CLI, cfn-lint, checkov, cargo-lambda) in venvs under .venv-infra/,
# one per requirements file, because checkov's pinned boto3 conflicts with SAM CLI's.
# Source it after scripts/lib.sh; it defines functions only.

# infra_venv NAME REQUIREMENTS: makes .venv-infra/NAME and installs REQUIREMENTS into
# it, again only when that file changed since the last install (its hash is kept in the
# venv), so a second run costs nothing.
infra_venv() {
  local dir=".venv-infra/$1" reqs="$2" want
  if [ ! -x "$dir/bin/pip" ]; then
    rm -rf "$dir"
    python3 -m venv "$dir" 2>/dev/null || { rm -rf "$dir"; apt_install python3-venv; python3 -m venv "$dir"; }
  fi
  want=$(sha256sum "$reqs" | cut -d' ' -f1)
  if [ "$(cat "$dir/.requirements" 2>/dev/null)" != "$want" ]; then
    echo "installing $reqs into $dir"
    "$dir/bin/python" -m pip install -q --disable-pip-version-check -r "$reqs"
    echo "$want" > "$dir/.requirements"
  fi
}
