"""tipline-keys: manage Tipline's master key and data keys.

    tipline-keys create FILE
    tipline-keys status    -c CONF -d DB
    tipline-keys rotate    -c CONF -d DB
    tipline-keys reencrypt -c CONF -d DB [--batch-size N] [--max-batches N]
    tipline-keys disable ID -c CONF -d DB
    tipline-keys enable ID  -c CONF -d DB
    tipline-keys destroy ID -c CONF -d DB [--yes]
    tipline-keys new-epoch NEW_KEY_FILE -c CONF -d DB
    tipline-keys end-epoch -c CONF -d DB

The master key comes from ``[tipline] key_file`` of the configuration or from
TIPLINE_MASTER_KEY, exactly as for the server.  Nothing here prints key bytes
or the plaintext of a stored value.
"""
import argparse
import contextlib
import os
import sys

import tipline_core

from .cli import (
    CommandError, Progress, add_database_arguments, check_master_key, keys,
    open_database, run)

EXIT_OK, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 130


def master_key_source():
    "Where the master key comes from, for messages (never its value)"
    from trytond import config
    path = config.get(
        keys().KEY_FILE_SECTION, keys().KEY_FILE_OPTION, default=None)
    if path:
        return "key file %s" % path
    return "environment variable %s" % keys().KEY_ENV


def load_keyset(database):
    "The stored keyset, in the current transaction"
    from trytond.pool import Pool
    check_master_key()
    Keyset = Pool().get('tipline.keyset')
    try:
        return Keyset.keyset()
    except keys().MasterKeyMissing as exception:
        raise CommandError(str(exception)) from None
    except tipline_core.DecryptionError:
        raise CommandError(
            "this master key (%s) does not open the keyset stored in %s: "
            "use the key file the database was created with" % (
                master_key_source(), database)) from None


def store_keyset(keyset):
    from trytond.pool import Pool
    try:
        Pool().get('tipline.keyset').store(keyset)
    except keys().EpochChangePending as exception:
        raise CommandError(str(exception)) from None


def epoch_settings():
    """([tipline] master_key_epoch_days, [tipline] backup_retention_days):
    how often the master key should change, how long backups are kept"""
    from trytond import config
    return tuple(config.getint('tipline', name, default=0) or 0
        for name in ('master_key_epoch_days', 'backup_retention_days'))


def write_epoch_status(out, state, now):
    "The master-key epoch lines of tipline-keys status"
    import datetime as dt
    epoch, started, pending, previous_ended = state
    every, backups = epoch_settings()
    out.write("\nMaster key epoch %d%s.\n" % (epoch,
            ", since %s" % started.strftime('%Y-%m-%d') if started else ''))
    if pending:
        out.write("The keyset is also wrapped under the previous master key: "
            "once every server uses the new key file, run tipline-keys "
            "end-epoch.\n")
    elif previous_ended:
        out.write("Backups made before %s hold the keyset under the "
            "previous master key" % previous_ended.strftime('%Y-%m-%d'))
        if backups:
            out.write("; destroy every copy of that key after %s, when the "
                "last of them has expired" % (
                    previous_ended + dt.timedelta(days=backups)).strftime(
                    '%Y-%m-%d'))
        out.write(".\n")
    if every and started and now - started >= dt.timedelta(days=every):
        out.write("A new master-key epoch is due (every %d days): "
            "tipline-keys create NEW_FILE, then tipline-keys new-epoch "
            "NEW_FILE.\n" % every)


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


def keys_in_use(key_id):
    "How many stored values use key_id"
    columns, _ = keys().stored_encrypted_columns()
    return keys().total_usage(keys().key_usage(columns))[key_id]


def check_key_exists(keyset, key_id):
    if key_id not in keyset.key_ids:
        raise CommandError(
            "there is no key %d; the keys are %s" % (
                key_id, ', '.join(map(str, keyset.key_ids))))


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
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    open_database(args.config, args.database)
    from trytond.modules.tipline.clock import now as utcnow
    with Transaction().start(args.database, 0, readonly=True):
        keyset = load_keyset(args.database)
        columns, skipped = keys().stored_encrypted_columns()
        usage = keys().key_usage(columns)
        epoch_state = Pool().get('tipline.keyset').epoch_state()
        now = utcnow()
    total = keys().total_usage(usage)
    primary = keyset.primary_id
    out.write("Database %s, master key from the %s\n\n" % (
            args.database, master_key_source()))
    out.write("%6s  %-8s  %-7s  %s\n" % ('key', 'state', 'primary', 'values'))
    for key_id in keyset.key_ids:
        out.write("%6d  %-8s  %-7s  %d\n" % (
                key_id, keyset.key_status(key_id),
                'primary' if key_id == primary else '', total[key_id]))
    data_key_id = tipline_core.DATA_KEY_ID
    wrapped = sum(sum(usage[c].values()) for c in columns if c.wraps_keys)
    out.write("\n%d values are under the own data keys of %d reports; "
        "those keys are wrapped under the keys above.\n" % (
            total[data_key_id], wrapped))
    out.write("\nStored values by column:\n")
    for encrypted in columns:
        counter = keys().by_key(usage[encrypted])
        detail = ', '.join(
            ("report key: %d" if key_id == data_key_id else "key %s: %d")
            % ((count,) if key_id == data_key_id else (key_id, count))
            for key_id, count in sorted(counter.items(), key=str))
        out.write("  %-36s %8d%s\n" % (
                '%s.%s' % (encrypted.model, encrypted.field),
                sum(counter.values()), '  (%s)' % detail if detail else ''))
    for model_name, field in skipped:
        out.write("  %-36s not in this database\n" % (
                '%s.%s' % (model_name, field)))
    unknown = {
        key_id: count for key_id, count in total.items()
        if key_id not in {keys().MALFORMED, data_key_id}
        and key_id not in keyset.key_ids}
    if unknown:
        out.write(
            "\nUnreadable: values under keys that no longer exist: %s\n"
            % ', '.join(
                "key %d: %d" % item for item in sorted(unknown.items())))
    if total[keys().MALFORMED]:
        out.write("\nUnreadable: %d values are not Tipline ciphertexts\n"
            % total[keys().MALFORMED])
    write_epoch_status(out, epoch_state, now)
    pending = keys().pending_count(usage, primary)
    if pending:
        out.write(
            "\nRe-encryption pending: %d values are not under the primary "
            "key %d nor their report's own key; run tipline-keys "
            "reencrypt\n" % (pending, primary))
    else:
        out.write("\nNo re-encryption pending: every value is under the "
            "primary key %d or its report's own key\n" % primary)
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
        columns, _ = keys().stored_encrypted_columns()
        pending = keys().pending_count(
            keys().key_usage(columns), keyset.primary_id)
    progress = Progress(pending, stream=args.progress_stream)
    try:
        result = keys().reencrypt(
            args.database, columns, batch_size=args.batch_size,
            max_batches=args.max_batches, progress=progress)
    except keys().ReencryptionConflict as exception:
        raise CommandError(str(exception)) from None
    except KeyboardInterrupt:
        progress.finish("interrupted after re-encrypting")
        out.write("Interrupted; the batches done are committed. Run the "
            "same command again to resume.\n")
        return EXIT_INTERRUPTED
    progress.finish()
    with Transaction().start(args.database, 0, readonly=True):
        keyset = load_keyset(args.database)
        usage = keys().key_usage(columns)
    primary = keyset.primary_id
    left = keys().pending_count(usage, primary)
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
        out.write("Every stored value is under the primary key %d or its "
            "report's own key.\n" % primary)
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
            in_use = keys_in_use(args.key_id)
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
        in_use = keys_in_use(args.key_id)
        if in_use:
            raise CommandError(
                "%d stored values still use key %d; run tipline-keys "
                "reencrypt first, then destroy it" % (in_use, args.key_id))
        wait = keys().servers_may_still_use_old_keys(
            args.database)
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


def command_new_epoch(args, out):
    from trytond.pool import Pool
    path = os.path.abspath(args.file)
    try:
        new_key = tipline_core.load_master_key_file(path)
    except tipline_core.MasterKeyError as exception:
        raise CommandError(exception.message) from None
    open_database(args.config, args.database)
    with keyset_transaction(args.database) as transaction:
        load_keyset(args.database)
        Keyset = Pool().get('tipline.keyset')
        try:
            epoch = Keyset.new_epoch(new_key)
        except keys().EpochChangePending as exception:
            raise CommandError(str(exception)) from None
        except tipline_core.DecryptionError:
            raise CommandError(
                "an epoch starts from the current master key: this one (%s) "
                "only opens the keyset under the previous one"
                % master_key_source()) from None
        transaction.commit()
    out.write(
        "Master key epoch %(epoch)d: the keyset is now wrapped under\n"
        "%(path)s, and still under the old master key for the servers that\n"
        "use it. Now:\n"
        "  1. point key_file at %(path)s in the configuration of every\n"
        "     trytond process, and restart them;\n"
        "  2. run tipline-keys end-epoch with that configuration;\n"
        "  3. keep the old key file until the last backup made before step 2\n"
        "     has expired, then destroy every copy of it: those backups can\n"
        "     then never be read.\n" % {'epoch': epoch, 'path': path})
    return EXIT_OK


def command_end_epoch(args, out):
    from trytond.pool import Pool

    from trytond.modules.tipline.sqlite import reclaim
    open_database(args.config, args.database)
    with keyset_transaction(args.database) as transaction:
        Keyset = Pool().get('tipline.keyset')
        try:
            ended = Keyset.end_epoch()
        except keys().EpochChangePending as exception:
            raise CommandError(str(exception)) from None
        except tipline_core.DecryptionError:
            raise CommandError(
                "this master key (%s) is the previous one: point key_file at "
                "the new key file first" % master_key_source()) from None
        transaction.commit()
    # The old wrap's bytes out of the file and its log as well.
    reclaim(args.database)
    _, backups = epoch_settings()
    out.write("The keyset is wrapped under the new master key only. Backups "
        "made before %s need the old key file; destroy every copy of it "
        "once the last of them has expired%s.\n" % (
            ended.strftime('%Y-%m-%d %H:%M UTC'),
            " (after %d days, [tipline] backup_retention_days)" % backups
            if backups else ""))
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
    add_database_arguments(database)

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

    new_epoch = commands.add_parser(
        'new-epoch', parents=[database],
        help="wrap the keyset under a new master key (from a key file made "
        "with create); servers on the old key go on until end-epoch")
    new_epoch.add_argument('file', metavar='NEW_KEY_FILE')
    new_epoch.set_defaults(func=command_new_epoch)

    end_epoch = commands.add_parser(
        'end-epoch', parents=[database],
        help="forget the wrap under the previous master key, once every "
        "server uses the new one")
    end_epoch.set_defaults(func=command_end_epoch)

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
    return run('tipline-keys', args.func, args, out, EXIT_ERROR,
        EXIT_INTERRUPTED)


if __name__ == '__main__':
    sys.exit(main())
