"""What Tipline's command-line tools (tipline-keys, tipline-audit) share:
the -c/-d options, opening the database they name, one-line errors and the
progress line of long runs.

trytond chooses its backend from the configuration when the backend is
first imported, so nothing here imports trytond.model or the module's models
before open_database has read the configuration."""
import os
import sys
import time

import tipline_core


class CommandError(Exception):
    "A failure the user can act on: printed as one line, no traceback"


def add_database_arguments(parser):
    "The -c CONF and -d DB options of the commands that open a database"
    parser.add_argument(
        '-c', '--config', default=os.environ.get('TRYTOND_CONFIG'),
        metavar='CONF',
        help="the trytond configuration (default: $TRYTOND_CONFIG)")
    parser.add_argument(
        '-d', '--database', required=True, metavar='DB',
        help="the database name")


def keys():
    "The keys module, imported once the configuration is read"
    from trytond.modules.tipline import keys
    return keys


def check_master_key():
    "Fail with the setting's name when no usable master key is configured"
    module = keys()
    try:
        module.check_master_key()
    except module.MasterKeyMissing as exception:
        raise CommandError(str(exception)) from None
    except tipline_core.MasterKeyError as exception:
        raise CommandError(exception.message) from None


def open_database(config_file, database):
    """Read the configuration file and load the pool of database, with
    Tipline activated in it"""
    from trytond import config
    if config_file:
        if not os.path.isfile(config_file):
            raise CommandError(
                "the configuration file %s does not exist" % config_file)
        config.update_etc(config_file)
    # Now that the backend can be chosen: the routes and SQLite's hooks.
    from trytond.modules import tipline
    tipline.install()
    from trytond.pool import Pool
    if database not in Pool.database_list():
        check_master_key()
        Pool.start()
        try:
            Pool(database).init()
        except keys().MasterKeyMissing as exception:
            raise CommandError(str(exception)) from None
        except tipline_core.MasterKeyError as exception:
            raise CommandError(exception.message) from None
        except Exception as exception:
            raise CommandError(
                "cannot open the database %s: %s" % (database, exception)
                ) from None
    pool = Pool(database)
    try:
        pool.get('tipline.keyset')
    except KeyError:
        raise CommandError(
            "Tipline is not activated in the database %s; run trytond-admin "
            "-c CONF -d %s -u tipline" % (database, database)) from None
    return pool


def run(prog, function, args, out, error_status, interrupted_status=130):
    """function(args, out) with CommandError printed as one line on stderr
    and an interruption as such; returns the exit status"""
    try:
        return function(args, out)
    except CommandError as exception:
        sys.stderr.write("%s: error: %s\n" % (prog, exception))
        return error_status
    except KeyboardInterrupt:
        sys.stderr.write("%s: interrupted\n" % prog)
        return interrupted_status


class Progress:
    """A text progress bar on a terminal; silent elsewhere but for the final
    line, so that logs of cron jobs stay readable."""

    width = 30

    def __init__(self, total, stream=None, label="re-encrypting"):
        self.total = max(total, 0)
        self.stream = stream if stream is not None else sys.stderr
        self.label = label
        self.done = 0
        self.started = time.monotonic()
        self._drawn = 0.0
        self.interactive = bool(
            getattr(self.stream, 'isatty', None) and self.stream.isatty())

    def rate(self):
        elapsed = time.monotonic() - self.started
        return self.done / elapsed if elapsed > 0 else 0.0

    def line(self):
        total = max(self.total, self.done)
        fraction = self.done / total if total else 1.0
        filled = int(round(fraction * self.width))
        return "%s [%s%s] %d/%d %3d%% %.0f/s" % (
            self.label, '#' * filled, '-' * (self.width - filled),
            self.done, total, fraction * 100, self.rate())

    def update(self, count):
        self.done += count
        now = time.monotonic()
        if self.interactive and now - self._drawn >= 0.1:
            self._drawn = now
            self.stream.write('\r' + self.line())
            self.stream.flush()

    def finish(self, message=None):
        if self.interactive:
            self.stream.write('\r' + self.line() + '\n')
        elapsed = time.monotonic() - self.started
        self.stream.write("%s %d values in %.1f s (%.0f/s)\n" % (
                message or "re-encrypted", self.done, elapsed, self.rate()))
        self.stream.flush()
