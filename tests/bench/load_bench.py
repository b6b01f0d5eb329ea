"""Load benchmark of the scale-out shape: gunicorn with 1, 2 and 4 worker
processes serving trytond.application:app, trytond-cron and trytond-worker
on one PostgreSQL database, driven by locust (as a library, headless) over
loopback JSON-RPC and HTTP, the way sao and a browser do.

Mixed traffic, each client in a closed loop (it sends its next request when
the last one is answered):
  - reporters filing named and anonymous reports through the Report wizard
    (create, open, submit, delete: one action);
  - moderators opening the queue's Open tab (first page and count), reading
    a report, triaging and resolving it;
  - anonymous reporters reading the status page with tracking number and
    receipt;
  - beside them, bare Tryton operations on party.party (create, search_read,
    read, write) on the same stack.
It prints throughput and p50/p99 for each action, per worker count. It is a
benchmark, not a test. Bounded: about (startup + warm-up + --duration) per
worker count, plus a few minutes to create the database scale_bench on the
first run (kept for later runs; --recreate makes it again).

    .venv/bin/pip install -r requirements-bench.txt   # locust
    .venv/bin/python tests/bench/load_bench.py [--workers 1 2 4] [--duration 30]
"""
import locust  # noqa: F401  (gevent's monkey patching comes first)

import argparse
import base64
import collections
import os
import random
import sys
import time
import urllib.error

import gevent
import requests
from locust import User, constant, events, task
from locust.env import Environment
from locust.exception import RescheduleTask

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
                os.path.abspath(__file__))), 'deploy'))
import stack  # noqa: E402

DATABASE = 'scale_bench'
REPORTERS = [('reporter', 'report-demo-1'), ('reporter2', 'report-demo-2')]
MODERATOR = ('moderator', 'moderate-demo-1')
ADMIN = ('admin', 'tipline-admin')
OPEN = [('state', 'in', ['submitted', 'acknowledged', 'triaged',
            'investigating'])]
QUEUE_FIELDS = ['tracking_number', 'category', 'target_label', 'state',
    'assigned_to', 'resolve_by', 'time_left', 'overdue', 'near_due',
    'statutory_overdue']
REPORT_FIELDS = QUEUE_FIELDS + ['description', 'reporter_display', 'history',
    'severity_assessment', 'truthfulness', 'outcome', 'reporter_message',
    'internal_notes', 'evidence_notes', 'submitted_at', 'acknowledged_at']
WORDS = ('invoice supplier bank account payment changed transfer abroad '
    'manager approved contract discount advert pasted notes customer '
    'complaint harassment message email phone leaked spreadsheet salary '
    'address password shared vendor refund duplicate fake profile review '
    'competitor price threatened meeting warehouse delivery stolen laptop '
    'records deleted audit overtime cash receipt signature forged').split()


class Shared:
    "What clients hand each other: filed reports, receipts, parties"
    parties = []
    categories = []
    to_moderate = collections.deque()
    receipts = collections.deque(maxlen=500)


def describe():
    return ' '.join(random.choices(WORDS, k=random.randint(20, 40))) + '.'


class RPCUser(User):
    """A client with its own HTTP session; each action (one or several
    requests) is reported to locust as one request named after it"""
    abstract = True
    wait_time = constant(0)
    credentials = None

    def on_start(self):
        self.session = requests.Session()
        self.auth = None
        self.context = {}
        if self.credentials:
            login, password = self.credentials
            with self.action('login'):
                user_id, session = self.rpc('common.db.login', login,
                    {'password': password}, 'en')[:2]
                self.auth = 'Session ' + base64.b64encode(
                    ('%s:%s:%s' % (login, user_id, session)).encode()
                    ).decode()
                self.context = self.rpc(
                    'model.res.user.get_preferences', True, {})

    def rpc(self, method, *params):
        headers = {'Authorization': self.auth} if self.auth else {}
        response = self.session.post(
            '%s/%s/rpc/' % (self.host, DATABASE), headers=headers,
            json={'id': 1, 'method': method, 'params': list(params)},
            timeout=120)
        response.raise_for_status()
        answer = response.json()
        if answer.get('error'):
            raise stack.RPCError(str(answer['error'])[:300])
        return answer['result']

    def action(self, name):
        "with self.action(name): time the block as one locust request"
        return _Timed(self, name)


class _Timed:
    def __init__(self, user, name):
        self.user, self.name = user, name

    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, kind, error, traceback):
        if isinstance(error, gevent.GreenletExit):
            return False
        self.user.environment.events.request.fire(
            request_type='RPC', name=self.name, response_length=0,
            response_time=(time.perf_counter() - self.start) * 1000,
            exception=error, context={})
        if error is not None:
            # Counted as a failure; the client goes on with its next task.
            raise RescheduleTask() from error


class Reporter(RPCUser):
    abstract = True
    anonymous = False

    def on_start(self):
        self.credentials = random.choice(REPORTERS)
        super().on_start()

    @task
    def file(self):
        party = random.choice(Shared.parties)
        context = dict(self.context, active_model='party.party',
            active_id=party, active_ids=[party])
        name = 'file %s report' % ('anonymous' if self.anonymous else 'named')
        with self.action(name):
            wizard_id, start, _ = self.rpc(
                'wizard.tipline.report.submit.create', context)
            self.rpc('wizard.tipline.report.submit.execute', wizard_id, {},
                start, context)
            done = self.rpc('wizard.tipline.report.submit.execute',
                wizard_id, {start: {
                        'category': str(random.choice(Shared.categories)),
                        'description': describe(),
                        'anonymous': self.anonymous,
                        'evidence': None, 'evidence_name': None}},
                'submit', context)
            self.rpc('wizard.tipline.report.submit.delete', wizard_id,
                context)
        values = done['view']['defaults']
        Shared.to_moderate.append(values['tracking_number'])
        if self.anonymous:
            Shared.receipts.append(
                (values['tracking_number'], values['receipt']))


class NamedReporter(Reporter):
    fixed_count = 3


class AnonymousReporter(Reporter):
    fixed_count = 2
    anonymous = True


class StatusReader(RPCUser):
    "An anonymous reporter reading the status page: no login"
    fixed_count = 1

    @task
    def status(self):
        if not Shared.receipts:
            gevent.sleep(0.2)
            return
        number, receipt = random.choice(Shared.receipts)
        with self.action('status page'):
            response = self.session.post(
                '%s/%s/tipline/status' % (self.host, DATABASE),
                data={'number': number, 'receipt': receipt}, timeout=60)
            response.raise_for_status()
            if number not in response.text:
                raise AssertionError('the status page did not open')


class Moderator(RPCUser):
    fixed_count = 3
    credentials = MODERATOR

    @task
    def work(self):
        with self.action('queue: Open tab'):
            self.rpc('model.tipline.report.search_read', OPEN, 0, 50, None,
                QUEUE_FIELDS, self.context)
            self.rpc('model.tipline.report.search_count', OPEN, 0, 1000,
                self.context)
        if not Shared.to_moderate:
            return
        number = Shared.to_moderate.popleft()
        with self.action('read report'):
            report_id, = self.rpc('model.tipline.report.search',
                [('tracking_number', '=', number)], 0, 1, None, self.context)
            report, = self.rpc('model.tipline.report.read', [report_id],
                REPORT_FIELDS, self.context)
        if report['state'] != 'acknowledged':
            return
        with self.action('triage'):
            self.rpc('model.tipline.report.write', [report_id],
                {'severity_assessment': 'low'}, self.context)
            self.rpc('model.tipline.report.triage', [report_id],
                self.context)
        with self.action('investigate + resolve'):
            self.rpc('model.tipline.report.investigate', [report_id],
                self.context)
            self.rpc('model.tipline.report.write', [report_id], {
                    'truthfulness': 'unconfirmed', 'outcome': 'not_upheld',
                    'reporter_message': 'Checked; no breach found.'},
                self.context)
            self.rpc('model.tipline.report.resolve', [report_id],
                self.context)


class BareTryton(RPCUser):
    "party.party through the same stack, for comparison"
    fixed_count = 3
    credentials = ADMIN

    @task
    def parties(self):
        with self.action('party create'):
            party_id, = self.rpc('model.party.party.create',
                [{'name': 'Load %s' % random.randrange(10 ** 9)}],
                self.context)
        with self.action('party search_read'):
            self.rpc('model.party.party.search_read',
                [('name', 'ilike', 'Load 1%')], 0, 50, None,
                ['name', 'code', 'lang'], self.context)
        with self.action('party read'):
            self.rpc('model.party.party.read', [party_id],
                ['name', 'code', 'lang', 'addresses', 'contact_mechanisms'],
                self.context)
        with self.action('party write'):
            self.rpc('model.party.party.write', [party_id],
                {'name': 'Load %s' % random.randrange(10 ** 9)},
                self.context)


USERS = [NamedReporter, AnonymousReporter, StatusReader, Moderator,
    BareTryton]


def prepare(url):
    "Parties to report and the categories, as the administrator"
    admin = stack.Client(url, DATABASE)
    admin.login(*ADMIN)
    existing = admin.call('model.party.party.search',
        [('name', 'like', 'Bench Target %')], 0, None, None, admin.context)
    if len(existing) < 200:
        existing += admin.call('model.party.party.create',
            [{'name': 'Bench Target %d' % i} for i in range(200)],
            admin.context)
    Shared.parties = existing
    Shared.categories = admin.call('model.tipline.category.search', [],
        0, None, None, admin.context)


TICKS = os.sysconf('SC_CLK_TCK')


def cpu_seconds(pids):
    "{pid: user + system CPU seconds} of the processes still there"
    seconds = {}
    for pid in pids:
        try:
            with open('/proc/%d/stat' % pid) as file:
                fields = file.read().rsplit(')', 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        seconds[pid] = (int(fields[11]) + int(fields[12])) / TICKS
    return seconds


def stack_pids(procs, pg_port):
    "Where CPU goes: the web workers, PostgreSQL's backends, cron + queue"
    groups = {'gunicorn workers': stack.worker_pids(
            procs.procs['gunicorn'].pid)}
    groups['postgresql backends'] = [int(pid) for pid in stack.psql(pg_port,
            "SELECT pid FROM pg_stat_activity WHERE datname = '%s'"
            % DATABASE).split()]
    groups['cron + queue worker'] = []
    for name in ('trytond-cron', 'trytond-worker'):
        pid = procs.procs[name].pid
        groups['cron + queue worker'] += [pid] + stack.worker_pids(pid)
    groups['load generator'] = [os.getpid()]
    return groups


def used_cpu(before, after):
    "CPU seconds used between two cpu_seconds() samples"
    return sum(after[pid] - before.get(pid, 0) for pid in after)


def measure(url, duration, warmup, procs, pg_port):
    env = Environment(user_classes=[u for u in USERS if u.fixed_count],
        host=url, events=events)
    runner = env.create_local_runner()
    runner.start(sum(u.fixed_count for u in USERS), spawn_rate=100)
    gevent.sleep(warmup)
    env.stats.reset_all()
    groups = stack_pids(procs, pg_port)
    before = {name: cpu_seconds(pids) for name, pids in groups.items()}
    start = time.monotonic()
    gevent.sleep(duration)
    elapsed = time.monotonic() - start
    groups = stack_pids(procs, pg_port)
    cpu = {name: used_cpu(before[name], cpu_seconds(pids)) / elapsed
        for name, pids in groups.items()}
    cpu['load average'] = os.getloadavg()[0]
    rows = []
    for (name, _), entry in sorted(env.stats.entries.items()):
        rows.append((name, entry.num_requests, entry.num_failures,
                entry.num_requests / elapsed,
                entry.get_response_time_percentile(0.5),
                entry.get_response_time_percentile(0.99)))
    errors = [(e.name, e.occurrences, str(e.error)[:160])
        for e in env.stats.errors.values()]
    runner.quit()
    return rows, errors, cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--workers', type=int, nargs='+', default=[1, 2, 4])
    parser.add_argument('--duration', type=float, default=30,
        help='seconds measured per worker count')
    parser.add_argument('--warmup', type=float, default=20,
        help='seconds of load before measuring, so every worker process '
        'has loaded its caches')
    parser.add_argument('--port', type=int, default=18840,
        help='gunicorn; the SMTP sink takes port + 1, a throwaway '
        'PostgreSQL port + 2')
    parser.add_argument('--recreate', action='store_true')
    parser.add_argument('--clients', nargs='+', default=[],
        metavar='CLASS=N', help='change the mix, e.g. NamedReporter=4 '
        'BareTryton=0 (classes: %s)' % ' '.join(u.__name__ for u in USERS))
    args = parser.parse_args()
    for setting in args.clients:
        name, _, count = setting.partition('=')
        user, = [u for u in USERS if u.__name__ == name]
        user.fixed_count = int(count)

    state = os.path.join(stack.ROOT, 'var', 'bench')
    os.makedirs(state, exist_ok=True)
    procs = stack.Processes(os.path.join(state, 'log'))
    pg_port, stop_pg = stack.postgresql(state, args.port + 2)
    url = 'http://127.0.0.1:%d' % args.port
    results = {}
    try:
        conf = stack.write_conf(os.path.join(state, 'trytond.conf'), pg_port,
            os.path.join(state, 'tipline.key'), smtp_port=args.port + 1,
            web_port=args.port)
        procs.smtp_sink(args.port + 1)
        if args.recreate or not stack.database_exists(pg_port, DATABASE):
            print('creating the database %s (a few minutes)' % DATABASE,
                flush=True)
            stack.create_database(state, DATABASE, conf,
                os.path.join(state, 'create.log'))
        procs.trytond('trytond-cron', conf, DATABASE)
        procs.trytond('trytond-worker', conf, DATABASE)
        for workers in args.workers:
            gunicorn = procs.gunicorn(conf, DATABASE, args.port, workers)
            stack.wait_for_login(url, DATABASE, *ADMIN, procs)
            prepare(url)
            print('%d worker process(es): %d clients for %g s'
                % (workers, sum(u.fixed_count for u in USERS),
                    args.duration), flush=True)
            results[workers] = measure(url, args.duration, args.warmup,
                procs, pg_port)
            procs.stop('gunicorn')
            del gunicorn
    finally:
        procs.stop_all()
        stop_pg()
    report(results)


def report(results):
    print()
    print('%-26s %7s %9s %9s %9s %6s' % (
            'action', 'workers', 'per s', 'p50 ms', 'p99 ms', 'fails'))
    names = sorted({row[0] for rows, _, _ in results.values()
            for row in rows} - {'login'})
    for name in names:
        for workers, (rows, _, _) in results.items():
            for row in rows:
                if row[0] == name:
                    print('%-26s %7d %9.2f %9.0f %9.0f %6d' % (
                            name, workers, row[3], row[4], row[5], row[2]))
    print()
    print('CPU used, in cores (CPU seconds per second), on %d cores:'
        % os.cpu_count())
    for workers, (rows, errors, cpu) in results.items():
        total = sum(row[3] for row in rows if row[0] != 'login')
        filings = sum(row[3] for row in rows if row[0].startswith('file '))
        print('%d worker(s): %.1f actions/s in all, %.2f filings/s; %s' % (
                workers, total, filings, ', '.join('%s %.2f' % item
                    for item in cpu.items())))
        for name, count, error in errors:
            print('   %dx %s: %s' % (count, name, error))


if __name__ == '__main__':
    main()
