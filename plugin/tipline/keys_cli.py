"""tipline-keys: manage Tipline's master key and data keys.

    tipline-keys create FILE
    tipline-keys status    -c CONF -d DB
    tipline-keys rotate    -c CONF -d DB
    tipline-keys reencrypt -c CONF -d DB [--batch-size N] [--max-batches N]
    tipline-keys disable ID -c CONF -d DB
    tipline-keys enable ID  -c CONF -d DB
    tipline-keys destroy ID -c CONF -d DB [--yes]

The master key comes from ``[tipline] key_file`` of the configuration or from
TIPLINE_MASTER_KEY, exactly as for the server.  Nothing here prints key bytes
or the plaintext of a stored value.
"""
import argparse
import collections
import contextlib
import os
import sys
import time

import tipline_core

EXIT_OK, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 130
MALFORMED = 'malformed'  # usage key of values that are not a ciphertext

class CommandError(Exception):
    "A failure the user can act on: printed as one line, no traceback"


def key_id_of(prefix):
    "The key id that a stored value's prefix names, or MALFORMED"
    key_id = tipline_core.ciphertext_key_id(
        bytes(prefix) if prefix is not None else b'')
    return MALFORMED if key_id is None else key_id


# --- Opening the database ----------------------------------------------------

def open_database(config_file, database):
    """Configure trytond and load the pool of database.

    trytond's backend is chosen from the configuration when it is first
    imported, so nothing that imports it may run before update_etc."""
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
        keys = _keys()
        check_master_key(keys)
        Pool.start()
        try:
            Pool(database).init()
        except keys.MasterKeyMissing as exception:
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


def _keys():
    # Imported late: it imports trytond.model, hence the backend.
    from trytond.modules.tipline import keys
    return keys


def check_master_key(keys):
    try:
        keys.check_master_key()
    except keys.MasterKeyMissing as exception:
        raise CommandError(str(exception)) from None
    except tipline_core.MasterKeyError as exception:
        raise CommandError(exception.message) from None


def master_key_source(keys):
    "Where the master key comes from, for messages (never its value)"
    from trytond import config
    path = config.get(
        keys.KEY_FILE_SECTION, keys.KEY_FILE_OPTION, default=None)
    if path:
        return "key file %s" % path
    return "environment variable %s" % keys.KEY_ENV


def load_keyset(database):
    "The stored keyset, in the current transaction"
    from trytond.pool import Pool
    keys = _keys()
    check_master_key(keys)
    Keyset = Pool().get('tipline.keyset')
    try:
        return Keyset.keyset()
    except keys.MasterKeyMissing as exception:
        raise CommandError(str(exception)) from None
    except tipline_core.DecryptionError:
        raise CommandError(
            "this master key (%s) does not open the keyset stored in %s: "
            "use the key file the database was created with" % (
                master_key_source(keys), database)) from None


def store_keyset(keyset):
    from trytond.pool import Pool
    Pool().get('tipline.keyset').store(keyset)


@contextlib.contextmanager
def keyset_transaction(database):
    """A transaction that changes the keyset, holding its table's lock on
    PostgreSQL (readers go on) so two commands cannot both change it"""
    from trytond import backend
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    table = Pool(database).get('tipline.keyset')._table
    try:
        transaction = Transaction().start(
            database, 0, _lock_tables=[table])
    except backend.DatabaseOperationalError:
        raise CommandError(
            "another command is changing the keys of %s; try again"
            % database) from None
    with transaction:
        yield transaction


def cache_clean_timeout():
    from trytond import config
    return config.getint('cache', 'clean_timeout', default=0) or 0


def servers_may_still_use_old_keys(database):
    """Seconds to wait until every trytond process has reloaded the keyset
    last stored: a process rereads it when Tryton's cache is invalidated,
    which happens within [cache] clean_timeout (at once when that is 0)."""
    import datetime as dt
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    delay = cache_clean_timeout()
    if not delay:
        return 0
    Keyset = Pool().get('tipline.keyset')
    table = Keyset.__table__()
    cursor = Transaction().connection.cursor()
    cursor.execute(*table.select(
            table.write_date, order_by=table.id.asc, limit=1))
    row = cursor.fetchone()
    changed = row and row[0]
    if not changed:  # never changed since the module created it
        return 0
    if isinstance(changed, str):  # SQLite without type detection
        changed = dt.datetime.fromisoformat(changed)
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    age = (now - changed).total_seconds()
    return max(0, int(delay - age + 1))


def check_key_exists(keyset, key_id):
    if key_id not in keyset.key_ids:
        raise CommandError(
            "there is no key %d; the keys are %s" % (
                key_id, ', '.join(map(str, keyset.key_ids))))


# --- Stored values -----------------------------------------------------------

def encrypted_columns():
    """The encrypted columns that exist in the database of the current
    transaction (every field declared Encrypted), and the (model, field) of
    those whose table is not there yet"""
    from trytond import backend
    from trytond.modules.tipline.encrypted import encrypted_columns
    columns, skipped = [], []
    for encrypted in encrypted_columns():
        if backend.TableHandler.table_exist(encrypted.table):
            columns.append(encrypted)
        else:
            skipped.append((encrypted.model, encrypted.field))
    return columns, skipped


def key_usage(columns):
    """{column: Counter(key id or MALFORMED: number of values)}

    The database groups by the first 5 bytes, so only those leave it."""
    from sql import Column, Null, Table
    from sql.aggregate import Count
    from sql.functions import Substring
    from trytond.transaction import Transaction
    cursor = Transaction().connection.cursor()
    usage = {}
    for encrypted in columns:
        table = Table(encrypted.table)
        value = Column(table, encrypted.column)
        prefixes = table.select(
            Substring(value, 1, tipline_core.CIPHERTEXT_PREFIX_SIZE).as_(
                'prefix'), where=value != Null)
        cursor.execute(*prefixes.select(
                prefixes.prefix, Count(prefixes.prefix),
                group_by=[prefixes.prefix]))
        counter = collections.Counter()
        for prefix, count in cursor:
            counter[key_id_of(prefix)] += count
        usage[encrypted] = counter
    return usage


def total_usage(usage):
    total = collections.Counter()
    for counter in usage.values():
        total.update(counter)
    return total


def pending_count(usage, primary_id):
    "How many stored values are not under the primary key"
    return sum(
        count for key_id, count in total_usage(usage).items()
        if key_id != primary_id)


# --- Progress ----------------------------------------------------------------

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


# --- Re-encryption -----------------------------------------------------------

class ReencryptResult:
    def __init__(self):
        self.reencrypted = 0
        self.failed = []  # (model, field, id): never the value
        self.batches = 0
        self.complete = False


def reencrypt(database, columns, batch_size=100, max_batches=None,
        progress=None):
    """Re-encrypt every value of columns that is not under the primary key.

    Each batch is its own transaction and commits, so no long transaction
    holds locks and a crash loses at most one batch.  A run that stopped
    resumes by itself: it selects what is still under an old key.  Within a
    run the ids only go up, so a value that does not decrypt is reported
    once and skipped."""
    result = ReencryptResult()
    for encrypted in columns:
        last_id = 0
        while True:
            if max_batches is not None and result.batches >= max_batches:
                return result
            count, last_id, done, failed = _retrying(
                reencrypt_batch, database, encrypted, last_id, batch_size)
            if not count:
                break
            result.batches += 1
            result.reencrypted += done
            result.failed.extend(failed)
            if progress:
                progress.update(count)
    result.complete = True
    return result


def _retrying(function, *args, attempts=5):
    """function(*args), again when a concurrent write made the database
    abort its transaction (a serialization failure on PostgreSQL)"""
    from trytond import backend
    for attempt in range(attempts):
        try:
            return function(*args)
        except backend.DatabaseOperationalError:
            if attempt == attempts - 1:
                raise CommandError(
                    "the re-encryption kept conflicting with other writes; "
                    "run it again") from None
            time.sleep(0.1 * (attempt + 1))


def reencrypt_batch(database, encrypted, last_id, batch_size):
    """Re-encrypt the next batch_size values of encrypted after last_id that
    are not under the primary key, in one committed transaction.
    Returns (values read, last id read, values re-encrypted, failures)."""
    from sql import Column, Null, Table
    from sql.functions import Substring
    from trytond.transaction import Transaction
    keys = _keys()
    table = Table(encrypted.table)
    value = Column(table, encrypted.column)
    with Transaction().start(database, 0) as transaction:
        # Reloaded per batch: a rotation during the run is followed, not
        # undone.
        keyset = load_keyset(database)
        cipher = tipline_core.FieldCipher(keyset)
        cursor = transaction.connection.cursor()
        cursor.execute(*table.select(
                table.id, value,
                where=(value != Null)
                & (Substring(value, 1, tipline_core.CIPHERTEXT_PREFIX_SIZE)
                    != tipline_core.ciphertext_prefix(keyset.primary_id))
                & (table.id > last_id),
                order_by=table.id.asc, limit=batch_size))
        rows = cursor.fetchall()
        done, failed = 0, []
        for record_id, ciphertext in rows:
            ciphertext = bytes(ciphertext)
            associated_data = keys.associated_data(
                encrypted.model, encrypted.field, record_id)
            try:
                plaintext = cipher.decrypt(ciphertext, associated_data)
            except tipline_core.DecryptionError:
                failed.append(
                    (encrypted.model, encrypted.field, record_id))
                continue
            # Only if unchanged since read: a value written meanwhile is the
            # server's, under the primary key.
            cursor.execute(*table.update(
                    [value], [cipher.encrypt(plaintext, associated_data)],
                    where=(table.id == record_id) & (value == ciphertext)))
            done += 1
        transaction.commit()
    return len(rows), rows[-1][0] if rows else last_id, done, failed


# --- Commands ----------------------------------------------------------------

def command_create(args, out):
    path = os.path.abspath(args.file)
    try:
        tipline_core.create_master_key_file(path)
    except tipline_core.MasterKeyError as exception:
        raise CommandError(exception.message) from None
    out.write(
        "Created the Tipline master key file %(path)s (mode 0600).\n"
        "\n"
        "Back it up now, to offline storage or a secret manager, and never\n"
        "with the database backups. If this file is lost, every report\n"
        "becomes unreadable: nobody can recover it.\n"
        "\n"
        "Then name it in the trytond configuration:\n"
        "\n"
        "    [tipline]\n"
        "    key_file = %(path)s\n" % {'path': path})
    return EXIT_OK


def command_status(args, out):
    from trytond.transaction import Transaction
    open_database(args.config, args.database)
    keys = _keys()
    with Transaction().start(args.database, 0, readonly=True):
        keyset = load_keyset(args.database)
        columns, skipped = encrypted_columns()
        usage = key_usage(columns)
    total = total_usage(usage)
    primary = keyset.primary_id
    out.write("Database %s, master key from the %s\n\n" % (
            args.database, master_key_source(keys)))
    out.write("%6s  %-8s  %-7s  %s\n" % ('key', 'state', 'primary', 'values'))
    for key_id in keyset.key_ids:
        out.write("%6d  %-8s  %-7s  %d\n" % (
                key_id, keyset.key_status(key_id),
                'primary' if key_id == primary else '', total[key_id]))
    out.write("\nStored values by column:\n")
    for encrypted in columns:
        counter = usage[encrypted]
        detail = ', '.join(
            "key %s: %d" % (key_id, count)
            for key_id, count in sorted(counter.items(), key=str))
        out.write("  %-36s %8d%s\n" % (
                '%s.%s' % (encrypted.model, encrypted.field),
                sum(counter.values()), '  (%s)' % detail if detail else ''))
    for model_name, field in skipped:
        out.write("  %-36s not in this database\n" % (
                '%s.%s' % (model_name, field)))
    unknown = {
        key_id: count for key_id, count in total.items()
        if key_id != MALFORMED and key_id not in keyset.key_ids}
    if unknown:
        out.write(
            "\nUnreadable: values under keys that no longer exist: %s\n"
            % ', '.join(
                "key %d: %d" % item for item in sorted(unknown.items())))
    if total[MALFORMED]:
        out.write("\nUnreadable: %d values are not Tipline ciphertexts\n"
            % total[MALFORMED])
    pending = pending_count(usage, primary)
    if pending:
        out.write(
            "\nRe-encryption pending: %d values are not under the primary "
            "key %d; run tipline-keys reencrypt\n" % (pending, primary))
    else:
        out.write("\nNo re-encryption pending: every value is under the "
            "primary key %d\n" % primary)
    return EXIT_OK


def command_rotate(args, out):
    open_database(args.config, args.database)
    with keyset_transaction(args.database) as transaction:
        keyset = load_keyset(args.database)
        previous = keyset.primary_id
        new_id = keyset.rotate()
        store_keyset(keyset)
        transaction.commit()
    out.write(
        "Key %d is the new primary key: new values are encrypted under it.\n"
        "Key %d still decrypts the values written before. Run\n"
        "tipline-keys reencrypt to move them to key %d, then destroy key %d.\n"
        % (new_id, previous, new_id, previous))
    return EXIT_OK


def command_reencrypt(args, out):
    from trytond.transaction import Transaction
    if args.batch_size < 1:
        raise CommandError("--batch-size must be at least 1")
    open_database(args.config, args.database)
    with Transaction().start(args.database, 0, readonly=True):
        keyset = load_keyset(args.database)
        columns, _ = encrypted_columns()
        pending = pending_count(key_usage(columns), keyset.primary_id)
    progress = Progress(pending, stream=args.progress_stream)
    try:
        result = reencrypt(
            args.database, columns, batch_size=args.batch_size,
            max_batches=args.max_batches, progress=progress)
    except KeyboardInterrupt:
        progress.finish("interrupted after re-encrypting")
        out.write("Interrupted; the batches done are committed. Run the "
            "same command again to resume.\n")
        return EXIT_INTERRUPTED
    progress.finish()
    with Transaction().start(args.database, 0, readonly=True):
        keyset = load_keyset(args.database)
        usage = key_usage(columns)
    primary = keyset.primary_id
    left = pending_count(usage, primary)
    if result.failed:
        out.write("%d values did not decrypt and were left as they are:\n"
            % len(result.failed))
        for model_name, field, record_id in result.failed:
            out.write("  %s.%s id %d\n" % (model_name, field, record_id))
    if not result.complete and left:
        out.write("Stopped after %d batches; %d values are not under the "
            "primary key %d yet. Run the same command again to go on.\n" % (
                result.batches, left, primary))
    elif not left and not result.failed:
        unused = [
            key_id for key_id in keyset.key_ids if key_id != primary]
        out.write("Every stored value is under the primary key %d.\n"
            % primary)
        if unused:
            out.write("No value uses key%s %s any more: tipline-keys "
                "destroy ID removes %s.\n" % (
                    's' if len(unused) > 1 else '',
                    ', '.join(map(str, unused)),
                    'them' if len(unused) > 1 else 'it'))
    elif left > len(result.failed):
        out.write("%d values are still not under the primary key %d (written "
            "meanwhile?); run the command again.\n" % (left, primary))
    return EXIT_ERROR if result.failed else EXIT_OK


def _change_key_state(args, out, action):
    """disable or enable args.key_id; disable refuses a key still in use
    unless --force, as its values would become unreadable"""
    open_database(args.config, args.database)
    with keyset_transaction(args.database) as transaction:
        keyset = load_keyset(args.database)
        check_key_exists(keyset, args.key_id)
        if action == 'disable':
            if args.key_id == keyset.primary_id:
                raise CommandError(
                    "key %d is the primary key and cannot be disabled; "
                    "run tipline-keys rotate first" % args.key_id)
            columns, _ = encrypted_columns()
            in_use = total_usage(key_usage(columns))[args.key_id]
            if in_use and not args.force:
                raise CommandError(
                    "%d stored values still use key %d and would become "
                    "unreadable; run tipline-keys reencrypt first (or "
                    "--force)" % (in_use, args.key_id))
            keyset.disable(args.key_id)
        else:
            keyset.enable(args.key_id)
        store_keyset(keyset)
        transaction.commit()
    out.write("Key %d is %sd.\n" % (args.key_id, action))
    return EXIT_OK


def command_disable(args, out):
    return _change_key_state(args, out, 'disable')


def command_enable(args, out):
    return _change_key_state(args, out, 'enable')


def confirm_destroy(key_id, stdin=None):
    stdin = stdin if stdin is not None else sys.stdin
    if not (hasattr(stdin, 'isatty') and stdin.isatty()):
        raise CommandError(
            "destroying a key cannot be undone: pass --yes to confirm")
    sys.stderr.write(
        "Destroy key %d for good? Values encrypted under it could never be "
        "read again.\nType the key id to confirm: " % key_id)
    sys.stderr.flush()
    answer = stdin.readline().strip()
    if answer != str(key_id):
        raise CommandError("not confirmed; key %d was kept" % key_id)


def command_destroy(args, out):
    open_database(args.config, args.database)
    with keyset_transaction(args.database) as transaction:
        keyset = load_keyset(args.database)
        check_key_exists(keyset, args.key_id)
        if args.key_id == keyset.primary_id:
            raise CommandError(
                "key %d is the primary key and cannot be destroyed; run "
                "tipline-keys rotate and tipline-keys reencrypt first"
                % args.key_id)
        columns, _ = encrypted_columns()
        in_use = total_usage(key_usage(columns))[args.key_id]
        if in_use:
            raise CommandError(
                "%d stored values still use key %d; run tipline-keys "
                "reencrypt first, then destroy it" % (in_use, args.key_id))
        wait = servers_may_still_use_old_keys(args.database)
        if wait:
            # A server that has not reloaded the keyset may still encrypt
            # under an old primary key: destroying it now could lose data.
            raise CommandError(
                "the keys changed less than [cache] clean_timeout ago, so a "
                "running server may still encrypt under key %d; wait %d s, "
                "run tipline-keys status, then destroy it" % (
                    args.key_id, wait))
        if not args.yes:
            confirm_destroy(args.key_id)
        if keyset.key_status(args.key_id) == 'enabled':
            keyset.disable(args.key_id)  # the keyset destroys disabled keys
        keyset.destroy(args.key_id)
        store_keyset(keyset)
        transaction.commit()
    out.write("Key %d is destroyed.\n" % args.key_id)
    return EXIT_OK


# --- Command line ------------------------------------------------------------

def build_parser():
    parser = argparse.ArgumentParser(
        prog='tipline-keys',
        description="Manage Tipline's master key and data keys. Losing the "
        "master key file makes every report unreadable: back it up.")
    commands = parser.add_subparsers(dest='command', metavar='COMMAND')
    commands.required = True

    database = argparse.ArgumentParser(add_help=False)
    database.add_argument(
        '-c', '--config', default=os.environ.get('TRYTOND_CONFIG'),
        metavar='CONF',
        help="the trytond configuration (default: $TRYTOND_CONFIG)")
    database.add_argument(
        '-d', '--database', required=True, metavar='DB',
        help="the database name")

    create = commands.add_parser(
        'create', help="create a new master key file (mode 0600)")
    create.add_argument('file', metavar='FILE')
    create.set_defaults(func=command_create)

    status = commands.add_parser(
        'status', parents=[database],
        help="the keys, how many stored values use each, what is pending")
    status.set_defaults(func=command_status)

    rotate = commands.add_parser(
        'rotate', parents=[database],
        help="add a data key and make it the primary")
    rotate.set_defaults(func=command_rotate)

    reencrypt_parser = commands.add_parser(
        'reencrypt', parents=[database],
        help="re-encrypt every stored value under the primary key "
        "(resumable)")
    reencrypt_parser.add_argument(
        '--batch-size', type=int, default=200, metavar='N',
        help="values per transaction (default: 200)")
    reencrypt_parser.add_argument(
        '--max-batches', type=int, default=None, metavar='N',
        help="stop after N batches; run again to go on")
    reencrypt_parser.set_defaults(func=command_reencrypt)

    for name, function, text in [
            ('disable', command_disable,
                "stop a key from decrypting (reversible)"),
            ('enable', command_enable, "enable a disabled key again"),
            ('destroy', command_destroy,
                "wipe a key no stored value uses (irreversible)"),
            ]:
        sub = commands.add_parser(name, parents=[database], help=text)
        sub.add_argument('key_id', type=int, metavar='ID')
        sub.set_defaults(func=function)
        if name == 'disable':
            sub.add_argument(
                '--force', action='store_true',
                help="disable even while stored values use the key")
        if name == 'destroy':
            sub.add_argument(
                '-y', '--yes', action='store_true',
                help="do not ask for confirmation")
    return parser


def main(argv=None, out=None, progress_stream=None):
    "Run tipline-keys; returns the exit status"
    args = build_parser().parse_args(argv)
    args.progress_stream = progress_stream
    out = out if out is not None else sys.stdout
    try:
        return args.func(args, out)
    except CommandError as exception:
        sys.stderr.write("tipline-keys: error: %s\n" % exception)
        return EXIT_ERROR
    except KeyboardInterrupt:
        sys.stderr.write("tipline-keys: interrupted\n")
        return EXIT_INTERRUPTED


if __name__ == '__main__':
    sys.exit(main())
