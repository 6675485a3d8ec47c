# Sourced by scripts/serve, scripts/test and scripts/bench: make .venv ready to run.
# Creates the virtualenv when missing, reinstalls when pyproject.toml changed,
# and compiles the translation catalogs.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
VENV="$ROOT/.venv"
EXTRA="${CRM_INSTALL_EXTRA:-dev}"

if [ ! -x "$VENV/bin/python" ]; then
  echo "==> creating $VENV"
  "$PYTHON" -m venv "$VENV"
fi

stamp="$VENV/.installed-$EXTRA"
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  # pip's progress and its build backend's warnings go to a log: one line on screen,
  # the end of the log only when the install fails.
  install_log="$VENV/install.log"
  echo "==> installing the project (.[$EXTRA]) into .venv (log: ${install_log#"$ROOT"/})"
  if ! { "$VENV/bin/python" -m pip install --upgrade pip &&
         "$VENV/bin/python" -m pip install -e ".[$EXTRA]"; } >"$install_log" 2>&1; then
    tail -n 30 "$install_log" >&2
    echo "!! the install failed; the whole log is $install_log" >&2
    exit 1
  fi
  echo "$want" > "$stamp"
fi

# Compile .po -> .mo when a catalog is newer than its compiled file.
for po in crm/translations/*/LC_MESSAGES/messages.po; do
  [ -f "$po" ] || continue
  mo="${po%.po}.mo"
  if [ ! -f "$mo" ] || [ "$po" -nt "$mo" ]; then
    # A broken catalog must not stop the app: English shows where it has gaps, and
    # tests/test_i18n.py fails the suite on it.
    "$VENV/bin/pybabel" -q compile -i "$po" -o "$mo" || echo "!! could not compile $po" >&2
  fi
done

export PATH="$VENV/bin:$PATH"
export FLASK_APP=wsgi
