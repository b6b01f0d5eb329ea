"""A data key rotated while two web worker processes run (two gunicorn
instances of one worker each, on one PostgreSQL database) is used by the
other process without a restart, within [cache] clean_timeout, and each
process reads what the other wrote under either key."""
import configparser
import re
import subprocess
import time
import os

import stack

TEXT = 'Rotation check %d: the supplier asked to be paid into a new account.'


def key_id(site, number):
    """The id of the keyset key that wraps the report's own data key
    (0x01 | id): the report's values are under that data key"""
    return int(stack.psql(site.pg_port,
            "SELECT encode(substring(data_key_enc FROM 2 FOR 4), 'hex') "
            "FROM tipline_report WHERE tracking_number = '%s'" % number,
            site.database), 16)


def description(client, number):
    report, = client.call('model.tipline.report.search_read',
        [('tracking_number', '=', number)], 0, 1, None, ['description'],
        client.context)
    return report['description']


def test_rotated_key_reaches_the_other_running_worker(site, procs):
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(site.conf)
    clean_timeout = parser.getint('cache', 'clean_timeout')
    url_b = 'http://127.0.0.1:%d' % (site.web_port + 3)
    procs.gunicorn(site.conf, site.database, site.web_port, 1,
        name='gunicorn-a')
    procs.gunicorn(site.conf, site.database, site.web_port + 3, 1,
        name='gunicorn-b')
    moderator_a = stack.wait_for_login(site.url, site.database,
        'moderator', 'moderate-demo-1', procs)
    reporter_b = stack.wait_for_login(url_b, site.database,
        'reporter2', 'report-demo-2', procs)
    a_pid, = stack.worker_pids(procs.procs['gunicorn-a'].pid)
    b_pid, = stack.worker_pids(procs.procs['gunicorn-b'].pid)
    assert a_pid != b_pid

    # B encrypts (and caches its cipher) under the current primary key.
    before = stack.file_report(reporter_b, 'Northwind Traders',
        TEXT % 0)['tracking_number']
    old_key = key_id(site, before)
    assert description(moderator_a, before) == TEXT % 0

    rotated = subprocess.run([os.path.join(stack.ROOT, 'scripts',
                'tipline-keys'), 'rotate', '-c', site.conf, '-d',
            site.database], cwd=stack.ROOT, capture_output=True, text=True)
    assert rotated.returncode == 0, rotated.stdout + rotated.stderr
    new_key = int(re.search(r'Key (\d+) is the new primary key',
            rotated.stdout).group(1))
    assert new_key != old_key
    rotated_at = time.monotonic()

    # B, still running, takes the new key within clean_timeout.
    attempt = 0
    while True:
        attempt += 1
        after = stack.file_report(reporter_b, 'Acme Office Furniture',
            TEXT % attempt)['tracking_number']
        if key_id(site, after) == new_key:
            break
        assert key_id(site, after) == old_key
        assert time.monotonic() - rotated_at < clean_timeout + 15, (
            'worker B still encrypts under key %d' % old_key)
        time.sleep(2)
    # A, still running, reads both: the new key's value and the old one.
    assert description(moderator_a, after) == TEXT % attempt
    assert description(moderator_a, before) == TEXT % 0
    # Neither worker was restarted.
    assert stack.worker_pids(procs.procs['gunicorn-a'].pid) == [a_pid]
    assert stack.worker_pids(procs.procs['gunicorn-b'].pid) == [b_pid]
