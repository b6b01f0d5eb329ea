# Tipline: abuse reporting for Tryton. Classes are registered from the
# [register] sections of tryton.cfg.
from . import log_redaction, status  # noqa: F401  (status registers a route)

log_redaction.install()
