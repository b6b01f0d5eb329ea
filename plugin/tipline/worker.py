"""tipline-worker: trytond-worker that gives up when its database is gone.

trytond-worker (Tryton 8.0) listens for queued tasks on one connection that
it opens once. When PostgreSQL drops that connection (a restart, a failover,
pg_terminate_backend), every pull fails with an OperationalError that the
worker's loop swallows: it neither exits nor pulls a task again, and its
supervisor sees nothing wrong. Tasks (such as rescoring after a decision)
then stay queued until somebody restarts it.

tipline-worker runs trytond's own loop, unchanged, and exits with status 75
(EX_TEMPFAIL) as soon as that connection is broken, so that its supervisor
starts it again with a fresh one: systemd (``Restart=always`` in
manifests/systemd/trytond-worker.service), or the restart loop of
scripts/scale-demo.sh and tests/deploy. The tasks it was running finish
first (they hold their own connections); a task whose transaction failed
with the connection stays queued and is pulled again. Its options are
trytond-worker's."""
import logging
import sys

EX_TEMPFAIL = 75
logger = logging.getLogger(__name__)


class ConnectionLost(Exception):
    "The worker's listening connection to the database is broken"


def broken(connection):
    "Whether connection can no longer be used (psycopg 3; sqlite3 has none)"
    return bool(getattr(connection, 'broken', False)
        or getattr(connection, 'closed', False) is True)


def queue_class(Queue, OperationalError):
    "trytond.worker.Queue, raising ConnectionLost once its connection broke"

    class Watched(Queue):
        def watched(self, call, *args, **kwargs):
            "call, with ConnectionLost once the connection is broken"
            try:
                return call(*args, **kwargs)
            except OperationalError:
                if broken(self.connection):
                    raise ConnectionLost(self.database.name)
                raise

        def pull(self, name=None):
            return self.watched(super().pull, name=name)

        def get_notifications(self):
            return self.watched(super().get_notifications)
    return Watched


def main():
    # As trytond.cli.worker.main, which reads the configuration before the
    # backend (and so this module's imports of trytond) is chosen.
    import trytond.commandline as commandline
    import trytond.config as config
    parser = commandline.get_parser_worker()
    options = parser.parse_args()
    config.update_etc(options.configfile)
    commandline.config_log(options)

    from trytond import backend
    import trytond.worker as worker
    from trytond.pool import Pool
    worker.Queue = queue_class(worker.Queue, backend.DatabaseOperationalError)
    with commandline.pidfile(options):
        try:
            Pool.start()
            worker.work(options)
        except ConnectionLost as lost:
            logger.error("lost the connection to database %s; exiting "
                "for a restart", lost)
            return EX_TEMPFAIL
        except (KeyboardInterrupt, SystemExit):
            pass
    return 0


if __name__ == '__main__':
    sys.exit(main())
