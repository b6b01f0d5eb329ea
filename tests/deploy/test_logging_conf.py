"""manifests/logging.conf with every process of the scale-out shape on
PostgreSQL, and with SQLite: trytond --logconf, trytond-cron, trytond-worker and gunicorn
(TRYTOND_LOGGING_CONFIG) answer and work, the redaction filter is loaded,
and gunicorn keeps its own error and access lines."""
import os
import re
import time

from tipline_core.log_redaction import REDACTED_REQUEST

import stack

# Text of the demo data's first report: it must never reach a log.
DEMO_TEXT = 'changed last night to an account'


def read(path):
    with open(path) as file:
        return file.read()


def tipline_calls(client):
    "A Tipline RPC whose answer needs the module on the right database"
    reports = client.call('model.tipline.report.search_read', [], 0, None,
        None, ['tracking_number', 'description'], client.context)
    assert reports and all(
        r['tracking_number'].startswith('TL-') for r in reports)
    assert any(DEMO_TEXT in (r['description'] or '') for r in reports)


def wait_for_line(path, pattern, procs, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        procs.check_alive()
        if re.search(pattern, read(path)):
            return
        time.sleep(1)
    raise AssertionError('no %r in %s' % (pattern, path))


def test_trytond_with_logconf_on_postgresql(site, procs):
    "trytond -c CONF --logconf logging.conf answers RPC on PostgreSQL"
    procs.trytond('trytond', site.conf, site.database)
    client = stack.wait_for_login(site.url, site.database,
        'moderator', 'moderate-demo-1', procs)
    tipline_calls(client)
    procs.stop('trytond')
    log = read(procs.log('trytond'))
    assert 'as logging configuration file' in log
    assert REDACTED_REQUEST in log
    assert DEMO_TEXT not in log
    assert 'Traceback' not in log


def test_cron_and_worker_with_logconf_on_postgresql(site, procs):
    "trytond-cron and trytond-worker open the PostgreSQL database and run"
    procs.trytond('trytond-cron', site.conf, site.database)
    procs.trytond('trytond-worker', site.conf, site.database)
    connected = r'connection to "%s" succeeded' % site.database
    wait_for_line(procs.log('trytond-worker'), connected, procs)
    # The cron runner's first round runs the jobs that are due.
    wait_for_line(procs.log('trytond-cron'),
        r'<Cron \d+@%s ' % site.database, procs)
    procs.check_alive()
    procs.stop_all()
    for name in ('trytond-cron', 'trytond-worker'):
        log = read(procs.log(name))
        assert 'as logging configuration file' in log, name
        assert 'Traceback' not in log, name


def test_gunicorn_keeps_its_own_logs(site, procs):
    """gunicorn with two workers and TRYTOND_LOGGING_CONFIG: RPC answers,
    gunicorn's error and access lines stay, the filter redacts"""
    procs.gunicorn(site.conf, site.database, site.web_port, 2,
        name='gunicorn-logging')
    client = stack.wait_for_login(site.url, site.database,
        'moderator', 'moderate-demo-1', procs)
    for _ in range(4):
        tipline_calls(client)
    procs.stop('gunicorn-logging')
    log = read(procs.log('gunicorn-logging'))
    assert re.search(r'INFO gunicorn\.error Booting worker with pid', log)
    access = [line for line in log.splitlines() if 'gunicorn.access' in line]
    assert any('"POST /%s/rpc/" 200' % site.database in line
        for line in access), log[-2000:]
    # The access line names no client address.
    assert not any('127.0.0.1' in line for line in access)
    assert REDACTED_REQUEST in log
    assert DEMO_TEXT not in log
    assert 'Traceback' not in log


def test_logging_conf_on_sqlite(site, procs):
    """The same file with SQLite: trytond --logconf, trytond-cron and
    gunicorn on a database of Tryton's base modules"""
    folder = os.path.join(site.state, 'sqlite')
    os.makedirs(folder, exist_ok=True)
    open(os.path.join(folder, 'base.sqlite'), 'w').close()
    passfile = os.path.join(folder, 'password')
    with open(passfile, 'w') as file:
        file.write('base-admin-1\n')
    conf = os.path.join(folder, 'trytond.conf')
    stack.run(os.path.join(stack.BIN, 'python'), 'scripts/trytond-conf.py',
        conf, os.path.join(stack.ROOT, 'manifests', 'trytond-sqlite.conf'),
        'database.path=' + folder, 'tipline.key_file=' + site.key_file,
        'web.listen=127.0.0.1:%d' % site.web_port)
    stack.run(os.path.join(stack.BIN, 'trytond-admin'), '-c', conf, '-d',
        'base', '--all', '--email', 'admin@example.com',
        env=dict(os.environ, TRYTONPASSFILE=passfile),
        capture_output=True)
    for command in ('trytond', 'gunicorn'):
        if command == 'trytond':
            procs.trytond('trytond', conf, 'base', 'trytond-sqlite')
        else:
            procs.gunicorn(conf, 'base', site.web_port, 2,
                name='gunicorn-sqlite')
        client = stack.wait_for_login(site.url, 'base', 'admin',
            'base-admin-1', procs)
        assert client.call('model.res.user.search_count', [], 0, 100,
            client.context) >= 1
        procs.stop('trytond-sqlite' if command == 'trytond'
            else 'gunicorn-sqlite')
    procs.trytond('trytond-cron', conf, 'base', 'trytond-cron-sqlite')
    wait_for_line(procs.log('trytond-cron-sqlite'), r'<Cron \d+@base ',
        procs)
    procs.stop_all()
    gunicorn = read(procs.log('gunicorn-sqlite'))
    assert 'gunicorn.error Booting worker' in gunicorn
    assert '"POST /base/rpc/" 200' in gunicorn
    for name in ('trytond-sqlite', 'gunicorn-sqlite', 'trytond-cron-sqlite'):
        assert 'Traceback' not in read(procs.log(name)), name
