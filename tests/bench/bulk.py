"""The bulk path of the benchmarks' generator: the rows filing writes, built
by the module's own filing steps, written many at a time.

A report is filed by filing.py's pipeline: validate, compute, choose,
reserve, write, follow up.  The loader runs the module's own `compute` (the
tracking number, the reporter's token, the subject tokens, the signature
and its blinded bands, the personal-data signals, the unvetted flag),
`Report.score_filing`, `MailQueue.filing_mail`, `Keyset.new_data_key` and
the module's own `write` -- but with `insert_rows` collecting the rows
instead of inserting them, and the bands' insert recorded too.  What it does
itself, in memory, is what would read rows not yet written:

  * choose: the open case of the same record (the module also joins a case
    by near-identical text; the generator's texts only repeat on one
    record), whether the named reporter already reported the record in it,
    the reporter count (the assignee is the module's initial_assignee);
  * reserve: the ids, from counters taken from the tables;
  * the reporter's and the record's upheld history that the priority reads;
  * the team's moderators, searched once per team, and their open reports
    (least-loaded assignment), counted as the loader assigns and moderates;
  * the moderators' later steps (verify, triage, investigate, resolve,
    close): the report's columns and the history events, each event linked
    in the report's chain by tipline_core.audit_link as AuditEvent.append
    does it;
  * the cases' figures: Case.update, the module's own, once per chunk of
    cases after the load.

An anonymous receipt's scrypt hash takes 50 ms, so the loader hashes a pool
of receipts once and reuses them (no benchmark path verifies a receipt).
Mail older than an hour is stored as sent.  Closed reports are left pending
for the retention cron, which sets their expiry.

tipline/tests/test_bulk_load.py proves that a loaded report's rows are the
rows the module writes for the same filing, up to ids, times and nonces.

Rows go in with COPY on PostgreSQL, executemany on SQLite.
"""
import collections
import contextlib
import datetime as dt
import functools
import itertools
import json
import operator
import re

from sql.functions import CurrentTimestamp

from trytond import backend
from trytond.pool import Pool
from trytond.transaction import Transaction

import tipline_core

from trytond.modules.tipline import clock, dedup, filing, notification
from trytond.modules.tipline.audit import EPOCH, MICROSECOND
from trytond.modules.tipline.authorless import authorless
from trytond.modules.tipline.filing import Filing, compute, row_values

RECEIPTS = 64
INSERT = re.compile(
    r'INSERT INTO "(\w+)"(?: AS "\w+")? \(([^)]*)\) VALUES', re.S)
# Tables in the order their foreign keys need.
ORDER = ['tipline_case', 'tipline_report', 'tipline_evidence',
    'tipline_report_signature', 'tipline_report_band', 'tipline_audit_event',
    'tipline_mail_queue']


class _Recording:
    "A cursor that records the INSERTs it is given and runs the rest"

    def __init__(self, cursor, record):
        self._cursor = cursor
        self._record = record

    def execute(self, sql, params=()):
        match = INSERT.match(sql)
        if not match:
            return self._cursor.execute(sql, params)
        columns = [c.strip().strip('"') for c in match.group(2).split(',')]
        params = list(params)
        if len(params) % len(columns) or 'CURRENT' in sql:
            raise ValueError('cannot record %s' % sql[:80])
        rows = [params[i:i + len(columns)]
            for i in range(0, len(params), len(columns))]
        self._record(match.group(1), columns, rows)

    def __iter__(self):
        return iter(self._cursor)

    def __getattr__(self, name):
        return getattr(self._cursor, name)


class _Connection:
    def __init__(self, connection, record):
        self._connection = connection
        self._record = record

    def cursor(self, *args, **kwargs):
        return _Recording(self._connection.cursor(*args, **kwargs),
            self._record)

    def __getattr__(self, name):
        return getattr(self._connection, name)


class Row(dict):
    "A collected row: its column values by name"


class BulkLoader:
    """Build reports' rows with the module's own filing steps and write them
    many at a time; use inside a transaction of the database, as user 0"""

    def __init__(self, batch=5000, part=0, parts=1, bases=None):
        """part of parts: this loader takes the ids part + k * parts past
        bases (the tables' largest ids, read now if None), so that parts
        load one database side by side"""
        pool = Pool()
        self.Report = pool.get('tipline.report')
        self.Case = pool.get('tipline.case')
        self.Event = pool.get('tipline.audit_event')
        self.batch = batch
        self.rows = collections.defaultdict(list)  # table: [Row]
        self.pending = 0
        self.ids = {}
        self.bases = bases or largest_ids()
        for table in ORDER:
            self.ids[table] = itertools.count(
                self.bases[table] + 1 + part, parts)
        self.open_case = {}      # target: open case id
        self.cases = {}          # case id: {reports, reporters, tokens}
        self.upheld = collections.Counter()    # reporter token
        self.not_upheld = collections.Counter()
        self.target_upheld = collections.Counter()
        self.chains = {}         # report id: (sequence, link)
        self.report_rows = {}    # report id: Row, until flushed
        self.case_ids = set()
        self.subjects = {}
        self.moderators = {}     # team id: moderator ids
        self.load = collections.Counter()  # moderator: open reports
        receipts = [tipline_core.new_receipt() for _ in range(RECEIPTS)]
        self.receipt_hash = {r: tipline_core.hash_receipt(r)
            for r in receipts}
        self.receipts = itertools.cycle(receipts)

    # The module's steps, with what reads unwritten rows kept in memory ----

    @contextlib.contextmanager
    def _patched(self, now):
        """Within: the clock reads now, insert_rows and the bands' insert
        collect, receipts come from the hashed pool, the history the
        priority reads is the loader's"""
        Report = self.Report
        saved = (clock._offset, filing.insert_rows, dedup.insert_rows,
            notification.insert_rows, tipline_core.new_receipt,
            tipline_core.hash_receipt)
        saved_report = {name: Report.__dict__.get(name) for name in (
                'reporter_history', 'target_history', 'subject_users',
                'team_moderators', '_least_loaded')}
        transaction = Transaction()
        connection = transaction.connection
        subjects = self.subjects
        original_subjects = Report.subject_users
        moderators, original_moderators = (
            self.moderators, Report.team_moderators)

        def subject_users(target):
            key = str(target)
            if key not in subjects:
                subjects[key] = original_subjects(target)
            return subjects[key]
        clock._offset = now - clock.real_now() + clock._offset
        filing.insert_rows = dedup.insert_rows = notification.insert_rows = (
            self._collect_rows)
        tipline_core.new_receipt = lambda: next(self.receipts)
        tipline_core.hash_receipt = lambda r: self.receipt_hash[r]
        Report.reporter_history = classmethod(lambda cls, tokens: {
                t: (self.upheld[t], self.not_upheld[t])
                for t in tokens or () if t})
        Report.target_history = classmethod(lambda cls, targets: {
                t: self.target_upheld[t] for t in targets or ()})
        Report.subject_users = classmethod(
            lambda cls, target: subject_users(target))

        def team_moderators(team):
            # Searched once per team: no user changes during the load.
            key = team.id if team else None
            if key not in moderators:
                moderators[key] = original_moderators(team)
            return moderators[key]
        Report.team_moderators = classmethod(
            lambda cls, team: team_moderators(team))
        # The load the module counts in the table, with the reports not
        # written yet.
        Report._least_loaded = classmethod(
            lambda cls, members, pending=None: min(members,
                key=lambda u: (self.load[u] + (pending or {}).get(u, 0), u)))
        try:
            yield _Connection(connection, self._collect_insert)
        finally:
            (clock._offset, filing.insert_rows, dedup.insert_rows,
                notification.insert_rows, tipline_core.new_receipt,
                tipline_core.hash_receipt) = saved
            for name, value in saved_report.items():
                if value is None:
                    delattr(Report, name)
                else:
                    setattr(Report, name, value)
            transaction.connection = connection

    def _collect_rows(self, Model, rows):
        columns, values = row_values(Model, rows)
        for value in values:
            if isinstance(value[-1], CurrentTimestamp):
                value[-1] = self._now
            self._keep(Model._table, columns, value)

    def _collect_insert(self, table, columns, rows):
        for row in rows:
            self._keep(table, columns, row)

    def _keep(self, table, columns, values):
        row = Row(zip(columns, values))
        self.rows[table].append(row)
        if table == 'tipline_report':
            self.report_rows[row['id']] = row
        elif table == 'tipline_audit_event':
            link = row['link_hash']
            self.chains[row['report']] = (row['sequence'],
                bytes(getattr(link, 'obj', link)))

    def file(self, user, target, category, description, anonymous, now,
            evidence=()):
        """Build the rows of the report user files at now, as
        Report.file would; return the report's Row"""
        pool = Pool()
        Keyset = pool.get('tipline.keyset')
        MailQueue = pool.get('tipline.mail_queue')
        Report = self.Report
        self._now = now
        transaction = Transaction()
        with self._patched(now) as recording, transaction.set_user(user), \
                authorless(anonymous=anonymous):
            item = Filing(target, category, description.strip(),
                bool(anonymous), [(n, d) for n, d in evidence if d])
            compute(Report, item)
            self._choose(item)
            item.assignee = Report.initial_assignee(item.category,
                item.reporter_token, item.subject_tokens)
            Report.score_filing(item)
            item.mail = MailQueue.filing_mail(item)
            self._reserve(item)
            item.data_key, item.wrapped_data_key = Keyset.new_data_key(
                item.ids['report'][0])
            transaction.connection = recording
            try:
                filing.write(Report, item)
            finally:
                transaction.connection = recording._connection
        report_id, = item.ids['report']
        if item.assignee:
            self.load[item.assignee] += 1
        self._joined(item)
        self.pending += 1
        if item.mail and now < clock.real_now() - dt.timedelta(hours=1):
            for row in self.rows['tipline_mail_queue'][-len(item.mail):]:
                row['state'] = 'sent'
                row['attempts'] = 1
        return self.report_rows[report_id]

    def _choose(self, item):
        "choose_case, from the loader's memory of the open cases"
        pool = Pool()
        Case = pool.get('tipline.case')
        target = str(item.target)
        case_id = self.open_case.get(target)
        item.reporters = 1
        if case_id is None:
            return
        item.case, item.how = Case(case_id), 'record'
        case = self.cases[case_id]
        earlier = case['tokens'].get(item.reporter_token, set()) if (
            item.reporter_token) else set()
        item.repeat = target in earlier
        item.reporters = case['reporters'] + (0 if earlier else 1)
        item.reports = case['reports']

    def _reserve(self, item):
        Report = self.Report
        counts = {
            'report': ('tipline_report', 1),
            'evidence': ('tipline_evidence', len(item.evidence)),
            'signature': ('tipline_report_signature', 1),
            'event': ('tipline_audit_event',
                len(Report.filing_events(item, None))),
            'mail': ('tipline_mail_queue', len(item.mail)),
            }
        if item.case is None:
            counts['case'] = ('tipline_case', 1)
        item.ids = {name: [next(self.ids[table]) for _ in range(count)]
            for name, (table, count) in counts.items()}

    def _joined(self, item):
        case_id = item.case.id
        self.case_ids.add(case_id)
        self.open_case[str(item.target)] = case_id
        case = self.cases.setdefault(case_id,
            {'reports': 0, 'reporters': 0, 'tokens': {}})
        case['reports'] += 1
        case['reporters'] = item.reporters
        if item.reporter_token:
            case['tokens'].setdefault(item.reporter_token, set()).add(
                str(item.target))

    # The moderators' later steps ------------------------------------------

    def _append(self, row, kind, details, actor, now):
        "An event after the report's last, linked as AuditEvent.append does"
        report_id = row['id']
        sequence, previous = self.chains[report_id]
        sequence += 1
        details = self.Event._encode(details)
        link = tipline_core.audit_link(previous, report_id, sequence,
            (now - EPOCH) // MICROSECOND, actor or '', kind, details)
        Event = self.Event
        values = {'id': next(self.ids['tipline_audit_event']),
            'report': report_id, 'sequence': sequence, 'timestamp': now,
            'actor': actor or '', 'kind': kind,
            'details': json.dumps(details, sort_keys=True),
            'link_hash': link}
        columns, rows = row_values(Event, [values])
        rows[0][-1] = now
        self._keep(Event._table, columns, rows[0])

    def _set(self, row, **values):
        for name, value in values.items():
            row[name] = self.Report._fields[name].sql_format(value)

    def moderate(self, row, to_state, moderator, login, times,
            severity='medium', truthfulness='confirmed', outcome='upheld'):
        """Take the report of row from acknowledged to to_state as the
        moderator (id, login) would, at times[i] for each step"""
        steps = ['triaged', 'investigating', 'resolved', 'closed']
        if to_state not in steps:
            return
        steps = steps[:steps.index(to_state) + 1]
        times = iter(times)
        now = next(times)
        self._set(row, severity_assessment=severity)
        self._append(row, 'verify', {'truthfulness': '',
                'severity': severity}, login, now)
        self._set(row, triaged_at=now, state='triaged')
        if row.get('assigned_to') is None:
            self._set(row, assigned_to=moderator)
            self.load[moderator] += 1
            self._append(row, 'assign', {'from': '', 'to': login}, login,
                now)
        self._append(row, 'state', {'to': 'triaged', 'outcome': ''},
            login, now)
        for step in steps[1:]:
            now = next(times)
            if step == 'investigating':
                self._set(row, state=step)
                self._append(row, 'state', {'to': step, 'outcome': ''},
                    login, now)
            elif step == 'resolved':
                assignee = row.get('assigned_to')
                if assignee and self.load[assignee]:
                    self.load[assignee] -= 1
                self._set(row, truthfulness=truthfulness, outcome=outcome)
                self._append(row, 'verify', {'truthfulness': truthfulness,
                        'severity': severity}, login, now)
                explanation = (self._explain(outcome, row['category'])
                    if outcome != 'upheld' else None)
                days = self._appeal_days()
                minute = now.replace(second=0, microsecond=0)
                if minute < now:
                    minute += dt.timedelta(minutes=1)
                self._set(row, state=step, resolved_at=now,
                    outcome_explanation=explanation.id if explanation
                    else None, first_response_at=now, survey_invited=True,
                    appeal_deadline=(minute + dt.timedelta(days=days)
                        if days else None))
                self._append(row, 'state', {'to': step, 'outcome': outcome},
                    login, now)
                token = row.get('reporter_token')
                if token:
                    (self.upheld if outcome == 'upheld'
                        else self.not_upheld)[token] += 1
                if outcome == 'upheld':
                    self.target_upheld[row['target']] += 1
            elif step == 'closed':
                # The retention cron sets the expiry.
                self._set(row, state=step, closed_at=now,
                    expiry_pending=True)
                self._append(row, 'state', {'to': step, 'outcome': outcome},
                    login, now)

    @functools.cache
    def _explain(self, kind, category):
        "Report.explain, for a row not written yet"
        pool = Pool()
        Explanation = pool.get('tipline.outcome_explanation')
        return Explanation.explain(kind, pool.get('tipline.category')(
                category))

    def _appeal_days(self):
        if not hasattr(self, '_days'):
            Configuration = Pool().get('tipline.configuration')
            self._days = Configuration(1).appeal_window_days or 0
        return self._days

    def close_case(self, target):
        "Later reports about target open a new case"
        self.open_case.pop(str(target), None)

    # Writing -----------------------------------------------------------------

    def maybe_flush(self):
        if self.pending >= self.batch:
            self.flush()

    def flush(self):
        cursor = Transaction().connection.cursor()
        for table in ORDER + sorted(set(self.rows) - set(ORDER)):
            rows = self.rows.pop(table, None)
            if not rows:
                continue
            columns = list(rows[0])
            values = operator.itemgetter(*columns)
            try:
                values = [values(r) for r in rows] if len(columns) > 1 else (
                    [[values(r)] for r in rows])
            except KeyError:  # rows of one table with different columns
                values = [[r.get(c) for c in columns] for r in rows]
            insert_many(cursor, table, columns, values)
        self.report_rows.clear()
        self.pending = 0

    def finish(self, chunk=500, sequences=True):
        "Flush, set the sequences and compute the cases' figures"
        self.flush()
        if sequences:
            set_sequences(ORDER)
        ids = sorted(self.case_ids)
        for i in range(0, len(ids), chunk):
            self.Case.update(self.Case.browse(ids[i:i + chunk]))


def largest_ids():
    "{table: its largest id} of the tables the loader writes"
    cursor = Transaction().connection.cursor()
    result = {}
    for table in ORDER:
        cursor.execute('SELECT COALESCE(MAX(id), 0) FROM "%s"' % table)
        result[table] = cursor.fetchone()[0]
    return result


def insert_many(cursor, table, columns, rows):
    "Insert rows into table: COPY on PostgreSQL, executemany on SQLite"
    names = ', '.join('"%s"' % c for c in columns)
    if backend.name == 'postgresql':
        with cursor.copy('COPY "%s" (%s) FROM STDIN' % (table, names)) as copy:
            for row in rows:
                copy.write_row(row)
    else:
        cursor.executemany('INSERT INTO "%s" (%s) VALUES (%s)' % (
                table, names, ', '.join(['?'] * len(columns))), rows)


def set_sequences(tables):
    "The tables' id sequences past their largest id"
    cursor = Transaction().connection.cursor()
    for table in tables:
        if backend.name == 'postgresql':
            cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), "
                'GREATEST((SELECT MAX(id) FROM "' + table + '"), 1))',
                (table,))
        else:
            cursor.execute('SELECT COALESCE(MAX(id), 0) FROM "%s"' % table)
            last, = cursor.fetchone()
            cursor.execute('UPDATE sqlite_sequence SET seq = ? '
                'WHERE name = ?', (last, table))
            if not cursor.rowcount:
                cursor.execute('INSERT INTO sqlite_sequence (name, seq) '
                    'VALUES (?, ?)', (table, last))
