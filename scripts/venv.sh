# Sourced by the README's two commands: make (once) and use the project's virtual environment .venv.
# Debian and Ubuntu refuse `pip install` into the system Python (PEP 668, externally-managed-environment),
# so everything goes into .venv; python3-venv is installed from the distribution when venv cannot bootstrap pip.
# Usage: source scripts/venv.sh EXTRAS   (EXTRAS: "" for the package, "test" for the test extras)
wastewatch_venv() {
  local extras="$1" venv="${WASTEWATCH_VENV:-.venv}"
  if [ ! -x "$venv/bin/python" ]; then
    if ! python3 -m venv "$venv" >/dev/null 2>&1; then
      rm -rf "$venv"
      echo "installing python3-venv (needed to create $venv)"
      local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
      $sudo apt-get update -qq
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-venv >/dev/null
      python3 -m venv "$venv"
    fi
  fi
  local spec="."; [ -n "$extras" ] && spec=".[$extras]"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -e "$spec"
  export PATH="$PWD/$venv/bin:$PATH"
}
