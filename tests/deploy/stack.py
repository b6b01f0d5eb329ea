"""The scale-out shape as processes, for the deployment tests and the load
benchmark: PostgreSQL (the server at 127.0.0.1:5432, else a throwaway
cluster), a configuration written from manifests/trytond-postgresql.conf, an
SMTP sink, gunicorn serving trytond.application:app, trytond-cron and
trytond-worker, all with manifests/logging.conf, and a small JSON-RPC
client. Every process it starts, it stops by its id."""
import base64
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__))))
BIN = os.path.join(ROOT, '.venv', 'bin')
LOGGING_CONF = os.path.join(ROOT, 'manifests', 'logging.conf')
GUNICORN_CONF = os.path.join(ROOT, 'manifests', 'gunicorn.conf.py')
PG_MANIFEST = os.path.join(ROOT, 'manifests', 'trytond-postgresql.conf')


def run(*argv, **kwargs):
    kwargs.setdefault('check', True)
    return subprocess.run(argv, cwd=ROOT, **kwargs)


def postgresql(state_dir, throwaway_port):
    """(port, stop): the running server at 127.0.0.1:5432 when it answers,
    else a throwaway cluster in state_dir on throwaway_port"""
    if run('pg_isready', '-q', '-h', '127.0.0.1', '-p', '5432',
            check=False).returncode == 0:
        return 5432, lambda: None
    pg_dir = os.path.join(state_dir, 'pg')
    run('scripts/pg-throwaway.sh', 'start', pg_dir, str(throwaway_port))
    return throwaway_port, lambda: run(
        'scripts/pg-throwaway.sh', 'stop', pg_dir, check=False)


def psql(port, sql, database='postgres'):
    return run('psql', '-h', '127.0.0.1', '-p', str(port), '-U', 'postgres',
        '-d', database, '-Atqc', sql, capture_output=True,
        text=True).stdout.strip()


def database_exists(port, name):
    return psql(port, "SELECT 1 FROM pg_database WHERE datname = '%s'"
        % name.replace("'", "''")) == '1'


def drop_database(port, name):
    run('dropdb', '-h', '127.0.0.1', '-p', str(port), '-U', 'postgres',
        '--if-exists', '--force', name, env={**os.environ,
            'PGOPTIONS': '-c client_min_messages=warning'})


def write_conf(path, pg_port, key_file, smtp_port=25, web_port=8000,
        **settings):
    """The shipped PostgreSQL manifest with this machine's values; settings
    are 'section.option' = value"""
    values = {
        'database.uri': 'postgresql://postgres@127.0.0.1:%d/' % pg_port,
        'tipline.key_file': key_file,
        'email.uri': 'smtp://127.0.0.1:%d' % smtp_port,
        'web.listen': '127.0.0.1:%d' % web_port,
        'web.root': os.path.join(ROOT, 'var', 'sao', 'package'),
        # Clients reach gunicorn directly, without nginx.
        'web.num_proxies': '0',
        **settings}
    run(os.path.join(BIN, 'python'), 'scripts/trytond-conf.py', path,
        PG_MANIFEST, *('%s=%s' % item for item in values.items()))
    return path


def create_database(state_dir, name, conf, log):
    "scripts/create_database.sh: the module and the demo data"
    with open(log, 'w') as out:
        result = run('scripts/create_database.sh', state_dir, name, conf,
            stdout=out, stderr=subprocess.STDOUT, check=False)
    if result.returncode:
        raise RuntimeError('create_database.sh failed; see %s' % log)


class Processes:
    "Processes started here, stopped here by their id"

    def __init__(self, log_dir):
        self.log_dir = log_dir
        self.procs = {}
        os.makedirs(log_dir, exist_ok=True)

    def log(self, name):
        return os.path.join(self.log_dir, name + '.log')

    def start(self, name, argv, env=None):
        out = open(self.log(name), 'w')
        # Its own process group, which holds the process pools of
        # trytond-cron and trytond-worker too.
        self.procs[name] = subprocess.Popen(argv, cwd=ROOT, stdout=out,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {})}, start_new_session=True)
        out.close()
        return self.procs[name]

    def stop(self, name, timeout=20):
        """Stop the process and its group; gunicorn with QUIT, its quick
        shutdown (TERM waits for long-polling requests)"""
        proc = self.procs.pop(name, None)
        if proc is None:
            return
        if proc.poll() is None:
            if name.startswith('gunicorn'):
                proc.send_signal(signal.SIGQUIT)
            else:
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()

    def stop_all(self):
        for name in list(self.procs):
            self.stop(name)

    def check_alive(self):
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise RuntimeError('%s exited with %s; see %s' % (
                        name, proc.returncode, self.log(name)))

    def smtp_sink(self, port, maildir=None):
        "aiosmtpd: into a maildir, or discarding"
        if maildir:
            for sub in ('cur', 'new', 'tmp'):
                os.makedirs(os.path.join(maildir, sub), exist_ok=True)
            handler = ['-c', 'aiosmtpd.handlers.Mailbox', maildir]
        else:
            handler = ['-c', 'aiosmtpd.handlers.Sink']
        return self.start('smtp', [os.path.join(BIN, 'python'), '-m',
                'aiosmtpd', '-n', '-l', '127.0.0.1:%d' % port] + handler)

    def gunicorn(self, conf, database, port, workers, name='gunicorn',
            logging_conf=LOGGING_CONF, extra_env=None):
        env = {'TRYTOND_CONFIG': conf, 'TRYTOND_DATABASE_NAMES': database,
            'TIPLINE_BIND': '127.0.0.1:%d' % port}
        if logging_conf:
            env['TRYTOND_LOGGING_CONFIG'] = logging_conf
        env.update(extra_env or {})
        return self.start(name, [os.path.join(BIN, 'gunicorn'), '-c',
                GUNICORN_CONF, '--workers', str(workers)], env=env)

    def trytond(self, command, conf, database, name=None, *args):
        "trytond, trytond-cron or trytond-worker with --logconf"
        return self.start(name or command, [os.path.join(BIN, command),
                '-c', conf, '-d', database, '--logconf', LOGGING_CONF]
            + list(args))


    def tipline_worker(self, conf, database, name='tipline-worker',
            restart=True):
        """tipline-worker with --logconf; started again when it exits with
        75 (its connection was lost), as systemd's Restart=always does"""
        argv = [os.path.join(BIN, 'python'), '-m',
            'trytond.modules.tipline.worker', '-c', conf, '-d', database,
            '--logconf', LOGGING_CONF]
        if restart:
            argv = ['bash', '-c',
                'while "$@"; [ $? -eq 75 ]; do sleep 1; done',
                'supervise'] + argv
        return self.start(name, argv)


class RPCError(Exception):
    pass


class Client:
    "JSON-RPC as sao speaks it: POST /DB/rpc/ with a Session header"

    def __init__(self, url, database):
        self.url = url.rstrip('/')
        self.database = database
        self.auth = None
        self.context = {}

    def call(self, method, *params, timeout=60):
        request = urllib.request.Request(
            '%s/%s/rpc/' % (self.url, self.database),
            data=json.dumps({'id': 1, 'method': method,
                    'params': list(params)}).encode(),
            headers={'Content-Type': 'application/json'})
        if self.auth:
            request.add_header('Authorization', self.auth)
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer = json.loads(response.read())
        if answer.get('error'):
            raise RPCError(answer['error'])
        return answer['result']

    def login(self, login, password):
        user_id, session = self.call(
            'common.db.login', login, {'password': password}, 'en')[:2]
        self.auth = 'Session ' + base64.b64encode(
            ('%s:%s:%s' % (login, user_id, session)).encode()).decode()
        self.context = self.call('model.res.user.get_preferences', True, {})
        return user_id


def file_report(client, party_name, description, category_code='fraud',
        anonymous=False, evidence=None):
    """File a report through the Report wizard, as sao does; evidence is
    (file name, bytes). The done step's values (tracking number, ...)"""
    party, = client.call('model.party.party.search',
        [('name', '=', party_name)], 0, 1, None, client.context)
    category, = client.call('model.tipline.category.search',
        [('code', '=', category_code)], 0, 1, None, client.context)
    context = dict(client.context, active_model='party.party',
        active_id=party, active_ids=[party])
    values = {'category': str(category), 'description': description,
        'anonymous': anonymous}
    if evidence:
        values['evidence_name'] = evidence[0]
        values['evidence'] = {'__class__': 'bytes',
            'base64': base64.b64encode(evidence[1]).decode()}
    wizard, start, _ = client.call('wizard.tipline.report.submit.create',
        context)
    client.call('wizard.tipline.report.submit.execute', wizard, {}, start,
        context)
    done = client.call('wizard.tipline.report.submit.execute', wizard,
        {start: values}, 'submit', context)
    client.call('wizard.tipline.report.submit.delete', wizard, context)
    return done['view']['defaults']


def wait_for_login(url, database, login, password, procs, timeout=180):
    "A Client logged in once a worker answers, or RuntimeError"
    deadline = time.monotonic() + timeout
    while True:
        procs.check_alive()
        client = Client(url, database)
        try:
            client.login(login, password)
            return client
        except urllib.error.HTTPError:
            # Workers load the database before they listen: an HTTP error
            # is the answer (404: the database is not served).
            raise
        except (urllib.error.URLError, ConnectionError, OSError):
            if time.monotonic() > deadline:
                raise RuntimeError('no answer from %s in %d s' % (
                        url, timeout))
            time.sleep(0.5)


def worker_pids(parent):
    "The pids of a process's children (a gunicorn master's workers)"
    out = subprocess.run(['pgrep', '-P', str(parent)],
        capture_output=True, text=True).stdout
    return [int(pid) for pid in out.split()]


def kill(pid, sig=signal.SIGKILL):
    os.kill(pid, sig)
