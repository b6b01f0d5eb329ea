"""What Tipline holds about a report, for its reporter (GDPR Art. 15).

A named reporter downloads it from My Reports (the report action *Download
What Tipline Holds*), an anonymous one from the status page with the
tracking number and receipt.  It is one readable text file: the report's
dates, state and outcome, what the reporter wrote and sent, the messages
shared with them, the moderators' answer, their own identity as stored,
when it was revealed, and when the content will be deleted.  It never holds
another person's identity (no moderator or custodian is named, no history
event's details) nor anything internal (notes, internal messages and their
files, assessments).  Each download is recorded in the report's history.
"""
import json
import os

from genshi.template import NewTextTemplate

from trytond.i18n import gettext
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.report import Report as Report_
from trytond.rpc import RPC
from trytond.transaction import Transaction, without_check_access

from .authorless import authorless
from .clock import now as utcnow

TEMPLATE_DIR = os.path.join(os.path.dirname(__file__), 'templates')
LANGUAGES = ('en', 'zh_CN')
# History events a reporter may read, by their kind only (the details of
# others name moderators).
SHOWN_EVENTS = {'submit', 'appeal', 'evidence', 'conversation', 'reveal',
    'purged', 'subject_access'}
TIME = '%Y-%m-%d %H:%M UTC'


def _time(value):
    return value.strftime(TIME) if value else ''


def shown(event, references):
    """Whether the reporter reads event: never one that tells of something
    internal (a message or file they were not shared)"""
    details = json.loads(event.details or '{}')
    if event.kind == 'conversation':
        return details.get('visibility') == 'shared'
    if event.kind == 'evidence':
        return details.get('reference') in references
    return event.kind == 'state' or event.kind in SHOWN_EVENTS


def event_label(event, states):
    "What a history event says to the reporter, without its details"
    if event.kind == 'state':
        to = json.loads(event.details or '{}').get('to')
        return gettext('tipline.msg_history_state', state=states.get(to, to))
    return gettext('tipline.msg_history_%s' % event.kind)


def values(report):
    "What the file shows of report, read as the system"
    pool = Pool()
    Evidence = pool.get('tipline.evidence')
    Message = pool.get('tipline.message')
    Event = pool.get('tipline.audit_event')
    Access = pool.get('tipline.identity_access')
    with without_check_access():
        identity = (report.reporter_identity()
            if not report.anonymous and not report.purged_at else None)
        shared = {m.id: m for m in Message.shared(report)}
        files = [e for e in Evidence.search([('report', '=', report.id)])
            if not e.message or e.message.id in shared]
        events = Event.search([('report', '=', report.id)])
        accesses = Access.search([('report', '=', report.id)],
            order=[('accessed_at', 'ASC')])
        states = dict(report.fields_get(['state'])['state']['selection'])
        authors = dict(Message.fields_get(['author'])['author']['selection'])
        origins = dict(Evidence.fields_get(['origin'])['origin']['selection'])
        return {
            'number': report.tracking_number,
            'generated': _time(utcnow()),
            'category': report.category.rec_name,
            'anonymous': report.anonymous,
            'state': report.state_string,
            'outcome': report.outcome_string if report.outcome else '',
            'submitted_at': _time(report.submitted_at),
            'resolved_at': _time(report.resolved_at),
            'closed_at': _time(report.closed_at),
            # Held: the reporter learns that it is kept, never why.
            'held': bool(report.legal_hold) and not report.purged_at,
            'expires_at': _time(report.expires_at),
            'purged_at': _time(report.purged_at),
            'description': report.description or '',
            'appeal_reason': report.appeal_reason or '',
            'appealed_at': _time(report.appealed_at),
            'reporter_message': report.reporter_message or '',
            'explanation': report.explanation or '',
            'identity': identity or {},
            'identity_accesses': [_time(a.accessed_at) for a in accesses],
            'files': [{
                    'name': e.name or '',
                    'from': origins.get(e.origin, ''),
                    'type': e.content_type or '',
                    'size': e.size or 0,
                    'removed': (e.metadata_removed or '').replace('\n', ', '),
                    'added_at': _time(e.added_at),
                    } for e in files],
            'messages': [{
                    'from': authors.get(m.author, ''),
                    'when': _time(m.posted_at),
                    'body': m.body or '',
                    } for m in shared.values()],
            'history': [{
                    'when': _time(e.timestamp),
                    'what': event_label(e, states),
                    } for e in events
                if shown(e, {f.reference for f in files})],
            }


def render(report, language):
    "(file name, UTF-8 bytes) of the file of report in language"
    Report = Pool().get('tipline.report')
    language = language if language in LANGUAGES else 'en'
    path = os.path.join(TEMPLATE_DIR, 'subject_access.%s.txt' % language)
    with open(path, encoding='utf-8') as file:
        template = NewTextTemplate(file.read(), encoding='utf-8')
    # Category, states and explanations in the file's language.
    with Transaction().set_context(language=language):
        text = template.generate(**values(Report(report.id))).render(
            encoding=None)
    return ('tipline-%s.txt' % report.tracking_number,
        text.encode('utf-8'))


def record_download(report):
    "The download in the report's history, naming nobody"
    Event = Pool().get('tipline.audit_event')
    with authorless(anonymous=report.anonymous):
        Event.append(report, 'subject_access', {}, actor='')


class SubjectAccess(Report_):
    "What Tipline holds about the report, for its reporter"
    __name__ = 'tipline.report.subject_access'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        # Each download is written in the report's history.
        cls.__rpc__['execute'] = RPC(readonly=False)

    @classmethod
    def download(cls, report, language):
        "(file name, bytes) of report's file, recorded; for the status page"
        result = render(report, language)
        record_download(report)
        return result

    @classmethod
    def _execute(cls, records, header, data, action):
        # Only the reporter: a moderator reads the report, but this file
        # holds the reporter's identity.
        for report in records:
            if not report.mine:
                raise AccessError(gettext(
                        'tipline.msg_subject_access_not_yours',
                        report=report.rec_name))
        language = Transaction().language
        report, = records
        _, content = render(report, language)
        record_download(report)
        return 'txt', content
