"""Filing a report: one pipeline, read top to bottom.

    1. validate  the input, with the messages the reporter reads, then take
                 the reported record's lock: filings about one record go on
                 one at a time;
    2. compute   from the plaintext in memory, once: the tokens, the receipt,
                 the identity, the near-duplicate signature and its bands,
                 the personal-data signals, whether the author is unvetted;
    3. choose    the case (under the record's lock), whether it
                 repeats the reporter's own report, the assignee and the
                 priority;
    4. reserve   the row ids and the report's own data key, so that every
                 ciphertext binds to its row and is under its report's key
                 before the row is written;
    5. write     each row once: the report with every column, its evidence,
                 its signature and bands, its first history events as one
                 chained insert, the case, and the mail rows;
    6. follow up what depends on the written rows: the case's figures and
                 the burst guard; the case's other reports are rescored
                 outside the request.

It all runs in the authorless scope (authorless.py): no row names the
reporter, and an anonymous filing stores only the hour.  Each concept keeps
its own code in its own file (dedup.py signs the text, priority.py counts
its personal data and scores it, burst.py knows whether the author is
unvetted and guards the case, case.py chooses the case, assignment.py the
assignee, notification.py the mail, audit.py the chain); this file only
says in which order they run.  Mail is only queued here: the cron job, or
trytond-worker where one runs, sends it after the reporter has the answer.
"""
import datetime as dt
from dataclasses import dataclass, field

from sql.functions import CurrentTimestamp

from trytond import backend
from trytond.model import fields
from trytond.pool import Pool
from trytond.transaction import Transaction

import tipline_core

from .authorless import authorless, filer, frozen_now, track_whole
from .clock import now as utcnow


# Fields that have no column of their own.
NO_COLUMN = (fields.Function, fields.One2Many, fields.Many2Many)


@dataclass
class Filing:
    "What one filing knows, computed once"
    target: object
    category: object
    description: str
    anonymous: bool
    evidence: list
    filer: int = None
    now: dt.datetime = None
    tracking_number: str = None
    reporter: object = None          # the filer's res.user, when named
    reporter_token: str = None
    subject_tokens: str = ''
    receipt: str = None
    signature: bytes = None          # the current version's
    signatures: list = field(default_factory=list)  # to look up with
    bands: list = field(default_factory=list)
    signals: int = 0
    case: object = None              # an open tipline.case, or None
    how: str = 'new'
    similarity: float = None
    repeat: bool = False
    reporters: int = 1               # distinct reporters of the case with it
    reports: int = 0                 # reports in the case before it
    new_reporter: bool = True
    priority: float = None
    priority_inputs: str = None
    mail: list = field(default_factory=list)      # mail queue rows
    assignee: int = None
    ids: dict = field(default_factory=dict)
    data_key: object = None          # the report's tipline_core.DataKey
    wrapped_data_key: bytes = None   # as stored in the report's row


def file_report(Report, target, category, description, anonymous=False,
        evidence=()):
    "File a report; (report, receipt): see Report.file"
    with authorless(anonymous=anonymous):
        filing = Filing(target, category, description, bool(anonymous),
            [((n or '').strip(), d) for n, d in evidence if d])
        validate(Report, filing)
        compute(Report, filing)
        choose(Report, filing)
        reserve(Report, filing)
        write(Report, filing)
        follow_up(Report, filing)
        return Report(filing.ids['report'][0]), filing.receipt


# 1. validate -----------------------------------------------------------------

def validate(Report, filing):
    Report.check_submission(filing.target, filing.category,
        filing.description, filing.evidence)
    filing.description = filing.description.strip()
    Report.lock_record(filing)


# 2. compute ------------------------------------------------------------------

def compute(Report, filing):
    pool = Pool()
    Keyset = pool.get('tipline.keyset')
    Signature = pool.get('tipline.report.signature')
    User = pool.get('res.user')
    filing.filer = filer()
    filing.now = utcnow()
    # 75 random bits: the unique index would refuse a collision.
    filing.tracking_number = tipline_core.new_tracking_number()
    if filing.anonymous:
        filing.receipt = tipline_core.new_receipt()
    else:
        filing.reporter = User(filing.filer)
        filing.reporter_token = Keyset.reporter_token(filing.filer)
    filing.subject_tokens = ' '.join(sorted(Keyset.reporter_token(u)
            for u in Report.subject_users(filing.target)))
    Signature.sign_filing(filing)
    filing.signals = Report.count_personal_data(filing.description)
    filing.new_reporter = Report.unvetted_reporter(filing)


# 3. choose -------------------------------------------------------------------

def choose(Report, filing):
    Report.choose_case(filing)
    filing.assignee = Report.initial_assignee(filing.category,
        filing.reporter_token, filing.subject_tokens)
    Report.score_filing(filing)
    filing.mail = Pool().get('tipline.mail_queue').filing_mail(filing)


# 4. reserve ------------------------------------------------------------------

def reserve(Report, filing):
    pool = Pool()
    counts = {
        'report': (Report, 1),
        'evidence': (pool.get('tipline.evidence'), len(filing.evidence)),
        'signature': (pool.get('tipline.report.signature'), 1),
        'event': (pool.get('tipline.audit_event'),
            len(Report.filing_events(filing, None))),
        'mail': (pool.get('tipline.mail_queue'), len(filing.mail)),
        }
    if filing.case is None:
        counts['case'] = (pool.get('tipline.case'), 1)
    ids = reserve_many({Model: count for Model, count in counts.values()})
    filing.ids = {name: ids[Model._table] for name, (Model, _) in
        counts.items()}
    report_id, = filing.ids['report']
    filing.data_key, filing.wrapped_data_key = pool.get(
        'tipline.keyset').new_data_key(report_id)


def reserve_many(counts):
    """{table: new ids} for {Model: count}, taken from the tables'
    sequences in one statement, so that rows can be written whole later in
    the transaction"""
    wanted = [(Model._table, count) for Model, count in counts.items()
        if count]
    result = {Model._table: [] for Model in counts}
    if not wanted:
        return result
    transaction = Transaction()
    cursor = transaction.connection.cursor()
    if backend.name == 'postgresql':
        cursor.execute('SELECT t.name, ARRAY(SELECT nextval('
            "pg_get_serial_sequence(format('%%I', t.name), 'id')) "
            'FROM generate_series(1, t.n)) FROM (VALUES '
            + ', '.join(['(%s, %s)'] * len(wanted))
            + ') AS t(name, n)', [v for pair in wanted for v in pair])
        result.update({name: sorted(ids) for name, ids in cursor})
        return result
    # SQLite: the AUTOINCREMENT counters; the statement takes the write
    # lock, so no other writer gets the same ids.
    increments = dict(wanted)
    cursor.execute('UPDATE sqlite_sequence SET seq = seq + CASE name '
        + ' '.join(['WHEN ? THEN ?'] * len(wanted))
        + ' END WHERE name IN (%s) RETURNING name, seq'
        % ', '.join(['?'] * len(wanted)),
        [v for pair in wanted for v in pair] + [n for n, _ in wanted])
    last = dict(cursor.fetchall())
    for name, count in wanted:
        if name not in last:  # no row has ever been inserted there
            cursor.execute('SELECT COALESCE(MAX(id), 0) FROM "%s"' % name)
            last[name] = cursor.fetchone()[0] + count
            cursor.execute('INSERT INTO sqlite_sequence (name, seq) '
                'VALUES (?, ?)', (name, last[name]))
    for name, count in increments.items():
        result[name] = list(range(last[name] - count + 1, last[name] + 1))
    return result


# 5. write --------------------------------------------------------------------

def write(Report, filing):
    pool = Pool()
    Event = pool.get('tipline.audit_event')
    Evidence = pool.get('tipline.evidence')
    Signature = pool.get('tipline.report.signature')
    Case = pool.get('tipline.case')
    MailQueue = pool.get('tipline.mail_queue')
    report_id, = filing.ids['report']
    if filing.case is None:
        case_id, = filing.ids['case']
        insert_rows(Case, [{'id': case_id, 'state': 'open'}])
        filing.case = Case(case_id)
    insert_rows(Report, [Report.filing_values(filing)])
    if filing.evidence:
        insert_rows(Evidence, Evidence.filing_values(
                filing, filing.ids['evidence']))
    Signature.write_filed(
        filing.ids['signature'][0], report_id, filing.signature,
        filing.bands, filing.data_key)
    Event.write_first(report_id,
        Report.filing_events(filing, filing.case.id), filing.ids['event'])
    MailQueue.queue_filed(filing)


def insert_rows(Model, rows):
    """Insert rows (dicts holding their reserved 'id') in one statement,
    every stored field filled with its default where not given; no user in
    the host's columns, the filing's time for an anonymous one"""
    table = Model.__table__()
    columns, values = row_values(Model, rows)
    transaction = Transaction()
    transaction.connection.cursor().execute(*table.insert(
            [getattr(table, c) for c in columns], values))
    # As for the ORM's creations: the transaction need not lock them.
    ids = [row['id'] for row in rows]
    transaction.create_records[Model.__name__].extend(ids)
    track_whole(Model, ids)


def insert_returning(Model, columns, values):
    """Insert values (rows of columns) in one statement, the ids given by
    the database: the records.  RETURNING: SQLite has it too (3.35), though
    trytond does not use it; unqualified, as SQLite wants it."""
    table = Model.__table__()
    query, parameters = tuple(table.insert(
            [getattr(table, c) for c in columns], values))
    transaction = Transaction()
    cursor = transaction.connection.cursor()
    cursor.execute(query + ' RETURNING "id"', parameters)
    ids = sorted(id_ for id_, in cursor.fetchall())
    # As for the ORM's creations: the transaction need not lock them.
    transaction.create_records[Model.__name__].extend(ids)
    return Model.browse(ids)


def row_values(Model, rows):
    """(columns, values) of rows as insert_rows writes them: the last
    column is create_date, CurrentTimestamp() outside an anonymous scope"""
    stored = [name for name, field in Model._fields.items()
        if not isinstance(field, NO_COLUMN) and name not in {
            'id', 'create_uid', 'create_date', 'write_uid', 'write_date'}]
    missing = sorted({n for n in stored if any(n not in r for r in rows)})
    defaults = Model._clean_defaults(
        Model.default_get(missing, with_rec_name=False)) if missing else {}
    columns = ['id'] + sorted(stored)
    created = frozen_now() or CurrentTimestamp()
    values = []
    for row in rows:
        row = {**defaults, **row}
        values.append([row['id']] + [
                Model._fields[name].sql_format(row.get(name))
                for name in columns[1:]] + [created])
    return columns + ['create_date'], values


# 6. follow up ----------------------------------------------------------------

def follow_up(Report, filing):
    Case = Pool().get('tipline.case')
    report = Report(filing.ids['report'][0])
    Case.update([filing.case])
    Report.check_burst(report, filing)
    # The case's other reports, whose reporter count may have grown.
    Report.rescore_later([filing.case])
