"""report_facts.py -c CONF -d DATABASE --after ID: what the fault test
checks of every report above id ID, read through the module (the
description decrypted, the history chain verified), as one JSON list."""
import json
import sys

from module_pool import open_pool


def main():
    args, pool = open_pool(__doc__,
        (('--after',), {'type': int, 'default': 0}))
    from trytond.transaction import Transaction
    facts = []
    with Transaction().start(args.database, 0, readonly=True):
        Report = pool.get('tipline.report')
        Event = pool.get('tipline.audit_event')
        Signature = pool.get('tipline.report.signature')
        Mail = pool.get('tipline.mail_queue')
        reports = Report.search([('id', '>', args.after)],
            order=[('id', 'ASC')])
        broken = Event.verify([r.id for r in reports])
        for report in reports:
            events = Event.search([('report', '=', report.id)],
                order=[('sequence', 'ASC')])
            facts.append({
                    'id': report.id,
                    'number': report.tracking_number,
                    'description': report.description,
                    'anonymous': report.anonymous,
                    'target': str(report.target),
                    'case': report.case.id if report.case else None,
                    'state': report.state,
                    'outcome': report.outcome,
                    'assigned_to': report.assigned_to.login
                    if report.assigned_to else None,
                    'triaged_at': bool(report.triaged_at),
                    'resolved_at': bool(report.resolved_at),
                    'appeal_deadline': bool(report.appeal_deadline),
                    'survey_invited': bool(report.survey_invited),
                    'history_broken_at': broken.get(report.id),
                    'events': [[e.kind, json.loads(e.details)]
                        for e in events],
                    'signatures': Signature.search_count(
                        [('report', '=', report.id)]),
                    'mail': [[m.template, m.state, m.report_state,
                            m.message_id]
                        for m in Mail.search([('report', '=', report.id)],
                            order=[('id', 'ASC')])],
                    })
    json.dump(facts, sys.stdout)


if __name__ == '__main__':
    main()
