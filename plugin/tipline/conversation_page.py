"""The anonymous reporter's side of the conversation, on the status page.

Reached with the tracking number and the receipt, both checked again on
every request with the status page's rate limits.  The reporter reads the
messages shared with them (which marks the moderators' ones read), answers,
adds a file after reading what metadata it carries, and may choose to
disclose who they are.  Whatever they send runs in the authorless scope of
an anonymous report.

A file is shown to its sender before it is stored: the first post inspects
it and returns the page with the metadata found, the file carried back in
the form; the second post sends it.  Nothing is stored in between."""
import base64
import binascii
import json

from werkzeug.wrappers import Response

from trytond.i18n import gettext
from trytond.pool import Pool
from trytond.protocols.wrappers import with_pool, with_transaction
from trytond.transaction import Transaction, without_check_access
from trytond.wsgi import app

from . import metadata
from .audit import digest
from .authorless import authorless
from .encrypted import store_encrypted
from .exceptions import ConversationError, EvidenceError
from .status import (
    _language, _render, receipt_holder, too_many_attempts)

MAX_NAME = 200
MAX_CONTACT = 500


def _thread(report):
    "The shared messages as the page shows them, oldest first"
    Message = Pool().get('tipline.message')
    messages = Message.shared(report)
    rows = []
    for message in messages:
        rows.append({
                'mine': message.author == 'reporting_person',
                'new': message.author == 'moderator' and not message.seen,
                'question': message.question,
                'posted_at': message.posted_at,
                'body': message.body,
                'files': [e.name for e in message.evidence],
                })
    return rows


def _upload(request):
    "(name, bytes) of the file sent or carried back, or None"
    upload = request.files.get('file')
    if upload and upload.filename:
        return upload.filename[:MAX_NAME], upload.read()
    carried = request.form.get('carried')
    if carried:
        try:
            return ((request.form.get('carried_name') or '')[:MAX_NAME],
                base64.b64decode(carried, validate=True))
        except (binascii.Error, ValueError):
            return None
    return None


def disclose_identity(report, name, contact):
    """An anonymous reporter tells who they are: stored as a named
    reporter's identity is, encrypted; the history records the choice"""
    pool = Pool()
    Report = pool.get('tipline.report')
    Event = pool.get('tipline.audit_event')
    name, contact = (name or '').strip(), (contact or '').strip()
    if not name:
        raise ConversationError(gettext('tipline.msg_disclose_no_name'))
    with authorless(anonymous=True), without_check_access():
        identity = json.dumps({'disclosed': True, 'name': name[:MAX_NAME],
                'contact': contact[:MAX_CONTACT]}, sort_keys=True)
        store_encrypted(Report, {report.id: {'reporter_identity': identity}})
        Report.write([report], {'identity_disclosed': True})
        Event.append(report, 'disclose', {'sha256': digest(identity)},
            actor='')


@app.route('/<database_name>/tipline/conversation', methods=['POST'])
@with_pool
@with_transaction(readonly=False)
def conversation_page(request, pool):
    try:
        Report = pool.get('tipline.report')
        Message = pool.get('tipline.message')
    except KeyError:
        return Response('Not Found', status=404)
    language = _language(request)
    receipt = (request.form.get('receipt') or '')[:64]
    report, refusal = receipt_holder(pool, request)
    if refusal == 'failed':
        return _render(language, status=403, failed=True, report=None,
            limited=False, number='', receipt='', appeal=None)
    if refusal:
        return too_many_attempts(_render(language, limited=True,
                report=None, failed=False, number='', receipt='',
                appeal=None), refusal)
    action = request.form.get('action') or 'view'
    body = (request.form.get('body') or '')[:20000]
    values = {'error': None, 'body': '', 'sent': False, 'check': None,
        'disclosed': False}
    with Transaction().set_context(language=language):
        try:
            if action in {'check', 'reply'}:
                upload = _upload(request)
                if action == 'check' or (upload and not request.form.get(
                            'carried')):
                    # A new file is shown to its sender before it is sent.
                    if upload is None:
                        raise EvidenceError(gettext(
                                'tipline.msg_evidence_clean_failed'))
                    name, data = upload
                    Pool().get('tipline.evidence').check_files(
                        report, [(name, data)])
                    values['check'] = {
                        'name': metadata.safe_name(name),
                        'raw_name': name,
                        'found': metadata.inspect(name, data),
                        'data': base64.b64encode(data).decode(),
                        }
                    values['body'] = body
                else:
                    Message.post_as_reporter(report, body,
                        files=[upload] if upload else [])
                    values['sent'] = True
            elif action == 'disclose':
                if request.form.get('confirm') != 'yes':
                    raise ConversationError(
                        gettext('tipline.msg_disclose_confirm'))
                disclose_identity(report, request.form.get('name'),
                    request.form.get('contact'))
                values['disclosed'] = True
        except (ConversationError, EvidenceError) as error:
            # Nothing of a refused message stays; the right receipt is
            # still no failure of this client.
            Transaction().rollback()
            Attempt = pool.get('tipline.status_attempt')
            Attempt.give_back(Attempt.keys_for(
                    request.remote_addr, report.tracking_number))
            values.update(error=error.message, body=body, check=None)
        report = Report(report.id)
        thread = _thread(report)
        # Reading the page is reading the moderators' messages.
        Message.mark_read(report, 'moderator')
        page = {
            'number': report.tracking_number,
            'state': report.state_string,
            'awaiting': report.state == 'awaiting_reporter',
            'open': report.state != 'closed',
            'disclosed': report.identity_disclosed,
            }
    return _render(language, template_name='conversation.html',
        report=page, thread=thread, receipt=receipt, **values)
