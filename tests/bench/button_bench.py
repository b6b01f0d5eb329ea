"""A moderator's buttons and form against bare Tryton, on the same server:
latency over JSON-RPC and SQL statements, on SQLite and PostgreSQL.

    .venv/bin/python tests/bench/button_bench.py [--rounds 30]
        [--backend sqlite|postgresql|both] [--reports N] [--port 8071]
        [--name button_bench]

For each backend it creates a demo database (scripts/create_database.sh),
optionally stores N more reports first (--reports: filed through the
module's own code, anonymous and named, over the demo's parties, left open
in the queue), and files one report per round as the demo reporter.  Served
by a real `trytond` process, the demo moderator then takes each report
through the web client's calls, interleaved with the bare baselines:

- save severity (a `write`), then press Triage: `model.tipline.report.triage`
  with sao's context, against a bare `party.party.write` of one field;
- save outcome and truthfulness, then press Resolve, against the same bare
  write;
- open the report: a `read` of every field of the report's form view as sao
  asks for them (links with `.rec_name`, selections with `:string`,
  `_timestamp`, `_write`, `_delete`), against the same `read` of a party
  with the party's form view.

It then counts the SQL statements of each call, served in process with the
backend's cursor counting what it executes, and prints every figure beside
its baseline with the ratio the goal bounds (1.5x).  This is a benchmark
that prints figures, not a test.
"""
import argparse
import base64
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from filing_bench import (  # noqa: E402
    IN_PROCESS, Client, create_database, ms, serve)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__))))
PYTHON = os.path.join(ROOT, '.venv', 'bin', 'python')
MODERATOR, MODERATOR_PASSWORD = 'moderator', 'moderate-demo-1'
WARM = 3


# Run in process on the database before it is served: files the bench's
# reports (one per round, named, on their own party each) and the --reports
# prefill, through Report.file as the module files them.
PREFILL = """
import json, sys
from trytond.pool import Pool
from trytond.transaction import Transaction
name, rounds, extra = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
Pool(name).init()
DESCRIPTION = ("Invoices for deliveries that never arrived, sent by this "
    "supplier every month since spring (%s %d).")
def batch(start, stop, kind):
    ids = []
    with Transaction().start(name, 0) as transaction:
        pool = Pool()
        User, Party = pool.get('res.user'), pool.get('party.party')
        Category = pool.get('tipline.category')
        Report = pool.get('tipline.report')
        reporter, = User.search([('login', '=', 'reporter')])
        categories = Category.search([('active', '=', True)],
            order=[('id', 'ASC')])
        parties = Party.search([], order=[('id', 'ASC')])
        for i in range(start, stop):
            if kind == 'bench':
                target, = Party.create([{'name': 'Bench Target %d' % i}])
                category, anonymous = categories[0], False
            else:
                target = parties[i % len(parties)]
                category = categories[i % len(categories)]
                anonymous = bool(i % 2)
            with transaction.set_user(reporter.id):
                report, _ = Report.file(target, category,
                    DESCRIPTION % (kind, i), anonymous=anonymous)
            ids.append(report.id)
        transaction.commit()
    return ids
with Transaction().start(name, 0) as transaction:
    party, = Pool().get('party.party').create([{'name': 'Bench Baseline'}])
    party = party.id
    transaction.commit()
bench = batch(0, rounds, 'bench')
for start in range(0, extra, 200):
    batch(start, min(extra, start + 200), 'stored')
print(json.dumps({'reports': bench, 'party': party}))
"""


def prefill(name, env, conf, rounds, extra):
    """{'reports': ids of the reports the rounds decide, 'party': the
    baseline's party}, after storing extra reports"""
    process = subprocess.run([PYTHON, '-c', PREFILL, name, str(rounds),
            str(extra)], env={**env, 'TRYTOND_CONFIG': conf},
        capture_output=True, text=True)
    if process.returncode:
        sys.exit('prefill failed:\n' + process.stderr[-3000:])
    return json.loads(process.stdout.strip().splitlines()[-1])


def form_fields(call, model):
    """The fields sao reads to open a record of model in its form view
    (call(method, *params) answers over JSON-RPC)"""
    from trytond.modules.tipline.tests.tools import form_fields
    return form_fields(lambda method, params: call(method, *params), model)


def moderate(call, report_id, party_id, i, report_fields, party_fields,
        timed):
    """One round of the moderator's calls, each call's duration in
    timed[label] (or its statements, when call counts them)"""
    def timing(label, method, *params):
        start = time.perf_counter()
        result = call(method, *params)
        timed.setdefault(label, []).append(time.perf_counter() - start)
        return result
    button_context = {'_timestamp': {}}
    timing('bare write', 'model.party.party.write',
        [party_id], {'name': 'Bench Party %d' % i}, {})
    timing('save severity', 'model.tipline.report.write',
        [report_id], {'severity_assessment': 'high'}, {})
    timing('triage', 'model.tipline.report.triage',
        [report_id], button_context)
    timing('bare read', 'model.party.party.read',
        [party_id], party_fields, {})
    timing('form read', 'model.tipline.report.read',
        [report_id], report_fields, {})
    timing('bare write 2', 'model.party.party.write',
        [party_id], {'name': 'Bench Party %d again' % i}, {})
    timing('save outcome', 'model.tipline.report.write',
        [report_id], {'outcome': 'upheld', 'truthfulness': 'confirmed'}, {})
    timing('resolve', 'model.tipline.report.resolve',
        [report_id], button_context)
    state, = call('model.tipline.report.read', [report_id], ['state'], {})
    assert state['state'] == 'resolved', state


def latency(url, name, reports, party_id):
    client = Client(url, name)
    user_id, session = client.call('common.db.login', MODERATOR,
        {'password': MODERATOR_PASSWORD}, 'en')[:2]
    client.auth = 'Session ' + base64.b64encode(
        ('%s:%s:%s' % (MODERATOR, user_id, session)).encode()).decode()
    report_fields = form_fields(client.call, 'tipline.report')
    party_fields = form_fields(client.call, 'party.party')
    timed = {}
    for i, report_id in enumerate(reports):
        moderate(client.call, report_id, party_id, i, report_fields,
            party_fields, timed if i >= WARM else {})
    timed['bare write'] += timed.pop('bare write 2')
    return timed


COUNTER = IN_PROCESS + """
reports, party = json.loads(sys.argv[2])
sys.path.insert(0, sys.argv[3])
from button_bench import moderate, form_fields
uid, session = call('common.db.login', 'moderator',
    {'password': 'moderate-demo-1'}, 'en')[:2]
auth = 'Session ' + base64.b64encode(
    ('moderator:%s:%s' % (uid, session)).encode()).decode()
def call_as(method, *params):
    return call(method, *params, auth=auth)
report_fields = form_fields(call_as, 'tipline.report')
party_fields = form_fields(call_as, 'party.party')
def counted(method, *params):
    count[0] = 0
    result = call_as(method, *params)
    counts.append(count[0])
    return result
timed = {}
for i, report in enumerate(reports):
    counts = []
    moderate(counted, report, party, i, report_fields, party_fields, {})
labels = ['bare write', 'save severity', 'triage', 'bare read', 'form read',
    'bare write 2', 'save outcome', 'resolve']
print(json.dumps(dict(zip(labels, counts))))
"""


def statements(name, env, conf, reports, party_id):
    "Statements of each call of the last round (caches warm from the others)"
    process = subprocess.run([PYTHON, '-c', COUNTER, name,
            json.dumps([reports, party_id]), os.path.dirname(os.path.abspath(__file__))],
        env={**env, 'TRYTOND_CONFIG': conf}, capture_output=True, text=True)
    if process.returncode:
        sys.exit('counting failed:\n' + process.stderr[-3000:])
    return json.loads(process.stdout.strip().splitlines()[-1])


def run(backend, rounds, extra, port, name):
    work = tempfile.mkdtemp(prefix='button-bench-')
    try:
        name, env, conf = create_database(backend, work, name)
        filled = prefill(name, env, conf, WARM + rounds + 3, extra)
        reports, party_id = filled['reports'], filled['party']
        with serve(name, env, conf, port) as url:
            timed = latency(url, name, reports[:WARM + rounds], party_id)
        counts = statements(name, env, conf, reports[WARM + rounds:],
            party_id)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if backend == 'postgresql':
            subprocess.run(['dropdb', '-h', '127.0.0.1', '-U', 'postgres',
                    '--if-exists', name])
    print('\n%s, %d stored reports more than the demo, %d interleaved '
        'rounds, one trytond process' % (backend, extra, rounds))
    print('  %-40s %8s %8s %6s %6s' % (
            'JSON-RPC call', 'p50 ms', 'p90 ms', 'ratio', 'SQL'))
    for label, base in (
            ('bare write', None),
            ('save severity', 'bare write'),
            ('triage', 'bare write'),
            ('save outcome', 'bare write'),
            ('resolve', 'bare write'),
            ('bare read', None),
            ('form read', 'bare read')):
        values = timed[label]
        ratio = ('%.2fx' % (statistics.median(values)
                / statistics.median(timed[base])) if base else '')
        print('  %-40s %8.1f %8.1f %6s %6d' % (
                {'bare write': 'party.party.write (baseline)',
                    'bare read': 'party.party.read, form (baseline)',
                    'form read': 'tipline.report.read, form',
                    'triage': 'Triage button',
                    'resolve': 'Resolve button',
                    'save severity': 'write severity (before Triage)',
                    'save outcome': 'write outcome (before Resolve)',
                    }[label], ms(values), ms(values, 90), ratio,
                counts[label]))
    print('  goal: Triage, Resolve <= 1.5x a bare write; form <= 1.5x a '
        'bare read (p50)')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--rounds', type=int, default=30)
    parser.add_argument('--reports', type=int, default=0,
        help="store this many more reports before measuring")
    parser.add_argument('--backend', default='both',
        choices=['sqlite', 'postgresql', 'both'])
    parser.add_argument('--port', type=int, default=8071)
    parser.add_argument('--name', default='button_bench',
        help="the database's name (PostgreSQL: a prefix)")
    args = parser.parse_args()
    backends = (['sqlite', 'postgresql'] if args.backend == 'both'
        else [args.backend])
    for backend in backends:
        run(backend, args.rounds, args.reports, args.port, args.name)


if __name__ == '__main__':
    sys.exit(main())
