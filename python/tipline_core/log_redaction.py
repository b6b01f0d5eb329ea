"""Keep reporters out of trytond's server log.

A log line that names a login, a user id or an address next to the time of
a call ties whatever happened at that time to that person: the filing of an
anonymous report, an appeal, a survey answer.  Blanking only Tipline's own
calls is not enough, because the client makes host calls around them (for
the Report button sao sends ``party.party.tipline_report``, then
``ir.action.get_action_value``, ``party.party.read`` for the tab title, the
wizard's calls, and ``party.party.read`` again to reload the form), and the
time of any of them is as good as the filing's.  So the handlers below never
write who made a request, for any call, at any level:

- ``trytond.protocols.dispatcher``: "model.method(arguments) from
  login@address/path in N ms" becomes "model.method(...) in N ms"; the
  DEBUG "Result: ..." lines (preferences name the user) are dropped;
- ``trytond.wsgi`` and any other record that formats a request: the
  request shows its class, path, HTTP method and RPC method, without the
  user id and address; Tipline's pages and calls show as
  "<request to Tipline>";
- ``trytond.security`` and ``trytond.res.user``: login, user id and address
  become "-" (login succeeded or failed, session valid, logout, ...);
- ``trytond.backend.*`` at DEBUG: the SQL statements, whose parameters
  carry user ids and session keys, are dropped;
- ``werkzeug`` (the development server's access lines): no address, and no
  path of a Tipline page.

The log still says what ran, when, how long it took and how it failed;
for Tipline's calls and pages the traceback of a failure names the
exception's type but not its message, which may quote what was typed.

This module imports nothing from trytond, so that a logging configuration
can name its handlers before trytond reads its own configuration file
(importing ``trytond.modules`` first would pick the database backend too
early).  ``manifests/logging.conf`` uses ``RedactingStreamHandler``.
"""
import logging
import logging.handlers
import traceback

__all__ = [
    'RedactCallers', 'RedactingStreamHandler', 'RedactingFileHandler',
    'install', 'LOGGERS']

DISPATCHER_LOGGER = 'trytond.protocols.dispatcher'
WSGI_LOGGER = 'trytond.wsgi'
# Loggers whose arguments name a login, a user id or an address.
IDENTITY_LOGGERS = frozenset({'trytond.security', 'trytond.res.user'})
SQL_LOGGERS = ('trytond.backend.',)
ACCESS_LOGGER = 'werkzeug'
# The loggers install() filters at the source (a logger's filter sees only
# the records logged on that very logger, not on its children).
LOGGERS = (DISPATCHER_LOGGER, WSGI_LOGGER, *sorted(IDENTITY_LOGGERS),
    'trytond.backend.sqlite.database', 'trytond.backend.postgresql.database',
    ACCESS_LOGGER)
BLANK = '-'
REDACTED_REQUEST = '<request to Tipline>'
TIPLINE_PATHS = ('/tipline/',)


def _is_request(value):
    "A werkzeug request (duck-typed: this module does not import werkzeug)"
    return (hasattr(value, 'environ') and hasattr(value, 'method')
        and hasattr(value, 'path'))


def _request_text(request):
    "A request without who sent it: class, path, method and RPC method"
    try:
        path = request.path or ''
        rpc_method = getattr(request, 'rpc_method', None) or ''
        if 'tipline' in rpc_method or any(p in path + '/'
                for p in TIPLINE_PATHS):
            return REDACTED_REQUEST
        words = ["'%s'" % path, '[%s]' % request.method, rpc_method]
        return '<%s %s>' % (type(request).__name__,
            ' '.join(w for w in words if w))
    except Exception:
        return '<request>'


def _withhold_exception_message(record):
    """Keep the traceback of a failed Tipline call or page but not the
    exception's message, which may quote what was typed"""
    if not record.exc_info or record.exc_info[0] is None:
        return
    kind, _, trace = record.exc_info
    record.exc_text = ''.join(
        ['Traceback (most recent call last):\n']
        + traceback.format_tb(trace)
        + ['%s: (message withheld)' % kind.__qualname__])
    record.exc_info = None


def _blank_arguments(record):
    "Every argument becomes '-', except the database a message ends with"
    args = record.args if isinstance(record.args, tuple) else ()
    keep_last = str(record.msg).rstrip().endswith("database '%s'")
    record.args = tuple(
        arg if keep_last and i == len(args) - 1 else BLANK
        for i, arg in enumerate(args))


class RedactCallers(logging.Filter):
    "Drop who made a request (login, user id, address) from every line"

    def filter(self, record):
        name = record.name
        if record.levelno <= logging.DEBUG and name.startswith(SQL_LOGGERS):
            return False
        args = record.args
        if name == DISPATCHER_LOGGER:
            message = str(record.msg)
            if message.startswith('Result:'):
                return False
            if ' from %s@%s' in message and isinstance(args, tuple) and (
                    len(args) >= 7):
                # (model, method, arguments, login, address, path, ms)
                record.msg = '%s.%s(...) in %i ms'
                record.args = (args[0], args[1], args[6])
                if 'tipline' in '%s.%s' % (args[0], args[1]):
                    _withhold_exception_message(record)
                return True
        if name in IDENTITY_LOGGERS:
            _blank_arguments(record)
            return True
        if name == ACCESS_LOGGER and isinstance(args, tuple) and args:
            # '%s - - [%s] %s %s %s': address, time, request line, ...
            record.args = (BLANK,) + tuple(
                REDACTED_REQUEST if isinstance(arg, str) and any(
                    p in arg for p in TIPLINE_PATHS) else arg
                for arg in args[1:])
            return True
        if isinstance(args, tuple) and any(_is_request(a) for a in args):
            record.args = tuple(
                _request_text(a) if _is_request(a) else a for a in args)
        elif _is_request(args):
            record.args = (_request_text(args),)
        else:
            return True
        if REDACTED_REQUEST in record.args:
            _withhold_exception_message(record)
        return True


class RedactingStreamHandler(logging.StreamHandler):
    "A StreamHandler with RedactCallers, for logging.conf files"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.addFilter(RedactCallers())


class RedactingFileHandler(logging.handlers.WatchedFileHandler):
    "A WatchedFileHandler with RedactCallers, for logging.conf files"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.addFilter(RedactCallers())


def install():
    """Filter the loggers that name callers at the source, once, so that a
    configuration without the redacting handlers is safe too"""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactCallers) for f in logger.filters):
            logger.addFilter(RedactCallers())
