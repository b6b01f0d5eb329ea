"""read_reports.py -c CONF -d DATABASE: read every Tipline report through the
module (decrypting its description and evidence) and print one JSON object
{tracking number: sha256 of what was read, or 'purged' for a report
deleted under the retention policy}. Exits non-zero, with trytond's
or Tipline's message, when the database cannot be opened or a value does
not decrypt."""
import hashlib
import json
import sys

from module_pool import open_pool


def main():
    args, pool = open_pool(__doc__)
    from trytond.transaction import Transaction
    digests = {}
    with Transaction().start(args.database, 0, readonly=True):
        Report = pool.get('tipline.report')
        for report in Report.search([], order=[('id', 'ASC')]):
            if report.purged_at:
                # Deleted under the retention policy: nothing to decrypt.
                digests[report.tracking_number] = 'purged'
                continue
            digest = hashlib.sha256(report.description.encode())
            for evidence in report.evidence:
                digest.update((evidence.name or '').encode())
                digest.update(bytes(evidence.data or b''))
            digests[report.tracking_number] = digest.hexdigest()
    json.dump(digests, sys.stdout)


if __name__ == '__main__':
    main()
