"""tipline-audit: verify the history of every report, and anchor it.

    tipline-audit verify -c CONF -d DATABASE [--anchor FILE ...] [--batch-size N]
    tipline-audit anchor -c CONF -d DATABASE [-o FILE]

Each report's history is a hash chain (audit.py).  `verify` recomputes
every chain from the stored rows and names, for each report whose history
was altered, the first broken event.  A chain proves its own links, but not
that its last events are still there: whoever can write the database could
cut a chain's tail.  `anchor` prints the head of every chain (tracking
number, last sequence, last hash) and a digest of those lines; kept outside
the database (another host, write-once storage, a signed mail), an anchor
lets `verify --anchor` prove that every event it names is still present and
unchanged.  Exit status: 0 when every history is intact, 1 when one is not,
2 on a usage error.
"""
import argparse
import datetime as dt
import hashlib
import sys

from .cli import CommandError, add_database_arguments, open_database, run

EXIT_OK, EXIT_BROKEN, EXIT_USAGE = 0, 1, 2


ANCHOR_HEADER = 'tipline-audit anchor 1'


def _report_batches(Report, batch_size):
    "Yield [(id, tracking number)] of the reports by id, a batch at a time"
    from trytond.transaction import Transaction
    table = Report.__table__()
    last_id = 0
    while True:
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(
                table.id, table.tracking_number,
                where=table.id > last_id, order_by=table.id.asc,
                limit=batch_size))
        rows = cursor.fetchall()
        if not rows:
            return
        yield rows
        last_id = rows[-1][0]


def read_anchor(path, database):
    "[(tracking number, sequence, hash)] of an anchor file, checked"
    try:
        with open(path, encoding='ascii') as file:
            lines = file.read().splitlines()
    except (OSError, UnicodeDecodeError) as exception:
        raise CommandError("cannot read anchor %s: %s" % (path, exception))
    if (len(lines) < 2 or not lines[0].startswith(ANCHOR_HEADER + ' ')
            or not lines[-1].startswith('digest ')):
        raise CommandError("%s is not a tipline-audit anchor" % path)
    body = ''.join(line + '\n' for line in lines[:-1])
    if hashlib.sha256(body.encode('ascii')).hexdigest() != lines[-1][7:]:
        raise CommandError(
            "anchor %s does not match its digest: it was changed or cut"
            % path)
    header = lines[0].split(' ')
    if len(header) != 5:
        raise CommandError("%s is not a tipline-audit anchor" % path)
    if header[3] != database:
        raise CommandError("anchor %s is for database %s, not %s" % (
                path, header[3], database))
    heads = []
    for number, line in enumerate(lines[1:-1], 2):
        try:
            tracking, sequence, link = line.split(' ')
            heads.append((tracking, int(sequence), bytes.fromhex(link)))
        except ValueError:
            raise CommandError("anchor %s: line %d is not "
                "'TRACKING-NUMBER SEQUENCE HASH'" % (path, number))
    return heads


def check_anchor(Report, Event, heads, batch_size):
    "The problems, as lines, with the anchored heads in the database"
    from trytond.transaction import Transaction
    table = Report.__table__()
    problems = []
    for start in range(0, len(heads), batch_size):
        batch = heads[start:start + batch_size]
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(table.tracking_number, table.id,
                where=table.tracking_number.in_([n for n, _, _ in batch])))
        ids = dict(cursor.fetchall())
        links = Event.links(ids.values())
        for number, sequence, link in batch:
            if number not in ids:
                problems.append("%s: report missing (anchored at event #%d)"
                    % (number, sequence))
                continue
            stored = links.get((ids[number], sequence))
            if stored is None:
                problems.append("%s: history cut, anchored event #%d is "
                    "gone" % (number, sequence))
            elif stored != link:
                problems.append("%s: event #%d differs from the anchor"
                    % (number, sequence))
    return problems


def verify(args, out):
    pool = open_database(args.config, args.database)
    from trytond.transaction import Transaction
    Report = pool.get('tipline.report')
    Event = pool.get('tipline.audit_event')
    anchors = [(path, read_anchor(path, args.database))
        for path in args.anchor or []]
    checked, broken = 0, []
    with Transaction().start(args.database, 0, readonly=True):
        for rows in _report_batches(Report, args.batch_size):
            results = Event.verify([id_ for id_, _ in rows])
            for report_id, number in rows:
                checked += 1
                if results[report_id] is not None:
                    broken.append((number, results[report_id]))
        problems = []
        for path, heads in anchors:
            problems.extend(
                check_anchor(Report, Event, heads, args.batch_size))
    for number, sequence in broken:
        out.write("%s: history broken at event #%d\n" % (number, sequence))
    for problem in problems:
        out.write(problem + "\n")
    summary = "%d reports checked, %s" % (
        checked, "%d with a broken history" % len(broken)
        if broken else "every history intact")
    if anchors:
        anchored = sum(len(heads) for _, heads in anchors)
        summary += "; %d anchored events, %s" % (anchored,
            "%d missing or changed" % len(problems)
            if problems else "all present")
    out.write(summary + "\n")
    return EXIT_BROKEN if broken or problems else EXIT_OK


def anchor(args, out):
    pool = open_database(args.config, args.database)
    from trytond.transaction import Transaction
    Report = pool.get('tipline.report')
    Event = pool.get('tipline.audit_event')
    now = dt.datetime.now(dt.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
    lines = ['%s %s %s' % (ANCHOR_HEADER, args.database, now)]
    # One read-only transaction: the heads of one moment.
    with Transaction().start(args.database, 0, readonly=True):
        for rows in _report_batches(Report, args.batch_size):
            heads = Event.heads([id_ for id_, _ in rows])
            for report_id, number in rows:
                if report_id in heads:
                    sequence, link = heads[report_id]
                    lines.append('%s %d %s' % (number, sequence, link.hex()))
    body = ''.join(line + '\n' for line in lines)
    text = body + 'digest %s\n' % hashlib.sha256(
        body.encode('ascii')).hexdigest()
    if args.output:
        try:
            # Never overwrite an anchor: each one is evidence.
            with open(args.output, 'x', encoding='ascii') as file:
                file.write(text)
        except OSError as exception:
            raise CommandError("cannot write %s: %s" % (
                    args.output, exception))
        sys.stderr.write("tipline-audit: anchored %d reports in %s\n" % (
                len(lines) - 1, args.output))
    else:
        out.write(text)
    return EXIT_OK


def build_parser():
    parser = argparse.ArgumentParser(
        prog='tipline-audit', description=__doc__.split('\n\n')[0])
    commands = parser.add_subparsers(dest='command', required=True)

    def add(name, func, help):
        command = commands.add_parser(name, help=help)
        add_database_arguments(command)
        command.add_argument('--batch-size', type=int, default=500)
        command.set_defaults(func=func)
        return command

    command = add('verify', verify, "check the hash chain of every report")
    command.add_argument('--anchor', action='append', metavar='FILE',
        help="also check that the events an anchor names are present and "
        "unchanged (repeatable)")
    command = add('anchor', anchor,
        "print the head of every report's chain, to keep elsewhere")
    command.add_argument('-o', '--output', metavar='FILE',
        help="write the anchor to FILE, which must not exist yet")
    return parser


def main(argv=None, out=None):
    args = build_parser().parse_args(argv)
    out = out if out is not None else sys.stdout
    return run('tipline-audit', args.func, args, out, EXIT_USAGE)


if __name__ == '__main__':
    sys.exit(main())
