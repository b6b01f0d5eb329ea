"""Keep reporters out of the server log: the filter and handlers live in
``tipline_core.log_redaction``, which imports nothing from trytond so that a
logging configuration (``manifests/logging.conf``) can load them before
trytond reads its own configuration.  They are re-exported here for
configurations that name ``trytond.modules.tipline.log_redaction``, and the
module's ``__init__`` calls ``install()``."""
from tipline_core.log_redaction import (  # noqa: F401
    LOGGERS, RedactCallers, RedactingFileHandler, RedactingStreamHandler,
    install)

# The former name of the filter.
RedactTiplineCalls = RedactCallers
