"""Filing against bare Tryton, on the same server: latency over JSON-RPC and
SQL statements, on SQLite and PostgreSQL.

    .venv/bin/python tests/bench/filing_bench.py [--rounds 40]
        [--backend sqlite|postgresql|both]

For each backend it creates a demo database (scripts/create_database.sh),
serves it with a real `trytond` process and, as the demo reporter, times
interleaved calls: a bare `party.party.create` against the Report wizard's
submit call (and the whole wizard: create, open, submit, delete).  It then
counts the SQL statements of one bare create and one submit call, the
application served in process with the backend's cursor counting what it
executes.  It prints the figures beside their baselines and the ratios that
the goals bound (submit <= 1.5x the bare create, statements <= 1.5x).
This is a benchmark that prints figures, not a test.
"""
import argparse
import base64
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__))))
PYTHON = os.path.join(ROOT, '.venv', 'bin', 'python')
LOGIN, PASSWORD = 'reporter', 'report-demo-1'
DESCRIPTION = ("Invoices for deliveries that never arrived, sent by this "
    "supplier every month since spring (round %d).")


def create_database(backend, work, name='filing_bench', exact=False):
    """(name, environment, configuration file) of a fresh demo database
    (on PostgreSQL, name is a prefix unless exact)"""
    env = dict(os.environ)
    env['TIPLINE_KEY_FILE'] = os.path.join(work, 'tipline.key')
    conf = os.path.join(ROOT, 'manifests', 'trytond-sqlite.conf')
    if backend == 'postgresql':
        if not exact:
            name = '%s_%d' % (name, os.getpid())
        conf = os.path.join(work, 'postgresql.conf')
        with open(conf, 'w') as file:
            file.write('[database]\nuri = postgresql://postgres@127.0.0.1'
                ':5432/\n[session]\ntimeout = 3600\n')
    subprocess.run([os.path.join(ROOT, 'scripts', 'create_database.sh'),
            work, name, conf], check=True, env=env,
        stdout=subprocess.DEVNULL)
    env['TRYTOND_DATABASE__PATH'] = work
    env['TRYTOND_TIPLINE__KEY_FILE'] = env['TIPLINE_KEY_FILE']
    return name, env, conf


class Client:
    "JSON-RPC over HTTP, as the web client calls"

    def __init__(self, url, database):
        self.url = '%s/%s/rpc/' % (url, database)
        self.auth = None

    def call(self, method, *params):
        request = urllib.request.Request(self.url, json.dumps({
                    'id': 0, 'method': method, 'params': list(params)}
                ).encode(), {'Content-Type': 'application/json'})
        if self.auth:
            request.add_header('Authorization', self.auth)
        with urllib.request.urlopen(request) as response:
            answer = json.loads(response.read())
        if 'error' in answer:
            raise RuntimeError(answer['error'])
        return answer['result']

    def login(self):
        user_id, session = self.call(
            'common.db.login', LOGIN, {'password': PASSWORD}, 'en')[:2]
        self.auth = 'Session ' + base64.b64encode(
            ('%s:%s:%s' % (LOGIN, user_id, session)).encode()).decode()


def party_create(client, i):
    return client.call('model.party.party.create',
        [{'name': 'Bench Party %d' % i}], {})


def wizard_submit(client, party_id, category_id, i, timed):
    "File through the wizard; the submit call's duration goes to timed"
    context = {'active_model': 'party.party', 'active_id': party_id,
        'active_ids': [party_id]}
    session, _, _ = client.call(
        'wizard.tipline.report.submit.create', context)
    client.call('wizard.tipline.report.submit.execute',
        session, {}, 'start', context)
    start = time.perf_counter()
    client.call('wizard.tipline.report.submit.execute', session,
        {'start': {'category': str(category_id),
                'description': DESCRIPTION % i, 'anonymous': False}},
        'submit', context)
    timed.append(time.perf_counter() - start)
    client.call('wizard.tipline.report.submit.delete', session, context)


@contextlib.contextmanager
def serve(name, env, conf, port):
    log = open(os.path.join(env['TRYTOND_DATABASE__PATH'], 'server.log'), 'w')
    listen = os.path.join(env['TRYTOND_DATABASE__PATH'], 'listen.conf')
    with open(listen, 'w') as file:
        file.write('[web]\nlisten = 127.0.0.1:%d\n' % port)
    server = subprocess.Popen([os.path.join(ROOT, '.venv', 'bin', 'trytond'),
            '-c', conf, listen, '-d', name], env=env, stdout=log,
        stderr=subprocess.STDOUT)
    url = 'http://127.0.0.1:%d' % port
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(url + '/', timeout=2)
                break
            except OSError:
                time.sleep(0.25)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def ids_of(client):
    party, = client.call('model.party.party.search',
        [('name', '=', 'Northwind Traders')], 0, 1, None, {})
    category, = client.call('model.tipline.category.search',
        [('code', '=', 'fraud')], 0, 1, None, {})
    return party, category


def latency(url, name, rounds):
    client = Client(url, name)
    client.login()
    party_id, category_id = ids_of(client)
    for i in range(3):  # warm the caches of both paths
        party_create(client, -i)
        wizard_submit(client, party_id, category_id, -i, [])
    bare, submit, wizard = [], [], []
    for i in range(rounds):
        start = time.perf_counter()
        party_create(client, i)
        bare.append(time.perf_counter() - start)
        start = time.perf_counter()
        wizard_submit(client, party_id, category_id, i, submit)
        wizard.append(time.perf_counter() - start)
    return bare, submit, wizard


# The application served in process, its backend's cursor counting in
# count[0] what it executes, and call(method, *params, auth=None) over
# JSON-RPC; the database's name is the first argument.  button_bench.py
# counts the same way.
IN_PROCESS = """
import base64, json, sys
sys.path.insert(0, BENCH_DIR)  # sql_count
from trytond import backend
from trytond.application import app
from werkzeug.test import Client
from werkzeug.wrappers import Response
name = sys.argv[1]
from trytond.pool import Pool
Pool(name).init()  # as trytond -d does; a lazy first request finds no pool
from sql_count import count_statements
count = count_statements()
client = Client(app, Response)
def call(method, *params, auth=None):
    headers = {'Content-Type': 'application/json'}
    if auth:
        headers['Authorization'] = auth
    answer = json.loads(client.post('/%s/rpc/' % name, headers=headers,
            data=json.dumps({'id': 0, 'method': method,
                    'params': list(params)})).get_data())
    if 'error' in answer:
        raise RuntimeError(answer['error'])
    return answer['result']
""".replace(
    'BENCH_DIR', repr(os.path.dirname(os.path.abspath(__file__))))

COUNTER = IN_PROCESS + """
uid, session = call('common.db.login', 'reporter',
    {'password': 'report-demo-1'}, 'en')[:2]
auth = 'Session ' + base64.b64encode(
    ('reporter:%s:%s' % (uid, session)).encode()).decode()
party, = call('model.party.party.search', [('name', '=', 'Northwind Traders')],
    0, 1, None, {}, auth=auth)
category, = call('model.tipline.category.search', [('code', '=', 'fraud')],
    0, 1, None, {}, auth=auth)
context = {'active_model': 'party.party', 'active_id': party,
    'active_ids': [party]}
def submit(i, anonymous=False):
    wizard, _, _ = call('wizard.tipline.report.submit.create', context,
        auth=auth)
    call('wizard.tipline.report.submit.execute', wizard, {}, 'start',
        context, auth=auth)
    count[0] = 0
    call('wizard.tipline.report.submit.execute', wizard, {'start': {
        'category': str(category), 'anonymous': anonymous,
        'description': 'Counted filing %d: invoices for deliveries that '
        'never arrived, every month.' % i}}, 'submit', context, auth=auth)
    return count[0]
def create(i):
    count[0] = 0
    call('model.party.party.create', [{'name': 'Counted %d' % i}], {},
        auth=auth)
    return count[0]
for i in range(2):  # warm caches as a running server has them
    create(-i), submit(-i)
print(json.dumps({'bare': create(1), 'submit': submit(1),
    'anonymous': submit(2, anonymous=True)}))
"""


def statements(name, env, conf, script=COUNTER, args=()):
    """The JSON the last line of script prints, run in process with name
    and args as its arguments, configured as the served database"""
    process = subprocess.run([PYTHON, '-c', script, name, *args], env={
            **env, 'TRYTOND_CONFIG': conf},
        capture_output=True, text=True)
    if process.returncode:
        sys.exit('counting failed:\n' + process.stderr[-3000:])
    return json.loads(process.stdout.strip().splitlines()[-1])


def ms(values, q=50):
    values = sorted(values)
    return 1000 * values[min(len(values) - 1, int(len(values) * q / 100))]


def run(backend, rounds, port):
    work = tempfile.mkdtemp(prefix='filing-bench-')
    name = None
    try:
        name, env, conf = create_database(backend, work)
        with serve(name, env, conf, port) as url:
            bare, submit, wizard = latency(url, name, rounds)
        counts = statements(name, env, conf)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if backend == 'postgresql' and name:
            subprocess.run(['dropdb', '-h', '127.0.0.1', '-U', 'postgres',
                    '--if-exists', name])
    print('\n%s, %d interleaved rounds, one trytond process' % (
            backend, rounds))
    print('  %-34s %8s %8s' % ('JSON-RPC call', 'p50 ms', 'p90 ms'))
    for label, values in (
            ('party.party.create (baseline)', bare),
            ('Report wizard: submit call', submit),
            ('Report wizard: whole (4 calls)', wizard)):
        print('  %-34s %8.1f %8.1f' % (label, ms(values), ms(values, 90)))
    print('  submit / bare create at p50: %.2fx (goal <= 1.5x)'
        % (statistics.median(submit) / statistics.median(bare)))
    print('  SQL statements: bare create %d, submit %d (%.2fx, goal <= '
        '1.5x), anonymous submit %d' % (counts['bare'], counts['submit'],
            counts['submit'] / counts['bare'], counts['anonymous']))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--rounds', type=int, default=40)
    parser.add_argument('--backend', default='both',
        choices=['sqlite', 'postgresql', 'both'])
    parser.add_argument('--port', type=int, default=8071)
    args = parser.parse_args()
    backends = (['sqlite', 'postgresql'] if args.backend == 'both'
        else [args.backend])
    for backend in backends:
        run(backend, args.rounds, args.port)


if __name__ == '__main__':
    sys.exit(main())
