"""tipline-keys: the master key file, rotation, re-encryption, destruction.

The database tests run main() as an administrator would, against the test
database.  Besides the module's own encrypted columns they use a scratch
table, so that they hold whatever the report model looks like today."""
import io
import os
import stat
import subprocess
import sys
import tempfile
import unittest
from unittest import mock

from sql import Column, Null, Table

from trytond import config
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME, activate_module, drop_db
from trytond.transaction import Transaction

import tipline_core

from trytond.modules.tipline import cli, keys, keys_cli
from trytond.modules.tipline.encrypted import (
    EncryptedColumn, encrypted_columns, read_column)
from trytond.modules.tipline.tests import tools

tools.use_throwaway_master_key()
DATA_KEY_ID = tipline_core.DATA_KEY_ID

SCRATCH = EncryptedColumn(
    'tipline.keys_cli_test', 'secret', 'tipline_keys_cli_test', 'secret_enc')


def in_committed_transaction(function):
    "function() as root, committed (tools.in_committed_transaction)"
    return tools.in_committed_transaction(DB_NAME, function)


def binary_columns(transaction):
    "(table, column) of every binary column of the database"
    cursor = transaction.connection.cursor()
    if transaction.database.flavor.paramstyle == 'format':  # PostgreSQL
        cursor.execute("SELECT table_name, column_name "
            "FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type = 'bytea'")
        return cursor.fetchall()
    cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    columns = []
    for table_name, in cursor.fetchall():
        cursor.execute('PRAGMA table_info("%s")' % table_name)
        columns.extend((table_name, row[1]) for row in cursor.fetchall()
            if (row[2] or '').upper() == 'BLOB')
    return columns


def run(*argv, stdin=None):
    "main(argv): (exit status, stdout, stderr)"
    out, err = io.StringIO(), io.StringIO()
    with mock.patch('sys.stderr', err):
        if stdin is not None:
            with mock.patch('sys.stdin', stdin):
                status = keys_cli.main(list(argv), out=out)
        else:
            status = keys_cli.main(list(argv), out=out)
    return status, out.getvalue(), err.getvalue()


class KeyFileTestCase(unittest.TestCase):
    "tipline-keys create: no database involved"

    def setUp(self):
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        self.path = os.path.join(directory.name, 'tipline.key')

    def test_create_writes_a_private_key_file(self):
        "create writes 64 hex characters with mode 0600 and says to back up"
        status, out, err = run('create', self.path)
        self.assertEqual((status, err), (0, ''))
        self.assertEqual(stat.S_IMODE(os.stat(self.path).st_mode), 0o600)
        self.assertEqual(
            len(tipline_core.load_master_key_file(self.path)), 32)
        self.assertIn(self.path, out)
        self.assertIn("Back it up", out)
        self.assertIn("key_file = %s" % self.path, out)

    def test_create_never_overwrites(self):
        "create refuses an existing file and leaves it untouched"
        run('create', self.path)
        with open(self.path) as file:
            before = file.read()
        status, out, err = run('create', self.path)
        self.assertEqual(status, 1)
        self.assertIn("already exists", err)
        self.assertNotIn("Traceback", err)
        with open(self.path) as file:
            self.assertEqual(file.read(), before)

    def test_create_in_missing_directory(self):
        "create names the problem when the directory does not exist"
        status, _, err = run(
            'create', os.path.join(self.path, 'nested', 'tipline.key'))
        self.assertEqual(status, 1)
        self.assertTrue(err.startswith("tipline-keys: error: "), err)

    def test_importing_the_commands_chooses_no_backend(self):
        """The commands import the module before they read -c: importing it
        must leave trytond's database backend to be chosen from -c"""
        env = {k: v for k, v in os.environ.items()
            if not k.startswith('TRYTOND_')}
        result = subprocess.run([sys.executable, '-c',
                'import sys; '
                'import trytond.modules.tipline.keys_cli; '
                'import trytond.modules.tipline.audit_cli; '
                'print(sorted(m for m in sys.modules '
                'if m.startswith("trytond.backend")))'],
            capture_output=True, text=True, env=env)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.strip(), '[]')

    def test_database_commands_need_a_database(self):
        "the commands that use the database require -d"
        with mock.patch('sys.stderr', io.StringIO()), \
                self.assertRaises(SystemExit) as context:
            keys_cli.main(['status'])
        self.assertEqual(context.exception.code, 2)


class ProgressTestCase(unittest.TestCase):
    "The progress bar"

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    def test_quiet_without_terminal(self):
        "Without a terminal only the final line is written"
        stream = io.StringIO()
        progress = cli.Progress(10, stream=stream)
        progress.update(4)
        progress.update(6)
        self.assertEqual(stream.getvalue(), '')
        progress.finish()
        self.assertRegex(stream.getvalue(), r'^re-encrypted 10 values in ')
        self.assertEqual(stream.getvalue().count('\n'), 1)

    def test_bar_on_terminal(self):
        "On a terminal the bar shows the counts and the rate"
        stream = self.Terminal()
        progress = cli.Progress(4, stream=stream)
        progress.update(1)
        progress.finish()
        self.assertIn('\r', stream.getvalue())
        self.assertIn('] 1/4  25%', stream.getvalue())
        self.assertRegex(progress.line(), r'/s$')


class KeysCliTestCase(unittest.TestCase):
    "tipline-keys against a database"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        drop_db()
        activate_module(['tipline'])
        cls.addClassCleanup(drop_db)
        with Transaction().start(DB_NAME, 0) as transaction:
            blob = transaction.database.sql_type('BLOB').base
            transaction.connection.cursor().execute(
                'CREATE TABLE %s (id INTEGER PRIMARY KEY, %s %s)' % (
                    SCRATCH.table, SCRATCH.column, blob))
            transaction.commit()

    def setUp(self):
        super().setUp()
        real_columns = keys.stored_encrypted_columns

        def with_scratch():
            columns, skipped = real_columns()
            return columns + [SCRATCH], skipped
        patcher = mock.patch.object(
            keys, 'stored_encrypted_columns', with_scratch)
        patcher.start()
        self.addCleanup(patcher.stop)
        # No server runs beside the tests: no process can hold old keys.
        self.servers_may_still_use_old_keys = (
            keys.servers_may_still_use_old_keys)
        patcher = mock.patch.object(
            keys, 'servers_may_still_use_old_keys', lambda db: 0)
        patcher.start()
        self.addCleanup(patcher.stop)
        with Transaction().start(DB_NAME, 0) as transaction:
            table = Table(SCRATCH.table)
            transaction.connection.cursor().execute(*table.delete())
            transaction.commit()

    # Helpers, each in its own committed transaction

    def write_secrets(self, count):
        "count scratch rows encrypted under the primary: {id: plaintext}"
        table = Table(SCRATCH.table)
        secrets = {}
        with Transaction().start(DB_NAME, 0) as transaction:
            Keyset = Pool().get('tipline.keyset')
            cursor = transaction.connection.cursor()
            cursor.execute(*table.select(
                    table.id, order_by=table.id.desc, limit=1))
            row = cursor.fetchone()
            start = row[0] + 1 if row else 1
            for record_id in range(start, start + count):
                secrets[record_id] = b'secret number %d' % record_id
                cursor.execute(*table.insert(
                        [table.id, Column(table, SCRATCH.column)],
                        [[record_id, Keyset.encrypt(
                                    SCRATCH.model, SCRATCH.field, record_id,
                                    secrets[record_id])]]))
            transaction.commit()
        return secrets

    def read_secrets(self):
        "{id: plaintext} of the scratch rows, decrypted as the module does"
        table = Table(SCRATCH.table)
        with Transaction().start(DB_NAME, 0, readonly=True) as transaction:
            Keyset = Pool().get('tipline.keyset')
            cursor = transaction.connection.cursor()
            cursor.execute(*table.select(
                    table.id, Column(table, SCRATCH.column)))
            return {
                record_id: Keyset.decrypt(
                    SCRATCH.model, SCRATCH.field, record_id, value)
                for record_id, value in cursor.fetchall()}

    def keyset(self):
        with Transaction().start(DB_NAME, 0, readonly=True):
            return Pool().get('tipline.keyset').keyset()

    def usage(self):
        "Counter of stored values per key id, over every encrypted column"
        with Transaction().start(DB_NAME, 0, readonly=True):
            columns, _ = keys.stored_encrypted_columns()
            return keys.total_usage(keys.key_usage(columns))

    def pending(self):
        with Transaction().start(DB_NAME, 0, readonly=True):
            columns, _ = keys.stored_encrypted_columns()
            return keys.pending_count(keys.key_usage(columns),
                Pool().get('tipline.keyset').keyset().primary_id)

    def file_report(self):
        "(id, description) of a report with evidence, as a user files it"
        description = "Threatening messages sent to a supplier contact."
        filed = []

        def file():
            pool = Pool()
            Report = pool.get('tipline.report')
            Party = pool.get('party.party')
            Category = pool.get('tipline.category')
            party = Party(name="Key Rotation Ltd")
            party.save()
            category = Category.search([], limit=1)[0]
            with Transaction().set_user(1):
                report, _ = Report.file(party, category, description,
                    evidence=[('notes.txt', b'evidence bytes')])
            filed[:] = [report.id]
        in_committed_transaction(file)
        return filed[0], description

    def read_report(self, report_id):
        "(description, [(evidence name, data)]) read through the models"
        with Transaction().start(DB_NAME, 1, readonly=True):
            pool = Pool()
            Report = pool.get('tipline.report')
            Evidence = pool.get('tipline.evidence')
            evidences = Evidence.search([('report', '=', report_id)])
            return (Report(report_id).description,
                [(e.name, bytes(e.data)) for e in evidences])

    def fill_every_encrypted_column(self):
        """Store a value in every column declared Encrypted, through the
        module's own code: a report with evidence and its acknowledgement
        mail, moderators' notes, a conversation with a file, an appeal, a
        survey comment and a suggestion"""
        def fill():
            pool = Pool()
            User = pool.get('res.user')
            Report = pool.get('tipline.report')
            Answer = pool.get('tipline.survey.answer')
            Suggestion = pool.get('tipline.suggestion')
            Message = pool.get('tipline.message')
            run_number = User.search([], count=True)
            reporter, = User.create([{
                        'name': "Lifecycle Reporter",
                        'login': 'lifecycle-reporter-%d' % run_number,
                        'email': 'lifecycle@example.com',
                        }])
            report, _ = tools.file_report(reporter,
                tools.make_party("Lifecycle Ltd"), tools.category('fraud'),
                "Invoices for work that was never done, sent every month "
                "(%d)." % run_number,
                evidence=[('invoice.txt', b'invoice bytes')])
            Report.write([report], {
                    'evidence_notes': "The invoices match the ledger.",
                    'internal_notes': "Ask finance for the originals.",
                    'severity_assessment': 'medium',
                    'outcome': 'not_upheld',
                    })
            # The conversation: a message, and a file (cleaned copy and
            # original) added later.
            Message.post_as_moderator(report, "Which ledger do you mean?")
            Message.post_as_reporter(Report(report.id), "The 2025 one.",
                files=[('ledger.txt', b'ledger bytes')])
            Report.triage([report])
            Report.resolve([report])
            Report.appeal(Report(report.id), "The ledger was changed later.")
            Answer.record(report.category, 4, True, True,
                comment="Quick and clear.")
            Suggestion.record('general', "Let us attach several files.")
        in_committed_transaction(fill)

    def stored_plaintexts(self):
        """{(model, field, id): plaintext} of every value of every column
        declared Encrypted, decrypted as the module does (wrapped keys are
        never unwrapped into Python)"""
        with Transaction().start(DB_NAME, 0, readonly=True):
            result = {}
            for encrypted in encrypted_columns():
                if encrypted.wraps_keys:
                    continue
                for record_id, plaintext in read_column(encrypted).items():
                    result[(encrypted.model, encrypted.field, record_id)] = (
                        plaintext)
            return result

    # Tests

    def test_status_counts_values_per_key(self):
        "status lists the keys and counts the values under each"
        before = self.usage()
        primary = self.keyset().primary_id
        self.write_secrets(3)
        self.assertEqual(self.usage()[primary], before[primary] + 3)

        status, out, err = run('status', '-d', DB_NAME)
        self.assertEqual((status, err), (0, ''))
        self.assertRegex(
            out, r'(?m)^ +%d +enabled +primary +%d$' % (
                primary, before[primary] + 3))
        self.assertRegex(
            out, r'(?m)^  tipline\.keys_cli_test\.secret +3  \(key %d: 3\)$'
            % primary)
        self.assertIn("No re-encryption pending", out)

        run('rotate', '-d', DB_NAME)
        status, out, _ = run('status', '-d', DB_NAME)
        self.assertEqual(status, 0)
        self.assertIn("Re-encryption pending: %d values" % self.pending(), out)

    def test_key_lifecycle(self):
        """Values written under one key still read after rotate, reencrypt
        and destroying that key"""
        secrets = self.write_secrets(5)
        old = self.keyset().primary_id
        self.assertGreaterEqual(self.usage()[old], 5)

        status, out, err = run('rotate', '-d', DB_NAME)
        self.assertEqual((status, err), (0, ''))
        new = self.keyset().primary_id
        self.assertNotEqual(new, old)
        self.assertIn("Key %d is the new primary key" % new, out)
        # Rotation alone moves nothing, and everything still reads.
        self.assertGreaterEqual(self.usage()[old], 5)
        self.assertEqual(self.read_secrets(), secrets)

        status, _, err = run('destroy', str(old), '--yes', '-d', DB_NAME)
        self.assertEqual(status, 1)
        self.assertIn("run tipline-keys reencrypt first", err)
        self.assertIn(old, self.keyset().key_ids)

        status, out, err = run(
            'reencrypt', '--batch-size', '2', '-d', DB_NAME)
        self.assertEqual(status, 0, out + err)
        self.assertIn(
            "Every stored value is under the primary key %d" % new, out)
        self.assertRegex(err, r'^re-encrypted \d+ values in ')
        self.assertEqual(set(self.usage()) - {DATA_KEY_ID}, {new})

        status, out, err = run('destroy', str(old), '--yes', '-d', DB_NAME)
        self.assertEqual((status, err), (0, ''))
        self.assertNotIn(old, self.keyset().key_ids)
        self.assertEqual(self.read_secrets(), secrets)

    def test_key_lifecycle_with_reports(self):
        """Reports filed under key 1 read after rotate, reencrypt and
        destroying key 1"""
        with Transaction().start(DB_NAME, 0, readonly=True):
            if 'description_enc' not in Pool().get('tipline.report')._fields:
                self.skipTest("tipline.report stores no encrypted column")
        report_id, description = self.file_report()
        old = self.keyset().primary_id
        run('rotate', '-d', DB_NAME)
        status, out, err = run('reencrypt', '-d', DB_NAME)
        self.assertEqual(status, 0, out + err)
        status, _, err = run('destroy', str(old), '--yes', '-d', DB_NAME)
        self.assertEqual((status, err), (0, ''))
        self.assertEqual(
            self.read_report(report_id),
            (description, [('notes.txt', b'evidence bytes')]))

    def test_key_lifecycle_keeps_every_column_readable(self):
        """rotate, reencrypt, disable and destroy as the README says, with
        a value in every encrypted column: every one reads back"""
        self.fill_every_encrypted_column()
        before = self.stored_plaintexts()
        with Transaction().start(DB_NAME, 0, readonly=True):
            declared = {(c.model, c.field) for c in encrypted_columns()
                if not c.wraps_keys}
        self.assertEqual({k[:2] for k in before}, declared,
            "fill_every_encrypted_column must fill each declared column")
        old = self.keyset().primary_id

        for argv in (('rotate',), ('reencrypt',), ('disable', str(old)),
                ('destroy', str(old), '--yes')):
            status, out, err = run(*argv, '-d', DB_NAME)
            self.assertEqual(status, 0, (argv, out, err))
        self.assertNotIn(old, self.keyset().key_ids)
        self.assertEqual(self.stored_plaintexts(), before)
        status, out, _ = run('status', '-d', DB_NAME)
        for model, field in declared:
            self.assertIn('%s.%s' % (model, field), out)

    def stored_ciphertexts(self):
        "{(table, column, id): ciphertext} of every encrypted column"
        with Transaction().start(DB_NAME, 0, readonly=True) as transaction:
            cursor = transaction.connection.cursor()
            result = {}
            for encrypted in encrypted_columns():
                table = Table(encrypted.table)
                value = Column(table, encrypted.column)
                cursor.execute(*table.select(
                        table.id, value, where=value != Null))
                for record_id, ciphertext in cursor:
                    result[(encrypted, record_id)] = bytes(ciphertext)
            return result

    def test_report_values_are_under_the_reports_own_key(self):
        """Every value that belongs to a report is under its own data key;
        the wrapped keys and the values of no report are under the
        keyset's primary key"""
        self.fill_every_encrypted_column()
        primary = self.keyset().primary_id
        stored = self.stored_ciphertexts()
        self.assertTrue(stored)
        for (encrypted, record_id), ciphertext in stored.items():
            self.assertEqual(tipline_core.ciphertext_key_id(ciphertext),
                DATA_KEY_ID if encrypted.report else primary,
                (encrypted, record_id))

    def test_rotation_rewraps_report_keys_without_touching_values(self):
        """rotate, reencrypt and destroying the old key rewrap each report's
        data key; not one value of a report is rewritten, and all read"""
        self.fill_every_encrypted_column()
        before = self.stored_plaintexts()
        ciphertexts = self.stored_ciphertexts()
        old = self.keyset().primary_id
        for argv in (('rotate',), ('reencrypt',), ('disable', str(old)),
                ('destroy', str(old), '--yes')):
            status, out, err = run(*argv, '-d', DB_NAME)
            self.assertEqual(status, 0, (argv, out, err))
        after = self.stored_ciphertexts()
        self.assertEqual(self.stored_plaintexts(), before)
        new = self.keyset().primary_id
        for (encrypted, record_id), ciphertext in ciphertexts.items():
            if encrypted.report:
                self.assertEqual(after[(encrypted, record_id)], ciphertext,
                    (encrypted, record_id))
            else:
                self.assertEqual(tipline_core.ciphertext_key_id(
                        after[(encrypted, record_id)]), new)

    def legacy_report(self):
        """A report with evidence whose values are under the keyset, as
        stored before data keys, and no data key: its id"""
        report_id, _ = self.file_report()
        with Transaction().start(DB_NAME, 0) as transaction:
            Keyset = Pool().get('tipline.keyset')
            cursor = transaction.connection.cursor()
            for encrypted in encrypted_columns():
                if not encrypted.report:
                    continue
                owner = 'id' if encrypted.report == 'id' else encrypted.report
                values = read_column(encrypted, where=lambda t: Column(
                        t, owner) == report_id)
                table = Table(encrypted.table)
                for record_id, plaintext in values.items():
                    cursor.execute(*table.update(
                            [Column(table, encrypted.column)],
                            [Keyset.encrypt(encrypted.model, encrypted.field,
                                    record_id, plaintext)],
                            where=table.id == record_id))
            table = Table('tipline_report')
            cursor.execute(*table.update([table.data_key_enc], [None],
                    where=table.id == report_id))
            transaction.commit()
        return report_id

    def test_reports_filed_before_data_keys_read_and_migrate(self):
        """A report stored under the keyset still reads; reencrypt gives it
        its own key and moves its values there, resumably"""
        report_id = self.legacy_report()
        expected = self.read_report(report_id)
        self.assertEqual(expected[1], [('notes.txt', b'evidence bytes')])
        self.assertGreater(self.pending(), 0)
        status, out, _ = run('status', '-d', DB_NAME)
        self.assertIn("nor their report's own key", out)

        status, out, err = run(
            'reencrypt', '--batch-size', '1', '--max-batches', '1',
            '-d', DB_NAME)
        self.assertEqual(status, 0, out + err)
        self.assertEqual(self.read_report(report_id), expected)
        status, out, err = run('reencrypt', '-d', DB_NAME)
        self.assertEqual(status, 0, out + err)
        self.assertEqual(self.pending(), 0)
        self.assertEqual(self.read_report(report_id), expected)
        with Transaction().start(DB_NAME, 0, readonly=True):
            keys_ = Pool().get('tipline.keyset').data_keys([report_id])
        self.assertIn(report_id, keys_)

    def test_destroying_a_reports_key_shreds_every_value_of_it(self):
        "Without its wrapped key no value of the report decrypts; others do"
        shredded, _ = self.file_report()
        kept, kept_description = self.file_report()
        with Transaction().start(DB_NAME, 0) as transaction:
            cursor = transaction.connection.cursor()
            table = Table('tipline_report')
            cursor.execute(*table.update([table.data_key_enc], [None],
                    where=table.id == shredded))
            unreadable = set()
            for encrypted in encrypted_columns():
                if not encrypted.report:
                    continue
                owner = 'id' if encrypted.report == 'id' else encrypted.report

                def of_shredded(table):
                    return Column(table, owner) == shredded
                table = Table(encrypted.table)
                value = Column(table, encrypted.column)
                cursor.execute(*table.select(table.id,
                        where=of_shredded(table) & (value != Null)))
                for record_id, in cursor.fetchall():
                    with self.assertRaises(tipline_core.DecryptionError):
                        read_column(encrypted, where=lambda t: (
                                t.id == record_id))
                    unreadable.add(encrypted.field)
            transaction.rollback()
        self.assertLessEqual({'description', 'name', 'data', 'original',
                'signature'}, unreadable)
        self.assertEqual(self.read_report(kept)[0], kept_description)

    def key_file(self, directory, name, key=None):
        "A master key file in directory: (path, its key as hex)"
        path = os.path.join(directory, name)
        tipline_core.create_master_key_file(path, master_key=key)
        return path, tipline_core.load_master_key_file(path).hex()

    def backup(self, report_id):
        """What a backup holds of report_id: the wrapped keyset, the
        report's wrapped data key and its description"""
        with Transaction().start(DB_NAME, 0, readonly=True) as transaction:
            cursor = transaction.connection.cursor()
            keyset, report = Table('tipline_keyset'), Table('tipline_report')
            cursor.execute(*keyset.select(keyset.wrapped))
            wrapped, = cursor.fetchone()
            cursor.execute(*report.select(
                    report.data_key_enc, report.description_enc,
                    where=report.id == report_id))
            data_key, description = cursor.fetchone()
            return bytes(wrapped), bytes(data_key), bytes(description)

    @staticmethod
    def read_backup(backup, report_id, master):
        "The description in backup, opened with master (bytes)"
        wrapped, data_key, description = backup
        keyset = tipline_core.Keyset.from_bytes(wrapped, master)
        key = tipline_core.DataKey.unwrap(tipline_core.FieldCipher(keyset),
            data_key, keys.data_key_associated_data(report_id))
        return key.decrypt(description, keys.associated_data(
                'tipline.report', 'description', report_id))

    def tokens(self):
        "The blind indexes of user 1 and of every stored band"
        with Transaction().start(DB_NAME, 0, readonly=True) as transaction:
            band = Table('tipline_report_band')
            cursor = transaction.connection.cursor()
            cursor.execute(*band.select(band.band))
            return (Pool().get('tipline.keyset').reporter_token(1),
                sorted(b for b, in cursor))

    def test_master_key_epoch_shreds_the_backups_made_before(self):
        """new-epoch, the servers' move, end-epoch: the database reads under
        the new master key alone, every blind index still matches, and a
        backup made before reads only with the old key, which may then be
        destroyed"""
        if config.get(keys.KEY_FILE_SECTION, keys.KEY_FILE_OPTION):
            self.skipTest("the master key comes from a key file")
        report_id, description = self.file_report()
        expected = self.read_report(report_id)
        tokens = self.tokens()
        backup = self.backup(report_id)
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        old_hex = os.environ[keys.KEY_ENV]
        old_path, _ = self.key_file(
            directory.name, 'old.key', bytes.fromhex(old_hex))
        new_path, new_hex = self.key_file(directory.name, 'new.key')

        status, out, err = run('new-epoch', new_path, '-d', DB_NAME)
        self.assertEqual((status, err), (0, ''))
        self.assertIn("Master key epoch 2", out)
        # Servers still on the old key read on; the keys cannot change.
        self.assertEqual(self.read_report(report_id), expected)
        status, _, err = run('rotate', '-d', DB_NAME)
        self.assertEqual(status, 1)
        self.assertIn("end-epoch", err)
        # end-epoch from the old key is refused: it would lock servers out.
        status, _, err = run('end-epoch', '-d', DB_NAME)
        self.assertEqual(status, 1)
        self.assertIn("point key_file at the new key file", err)

        with mock.patch.dict(os.environ, {keys.KEY_ENV: new_hex}):
            self.assertEqual(self.read_report(report_id), expected)
            status, out, err = run('end-epoch', '-d', DB_NAME)
            self.assertEqual((status, err), (0, ''), out)
            self.assertEqual(self.read_report(report_id), expected)
            self.assertEqual(self.tokens(), tokens)
            status, out, _ = run('status', '-d', DB_NAME)
            self.assertIn("Master key epoch 2", out)
            self.assertIn("Backups made before", out)
            # Back to the old key for the other tests, by the same steps.
            self.addCleanup(run, 'end-epoch', '-d', DB_NAME)
            status, _, err = run('new-epoch', old_path, '-d', DB_NAME)
            self.assertEqual((status, err), (0, ''))

        # The backup made before the epoch: readable with the old key ...
        self.assertEqual(self.read_backup(
                backup, report_id, bytes.fromhex(old_hex)),
            description.encode())
        # ... and, once it is destroyed, with nothing left: the new key
        # does not open it.
        with self.assertRaises(tipline_core.DecryptionError):
            self.read_backup(backup, report_id, bytes.fromhex(new_hex))

    def test_no_ciphertext_outside_declared_columns(self):
        """Every column of the database that holds ciphertexts is declared
        Encrypted, so that the key commands see it"""
        self.fill_every_encrypted_column()
        with Transaction().start(DB_NAME, 0, readonly=True) as transaction:
            key_ids = set(Pool().get('tipline.keyset').keyset().key_ids)
            declared = {(c.table, c.column) for c in encrypted_columns()}
            declared.add((SCRATCH.table, SCRATCH.column))
            cursor = transaction.connection.cursor()
            found = set()
            for table_name, column_name in binary_columns(transaction):
                if (table_name, column_name) in {
                        ('tipline_keyset', 'wrapped'),
                        ('tipline_keyset', 'previous_wrapped')}:
                    continue  # under the master key, not the keyset
                table = Table(table_name)
                value = Column(table, column_name)
                cursor.execute(*table.select(value, where=value != Null))
                for stored, in cursor:
                    stored = bytes(stored)
                    if (len(stored) >= tipline_core.CIPHERTEXT_OVERHEAD
                            and tipline_core.ciphertext_key_id(stored)
                            in key_ids | {DATA_KEY_ID}):
                        found.add((table_name, column_name))
                        break
        self.assertEqual(found - declared, set())
        # The scan does see ciphertexts: the declared columns are found.
        self.assertEqual(declared - found, {(SCRATCH.table, SCRATCH.column)})

    def test_unknown_key_reloads_the_keyset(self):
        """A value written under a key that another process rotated in is
        read at once: the keyset is read again, not only after the cache
        expires"""
        with Transaction().start(DB_NAME, 0) as transaction:
            Keyset = Pool().get('tipline.keyset')
            Keyset.cipher()  # this process's cached keyset
            keyset = Keyset.keyset()
            keyset.rotate()
            # Stored by another process: nothing here learns of it.
            table = Keyset.__table__()
            transaction.connection.cursor().execute(*table.update(
                    [table.wrapped], [keyset.to_bytes(keys.master_key())]))
            value = tipline_core.FieldCipher(keyset).encrypt(
                b'written elsewhere', keys.associated_data('m', 'f', 1))
            self.assertEqual(
                Keyset.decrypt('m', 'f', 1, value), b'written elsewhere')
            transaction.rollback()

    def test_reencrypt_resumes(self):
        "An interrupted re-encryption loses nothing and resumes"
        secrets = self.write_secrets(7)
        run('rotate', '-d', DB_NAME)
        primary = self.keyset().primary_id
        pending = self.pending()
        self.assertGreaterEqual(pending, 7)

        status, out, _ = run(
            'reencrypt', '--batch-size', '1', '--max-batches', '3',
            '-d', DB_NAME)
        self.assertEqual(status, 0)
        self.assertIn("Stopped after 3 batches", out)
        self.assertEqual(self.pending(), pending - 3)

        # A crash in the middle of the second batch of the scratch table:
        # the first batch stays committed, the second is rolled back.
        pending = self.pending()
        calls = []
        real_associated_data = keys.associated_data

        def crashing(*args):
            calls.append(args)
            if len(calls) == 3:
                raise RuntimeError("simulated crash")
            return real_associated_data(*args)
        with mock.patch.object(keys, 'associated_data', crashing), \
                self.assertRaises(RuntimeError):
            keys.reencrypt(DB_NAME, [SCRATCH], batch_size=2)
        self.assertEqual(self.pending(), pending - 2)
        self.assertEqual(self.read_secrets(), secrets)

        status, out, err = run('reencrypt', '-d', DB_NAME)
        self.assertEqual(status, 0, out + err)
        self.assertEqual(self.pending(), 0)
        self.assertEqual(set(self.usage()) - {DATA_KEY_ID}, {primary})
        self.assertEqual(self.read_secrets(), secrets)

    def test_reencrypt_reports_values_that_do_not_decrypt(self):
        "A value that does not decrypt is named, never shown, and fails"
        self.write_secrets(2)
        table = Table(SCRATCH.table)
        value = Column(table, SCRATCH.column)
        with Transaction().start(DB_NAME, 0) as transaction:
            cursor = transaction.connection.cursor()
            cursor.execute(*table.select(value, where=table.id == 1))
            misplaced, = cursor.fetchone()
            # Row 1's ciphertext copied into row 2 is bound to row 1.
            cursor.execute(*table.update(
                    [value], [misplaced], where=table.id == 2))
            transaction.commit()
        run('rotate', '-d', DB_NAME)

        status, out, err = run('reencrypt', '-d', DB_NAME)
        self.assertEqual(status, 1)
        self.assertIn("1 values did not decrypt", out)
        self.assertIn("tipline.keys_cli_test.secret id 2", out)
        self.assertNotIn("secret number", out + err)
        self.assertEqual(self.pending(), 1)

        with Transaction().start(DB_NAME, 0) as transaction:
            transaction.connection.cursor().execute(
                *table.delete(where=table.id == 2))
            transaction.commit()

    def test_destroy_refusals(self):
        "destroy refuses the primary, unknown keys and unconfirmed requests"
        keyset = self.keyset()
        primary = keyset.primary_id
        status, _, err = run('destroy', str(primary), '--yes', '-d', DB_NAME)
        self.assertEqual(status, 1)
        self.assertIn("is the primary key", err)

        status, _, err = run('destroy', '999', '--yes', '-d', DB_NAME)
        self.assertEqual(status, 1)
        self.assertIn("there is no key 999", err)

        run('rotate', '-d', DB_NAME)
        run('reencrypt', '-d', DB_NAME)
        status, _, err = run(
            'destroy', str(primary), '-d', DB_NAME, stdin=io.StringIO('y\n'))
        self.assertEqual(status, 1)
        self.assertIn("pass --yes", err)
        self.assertIn(primary, self.keyset().key_ids)

    def test_destroy_waits_for_servers_to_reload_the_keys(self):
        "destroy refuses while servers may still encrypt under the old key"
        old = self.keyset().primary_id
        run('rotate', '-d', DB_NAME)
        run('reencrypt', '-d', DB_NAME)

        def destroy(clean_timeout):
            with mock.patch.object(
                    keys, 'servers_may_still_use_old_keys',
                    self.servers_may_still_use_old_keys), \
                    mock.patch.object(
                        keys, 'cache_clean_timeout',
                        lambda: clean_timeout):
                return run('destroy', str(old), '--yes', '-d', DB_NAME)

        status, _, err = destroy(300)
        self.assertEqual(status, 1)
        self.assertRegex(err, r'clean_timeout ago.* wait (29\d|300) s')
        self.assertIn(old, self.keyset().key_ids)
        status, _, err = destroy(0)
        self.assertEqual((status, err), (0, ''))

    def test_disable_and_enable(self):
        "disable refuses a key still in use; enable undoes disable"
        self.write_secrets(1)
        old = self.keyset().primary_id
        run('rotate', '-d', DB_NAME)
        status, _, err = run('disable', str(old), '-d', DB_NAME)
        self.assertEqual(status, 1)
        self.assertIn("would become unreadable", err)

        run('reencrypt', '-d', DB_NAME)
        status, out, err = run('disable', str(old), '-d', DB_NAME)
        self.assertEqual((status, err), (0, ''))
        self.assertEqual(self.keyset().key_status(old), 'disabled')
        status, _, _ = run('enable', str(old), '-d', DB_NAME)
        self.assertEqual(status, 0)
        self.assertEqual(self.keyset().key_status(old), 'enabled')

    def test_wrong_master_key(self):
        "Another master key gives one clear error, no traceback"
        if config.get(keys.KEY_FILE_SECTION, keys.KEY_FILE_OPTION):
            self.skipTest("the master key comes from a key file")
        with mock.patch.dict(
                os.environ, {keys.KEY_ENV: os.urandom(32).hex()}):
            status, out, err = run('status', '-d', DB_NAME)
        self.assertEqual((status, out), (1, ''))
        self.assertIn(
            "does not open the keyset stored in %s" % DB_NAME, err)
        self.assertNotIn("Traceback", err)

    def test_missing_master_key(self):
        "No key file and no variable: the error names the setting"
        if config.get(keys.KEY_FILE_SECTION, keys.KEY_FILE_OPTION):
            self.skipTest("the master key comes from a key file")
        with mock.patch.dict(os.environ):
            del os.environ[keys.KEY_ENV]
            status, _, err = run('rotate', '-d', DB_NAME)
        self.assertEqual(status, 1)
        self.assertIn("'key_file' in the [tipline] section", err)
        self.assertNotIn("Traceback", err)

    def test_missing_key_file(self):
        "A configured key file that is missing is named"
        if config.get(keys.KEY_FILE_SECTION, keys.KEY_FILE_OPTION):
            self.skipTest("the master key comes from a key file")
        if not config.has_section(keys.KEY_FILE_SECTION):
            config.add_section(keys.KEY_FILE_SECTION)
        with mock.patch.dict(os.environ), tempfile.TemporaryDirectory() as d:
            os.environ.pop(keys.KEY_ENV, None)
            path = os.path.join(d, 'missing.key')
            config.set(keys.KEY_FILE_SECTION, keys.KEY_FILE_OPTION, path)
            try:
                status, _, err = run('status', '-d', DB_NAME)
            finally:
                # An empty key_file counts as unset.
                config.set(keys.KEY_FILE_SECTION, keys.KEY_FILE_OPTION, '')
        self.assertEqual(status, 1)
        self.assertIn(path, err)
        self.assertIn("key_file", err)
