# The redaction filter lives in tipline_core.log_redaction, which imports
# neither trytond nor this module, so that a logging configuration can load
# it before trytond reads its own configuration (trytond --logconf applies
# the logging file first; importing this package at that point would fix
# the database backend to the SQLite default). Importing this module keeps
# the old names and installs the filter on trytond's loggers.
from tipline_core.log_redaction import (  # noqa: F401
    DISPATCHER_LOGGER, REDACTED, REDACTED_REQUEST, WSGI_LOGGER,
    RedactingFileHandler, RedactingStreamHandler, RedactTiplineCalls,
    _is_tipline, _is_tipline_request, install)
