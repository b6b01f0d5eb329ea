"""Keep report text and reporters out of the server log.

trytond's dispatcher logs every RPC call as "model.method(arguments) from
login@address": the arguments in full at DEBUG level, shortened otherwise,
and again whenever a call fails; at DEBUG level it also logs each result.
For Tipline's own models and wizards (and the Report button of other
models) those lines would carry report text and receipts, and their login
and time would tie an anonymous report to its author; trytond.wsgi's line
for each request names the caller and address too, and so would a visit to
the status page.  The filter below keeps the call's name and duration and drops the
rest.  Importing trytond.modules.tipline installs it on the dispatcher's
logger; manifests/logging.conf also uses the redacting handlers so that the
shipped configuration is safe on its own.  This module imports nothing from
trytond, so that a logging file can load it before trytond has read its
configuration.
"""
import logging
import logging.handlers
import threading

DISPATCHER_LOGGER = 'trytond.protocols.dispatcher'
WSGI_LOGGER = 'trytond.wsgi'
REDACTED = '(...)'
REDACTED_REQUEST = '<request to Tipline>'


def _is_tipline(model, method=''):
    return str(model).startswith('tipline.') or str(method).startswith(
        'tipline')


def _is_tipline_request(request):
    "An RPC to a Tipline model or wizard, or a Tipline page"
    try:
        method = getattr(request, 'rpc_method', None) or ''
        path = getattr(request, 'path', None) or ''
    except Exception:
        return False
    return '.tipline' in method or path.rstrip('/').endswith(
        ('/tipline/status', '/tipline/help'))


class RedactTiplineCalls(logging.Filter):
    "Blank the arguments, login, address, path and result of Tipline calls"

    _local = threading.local()

    def filter(self, record):
        args = record.args
        if record.name == WSGI_LOGGER and isinstance(args, tuple):
            # "<JSONRequest login@address 'url' [POST] method> in N ms"
            record.args = tuple(
                REDACTED_REQUEST if _is_tipline_request(arg) else arg
                for arg in args)
            return True
        if record.name != DISPATCHER_LOGGER:
            return True
        if isinstance(args, tuple) and len(args) >= 6:
            tipline = _is_tipline(args[0], args[1])
            # The call's result follows its line in the same thread.
            self._local.last_call_was_tipline = tipline
            if tipline:
                record.args = (args[0], args[1], REDACTED, '-', '-', '') + (
                    args[6:])
        elif str(record.msg).startswith('Result:'):
            return not getattr(self._local, 'last_call_was_tipline', False)
        return True


class RedactingStreamHandler(logging.StreamHandler):
    "A StreamHandler with RedactTiplineCalls, for logging.conf files"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.addFilter(RedactTiplineCalls())


class RedactingFileHandler(logging.handlers.WatchedFileHandler):
    "A WatchedFileHandler with RedactTiplineCalls, for logging.conf files"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.addFilter(RedactTiplineCalls())


def install():
    "Install the filter on the loggers that name callers, once"
    for name in (DISPATCHER_LOGGER, WSGI_LOGGER):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTiplineCalls) for f in logger.filters):
            logger.addFilter(RedactTiplineCalls())
