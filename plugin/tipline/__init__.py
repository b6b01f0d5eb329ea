# Tipline: abuse reporting for Tryton. Classes are registered from the
# [register] sections of tryton.cfg.
from . import log_redaction, sqlite
from . import status  # noqa: F401  (registers the status page route)
from . import survey_page  # noqa: F401  (the anonymous survey's route)
from . import conversation_page  # noqa: F401  (the anonymous conversation)

log_redaction.install()
sqlite.install()
