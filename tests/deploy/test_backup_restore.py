"""The backup and restore drill: pg_dump of a running Tipline database plus
its key file restore to a working system on which every report reads; a
restore without the key file is refused with a message that names the
setting, and loses nothing: with the key back, everything reads."""
import json
import os
import subprocess

import pytest

import stack

# A plain text file: evidence is sniffed and cleaned of its metadata, so
# it must be a file of the type its name says.
EVIDENCE = b'Bank details as pasted: ' + os.urandom(1024).hex().encode()


def restore(site, dump, name):
    stack.run('createdb', '-h', '127.0.0.1', '-p', str(site.pg_port),
        '-U', 'postgres', '-T', 'template0', name)
    stack.run('pg_restore', '-h', '127.0.0.1', '-p', str(site.pg_port),
        '-U', 'postgres', '--no-owner', '-d', name, dump)


def read_reports(conf, database):
    return subprocess.run([os.path.join(stack.BIN, 'python'),
            os.path.join(stack.ROOT, 'tests', 'deploy', 'read_reports.py'),
            '-c', conf, '-d', database], cwd=stack.ROOT,
        capture_output=True, text=True)


def tipline_command(command, conf, database, *args):
    """scripts/tipline-keys or tipline-audit with -c CONF alone, as the
    README writes them (TRYTOND_CONFIG unset)"""
    env = {k: v for k, v in os.environ.items()
        if not k.startswith('TRYTOND_')}
    return subprocess.run([os.path.join(stack.ROOT, 'scripts', command)]
        + list(args) + ['-c', conf, '-d', database], cwd=stack.ROOT,
        capture_output=True, text=True, env=env)


def fingerprint(site, database):
    "Every table's rows, digested: what a restore holds, key or no key"
    tables = stack.psql(site.pg_port, "SELECT tablename FROM pg_tables "
        "WHERE schemaname = 'public' ORDER BY tablename",
        database).split()
    assert 'tipline_report' in tables
    query = ' UNION ALL '.join(
        "SELECT '%s', count(*), md5(coalesce(string_agg(t::text, ',' "
        "ORDER BY t::text), '')) FROM \"%s\" t" % (table, table)
        for table in tables)
    # UNION ALL keeps no order (PostgreSQL may append in parallel).
    return '\n'.join(sorted(
            stack.psql(site.pg_port, query, database).splitlines()))


@pytest.fixture
def dump(site, procs):
    """A pg_dump taken while gunicorn serves, after a report with evidence
    was filed through it"""
    procs.gunicorn(site.conf, site.database, site.web_port, 2,
        name='gunicorn-backup')
    reporter = stack.wait_for_login(site.url, site.database,
        'reporter', 'report-demo-1', procs)
    number = stack.file_report(reporter, 'Northwind Traders',
        'Restore drill: invoices re-addressed to a private account, see '
        'the attached statement.',
        evidence=('statement.txt', EVIDENCE))['tracking_number']
    path = os.path.join(site.state, 'backup.dump')
    stack.run('pg_dump', '-h', '127.0.0.1', '-p', str(site.pg_port),
        '-U', 'postgres', '-Fc', '-f', path, site.database)
    procs.stop('gunicorn-backup')
    return path, number


def test_restore_with_key_file_reads_every_report(site, dump):
    path, number = dump
    source = read_reports(site.conf, site.database)
    assert source.returncode == 0, source.stderr[-2000:]
    expected = json.loads(source.stdout)
    assert number in expected
    assert len(expected) == int(stack.psql(site.pg_port,
            'SELECT count(*) FROM tipline_report', site.database))

    restored = site.database + '_restored'
    restore(site, path, restored)
    status = tipline_command('tipline-keys', site.conf, restored, 'status')
    assert status.returncode == 0, status.stdout + status.stderr
    result = read_reports(site.conf, restored)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout) == expected
    verify = tipline_command('tipline-audit', site.conf, restored, 'verify')
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_restore_without_key_file_fails_clearly_and_loses_nothing(
        site, dump):
    path, number = dump
    restored = site.database + '_nokey'
    restore(site, path, restored)
    before = fingerprint(site, restored)

    missing = os.path.join(site.state, 'lost', 'tipline.key')
    conf_missing = stack.write_conf(
        os.path.join(site.state, 'missing-key.conf'), site.pg_port, missing)
    status = tipline_command('tipline-keys', conf_missing, restored, 'status')
    assert status.returncode != 0
    message = status.stdout + status.stderr
    assert "'key_file'" in message and '[tipline]' in message, message
    assert 'does not exist' in message and missing in message, message
    assert 'Traceback' not in message
    result = read_reports(conf_missing, restored)
    assert result.returncode != 0
    assert "'key_file' in the [tipline] section" in result.stderr

    # Another key (a new file made in a hurry) does not open the keyset.
    other = os.path.join(site.state, 'other.key')
    stack.run(os.path.join(stack.BIN, 'python'), '-c',
        'import sys, tipline_core; '
        'tipline_core.create_master_key_file(sys.argv[1])', other)
    conf_other = stack.write_conf(
        os.path.join(site.state, 'other-key.conf'), site.pg_port, other)
    status = tipline_command('tipline-keys', conf_other, restored, 'status')
    assert status.returncode != 0
    message = status.stdout + status.stderr
    assert 'does not open the keyset' in message, message
    assert read_reports(conf_other, restored).returncode != 0

    # Nothing was lost or changed by the refused attempts ...
    assert fingerprint(site, restored) == before
    # ... and with the key file back, every report reads.
    result = read_reports(site.conf, restored)
    assert result.returncode == 0, result.stderr[-2000:]
    source = json.loads(read_reports(site.conf, site.database).stdout)
    assert json.loads(result.stdout) == source
    assert number in source


def test_commands_open_postgresql_with_c_alone(site):
    """tipline-keys status -c CONF -d DB opens PostgreSQL: the commands
    import the module before they read -c, and the import leaves trytond's
    backend unchosen"""
    for command, action in (('tipline-keys', 'status'),
            ('tipline-audit', 'verify')):
        result = tipline_command(command, site.conf, site.database, action)
        assert result.returncode == 0, result.stdout + result.stderr
