# Tipline: abuse reporting for Tryton. Classes are registered from the
# [register] sections of tryton.cfg.
from . import log_redaction, sqlite
from . import routes  # noqa: F401  (registers the public pages' routes)

log_redaction.install()
sqlite.install()
