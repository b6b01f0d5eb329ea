"""tipline-audit: verify the history of every report.

    tipline-audit verify -c CONF -d DATABASE [--batch-size N]

Each report's history is a hash chain (audit.py).  The command recomputes
every chain from the stored rows and names, for each report whose history
was altered, the first broken event.  It exits 0 when every history is
intact, 1 when one is not, 2 on a usage error.
"""
import argparse
import os
import sys

from .keys_cli import CommandError, open_database

EXIT_OK, EXIT_BROKEN, EXIT_USAGE = 0, 1, 2


def verify(args, out):
    pool = open_database(args.config, args.database)
    from trytond.transaction import Transaction
    Report = pool.get('tipline.report')
    Event = pool.get('tipline.audit_event')
    checked, broken = 0, []
    last_id = 0
    while True:
        with Transaction().start(args.database, 0, readonly=True):
            table = Report.__table__()
            cursor = Transaction().connection.cursor()
            cursor.execute(*table.select(
                    table.id, table.tracking_number,
                    where=table.id > last_id,
                    order_by=table.id.asc, limit=args.batch_size))
            rows = cursor.fetchall()
            if not rows:
                break
            results = Event.verify([id_ for id_, _ in rows])
        for report_id, number in rows:
            checked += 1
            if results[report_id] is not None:
                broken.append((number, results[report_id]))
        last_id = rows[-1][0]
    for number, sequence in broken:
        out.write("%s: history broken at event #%d\n" % (number, sequence))
    out.write("%d reports checked, %s\n" % (
            checked, "%d with a broken history" % len(broken)
            if broken else "every history intact"))
    return EXIT_BROKEN if broken else EXIT_OK


def build_parser():
    parser = argparse.ArgumentParser(
        prog='tipline-audit', description=__doc__.split('\n\n')[0])
    commands = parser.add_subparsers(dest='command', required=True)
    command = commands.add_parser(
        'verify', help="check the hash chain of every report")
    command.add_argument('-c', '--config',
        default=os.environ.get('TRYTOND_CONFIG'),
        help="trytond configuration file (default: $TRYTOND_CONFIG)")
    command.add_argument('-d', '--database', required=True)
    command.add_argument('--batch-size', type=int, default=500)
    command.set_defaults(func=verify)
    return parser


def main(argv=None, out=None):
    args = build_parser().parse_args(argv)
    out = out if out is not None else sys.stdout
    try:
        return args.func(args, out)
    except CommandError as exception:
        sys.stderr.write("tipline-audit: error: %s\n" % exception)
        return EXIT_USAGE


if __name__ == '__main__':
    sys.exit(main())
