"""tipline-worker (plugin/tipline/worker.py) on PostgreSQL. When PostgreSQL
drops its connection, trytond-worker neither exits nor pulls a task again;
tipline-worker exits with 75 for its supervisor, and once started again it
runs what was queued in between."""
import re
import time

import stack

CONNECTED = r'connection to "%s" succeeded'
TASK = ('{"model": "tipline.report", "method": "rescore_reports", '
    '"user": 0, "context": {}, "instances": [], "args": [], "kwargs": {}}')


def read(path):
    with open(path) as file:
        return file.read()


def wait_until(condition, what, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError('timed out waiting for %s' % what)


def terminate_backends(site):
    "Drop every connection to the database but psql's own"
    return int(stack.psql(site.pg_port,
            'SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity '
            "WHERE datname = '%s' AND pid <> pg_backend_pid()"
            % site.database))


def queue_task(site):
    "A queued task (rescoring no report), announced as ir.queue does; its id"
    return int(stack.psql(site.pg_port,
            "INSERT INTO ir_queue (name, data, create_uid, create_date, "
            "enqueued_at) "
            "VALUES ('default', '%s', 0, now(), now()) RETURNING id; "
            'NOTIFY "ir.queue"' % TASK, site.database).split()[0])


def finished(site, task_id):
    return stack.psql(site.pg_port, 'SELECT finished_at IS NOT NULL '
        'FROM ir_queue WHERE id = %d' % task_id, site.database).strip() == 't'


def working(site, procs, restart):
    """(process, log) of a tipline-worker connected and running tasks"""
    worker = procs.tipline_worker(site.conf, site.database, restart=restart)
    log = procs.log('tipline-worker')
    wait_until(lambda: re.search(CONNECTED % site.database, read(log)),
        'the connection')
    first = queue_task(site)
    wait_until(lambda: finished(site, first), 'a first task')
    return worker, log


def test_worker_exits_for_a_restart_when_its_connection_drops(site, procs):
    worker, log = working(site, procs, restart=False)
    assert terminate_backends(site) >= 1
    wait_until(lambda: worker.poll() is not None, 'the worker to exit')
    assert worker.returncode == 75
    assert 'lost the connection to database %s' % site.database in read(log)


def test_the_restarted_worker_runs_what_was_queued(site, procs):
    _, log = working(site, procs, restart=True)
    assert terminate_backends(site) >= 1
    wait_until(lambda: 'lost the connection' in read(log), 'the exit')
    task_id = queue_task(site)
    wait_until(lambda: finished(site, task_id), 'the task after the restart')
    procs.check_alive()
    assert len(re.findall(CONNECTED % site.database, read(log))) >= 2
