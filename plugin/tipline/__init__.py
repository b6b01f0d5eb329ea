# Tipline: abuse reporting for Tryton. Classes are registered from the
# [register] sections of tryton.cfg.
#
# trytond chooses its database backend from its configuration when
# trytond.backend is first imported, and imports a module only after that
# (Pool.start imports trytond.ir first). tipline-keys and tipline-audit
# import this package before they read -c, so importing it must not import
# the backend: what needs it waits in install(), which they call once
# configured.
import sys

from . import log_redaction


def install():
    "The public pages' routes and the SQLite hooks, once the backend is set"
    from . import routes, sqlite  # noqa: F401  (routes registers the pages)
    sqlite.install()


log_redaction.install()
if 'trytond.backend' in sys.modules:
    install()
