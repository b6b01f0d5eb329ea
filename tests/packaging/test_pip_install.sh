#!/usr/bin/env bash
# The administrators' route: a plain, non-editable `pip install .` into a
# fresh venv builds the native core and installs both tipline_core and the
# Tryton module, which trytond then activates on a new SQLite database.
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
python3 -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install -q --upgrade pip
# Build from a clean copy of the committed tree: no build dirs, no .so.
git archive HEAD | tar -x -C "$WORK" --one-top-level=src
"$WORK/venv/bin/pip" install -q "$WORK/src"
cd "$WORK"
venv/bin/python - <<'PY'
import tipline_core, trytond.modules.tipline as m, os
number = tipline_core.new_tracking_number()
assert tipline_core.parse_tracking_number(number) == number
package = os.path.dirname(m.__file__)
assert os.path.exists(os.path.join(package, 'tryton.cfg'))
# The public pages and the mail are rendered from templates in the package.
for name in ('layout.html', 'status.html', 'conversation.html',
        'mail/invitation.zh_CN.html', 'mail/status.en.txt'):
    assert os.path.isfile(os.path.join(package, 'templates', name)), name
print("installed", tipline_core.__version__, number)
PY
mkdir db && touch db/pkg.sqlite && echo admin-password > pass
# The module refuses to start without its master key.
export TIPLINE_MASTER_KEY=$(venv/bin/python -c 'import tipline_core; print(tipline_core.new_master_key().hex())')
cat > t.conf <<CONF
[database]
uri = sqlite://
path = $WORK/db
CONF
TRYTONPASSFILE=pass venv/bin/trytond-admin -c t.conf -d pkg --all --email a@example.com
venv/bin/trytond-admin -c t.conf -d pkg -u tipline --activate-dependencies
venv/bin/pip install -q "proteus>=8.0,<8.1"
venv/bin/python - <<PY
from proteus import config, Model
config.set_trytond('pkg', config_file='$WORK/t.conf')
Category = Model.get('tipline.category')
assert len(Category.find([])) == 6, Category.find([])
print("tipline activated from the installed package")
PY
# The console scripts the package installs.
for command in tipline-keys tipline-audit tipline-worker; do
  venv/bin/$command --help >/dev/null || { echo "$command does not run" >&2; exit 1; }
done
echo "tipline-keys, tipline-audit and tipline-worker installed"
