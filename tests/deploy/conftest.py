"""One PostgreSQL database with the module and the demo data for the
deployment tests (created once per run, a few minutes; dropped after).
Ports 18850-18859 unless TIPLINE_DEPLOY_PORT moves them."""
import os
import shutil
import tempfile

import pytest

import stack

PORT = int(os.environ.get('TIPLINE_DEPLOY_PORT', 18850))


class Site:
    "The database, its configuration and the ports the tests use"

    def __init__(self, state, pg_port, database):
        self.state = state
        self.pg_port = pg_port
        self.database = database
        self.web_port = PORT
        self.url = 'http://127.0.0.1:%d' % PORT
        self.smtp_port = PORT + 1
        self.key_file = os.path.join(state, 'tipline.key')
        self.conf = stack.write_conf(os.path.join(state, 'trytond.conf'),
            pg_port, self.key_file, smtp_port=self.smtp_port,
            web_port=PORT)


@pytest.fixture(scope='session')
def site():
    # TIPLINE_DEPLOY_STATE=DIR keeps the database (scale_deploy_dev, or
    # TIPLINE_DEPLOY_DATABASE) and its key in DIR between runs, for working
    # on the tests.
    keep = os.environ.get('TIPLINE_DEPLOY_STATE')
    os.makedirs(os.path.join(stack.ROOT, 'var'), exist_ok=True)
    if keep:
        state = os.path.abspath(keep)
        os.makedirs(state, exist_ok=True)
        database = os.environ.get(
            'TIPLINE_DEPLOY_DATABASE', 'scale_deploy_dev')
    else:
        state = tempfile.mkdtemp(prefix='deploy-test-',
            dir=os.path.join(stack.ROOT, 'var'))
        database = 'scale_deploy_%d' % os.getpid()
    pg_port, stop_pg = stack.postgresql(state, PORT + 2)
    site = Site(state, pg_port, database)
    try:
        if not (keep and stack.database_exists(pg_port, database)):
            stack.create_database(state, database, site.conf,
                os.path.join(state, 'create.log'))
        yield site
    finally:
        for name in stack.psql(pg_port, "SELECT datname FROM pg_database "
                "WHERE datname LIKE '%s\\_%%'" % database).split():
            stack.drop_database(pg_port, name)
        if not keep:
            stack.drop_database(pg_port, database)
        stop_pg()
        if not keep:
            shutil.rmtree(state, ignore_errors=True)


@pytest.fixture
def procs(site):
    procs = stack.Processes(os.path.join(site.state, 'log'))
    try:
        yield procs
    finally:
        procs.stop_all()
