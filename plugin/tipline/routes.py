"""Tipline's public pages, served without logging in:

- the status page, where an anonymous reporter reads the status of a report
  with its tracking number and secret receipt, and may appeal its result;
- the survey after resolution, reached from the status page;
- the conversation with the moderators, reached from the status page;
- the help page.

The three pages behind a receipt check it again on every request, within
the limits of rate_limit.py.  Pages are rendered by pages.py.  Models are
reached through the request's pool only: importing this module loads none
of them."""
import base64
import binascii
import functools

from werkzeug.wrappers import Response

from trytond.i18n import gettext
from trytond.protocols.wrappers import with_pool, with_transaction
from trytond.transaction import Transaction
from trytond.wsgi import app

import tipline_core

from . import metadata
from .exceptions import (
    AppealError, ConversationError, EvidenceError, FeedbackError)
from .pages import language as page_language
from .pages import attachment, render, too_many_attempts

# The longest file name taken from a form.
MAX_NAME = 200


def public_page(path, methods, readonly=None):
    """Register func as the page /<database>/tipline/<path>, called with the
    request and the database's pool in a transaction of user 0; a database
    where Tipline is not activated answers 404"""
    def decorator(func):
        @app.route('/<database_name>/tipline/' + path, methods=methods)
        @with_pool
        @with_transaction(readonly=readonly)
        @functools.wraps(func)
        def page(request, pool):
            try:
                pool.get('tipline.report')
            except KeyError:
                # Routes exist for every database of the server.
                return Response('Not Found', status=404)
            return func(request, pool)
        return page
    return decorator


def receipt_holder(pool, request):
    """The anonymous report whose tracking number and receipt the posted
    form gives, within the rate limits: (report, None), else (None, wait)
    when the check must wait (a timedelta) or (None, 'failed'), a failure
    being counted"""
    Report = pool.get('tipline.report')
    Attempt = pool.get('tipline.status_attempt')
    number = (request.form.get('number') or '')[:64]
    receipt = (request.form.get('receipt') or '')[:64]
    try:
        canonical = tipline_core.parse_tracking_number(number)
    except tipline_core.InvalidInput:
        canonical = number.strip().upper()
    keys = Attempt.keys_for(request.remote_addr, canonical)
    wait = Attempt.take_check(keys)
    if wait:
        return None, wait
    report = Report.status_for_receipt(number, receipt)
    if report is None:
        return None, 'failed'
    Attempt.give_back(keys)
    return report, None


# The status page -------------------------------------------------------------

def status_values(report):
    "What the status page shows of report, in the context's language"
    return {
        'number': report.tracking_number,
        'state': report.state_string,
        'outcome': report.outcome_string if report.outcome else None,
        'submitted_at': report.submitted_at,
        'resolve_by': report.resolve_by,
        'time_left': report.time_left,
        'message': report.reporter_message,
        'explanation': report.explanation,
        'appealable': report.appealable,
        'appeal_deadline': report.appeal_deadline,
        'survey': report.survey_open,
        'new_messages': report.new_messages,
        # Deleted under the retention policy (retention.py)
        'deleted': report.retention_status,
        }


def status_render(language, status=200, **values):
    "The status page: the look-up form, with whatever values say"
    values = {'report': None, 'failed': False, 'limited': False,
        'number': '', 'receipt': '', 'appeal': None, **values}
    return render(language, 'status.html', status=status, **values)


@public_page('status', ['GET', 'POST'], readonly=False)
def status_page(request, pool):
    Report = pool.get('tipline.report')
    language = page_language(request)
    if request.method == 'GET':
        return status_render(language)

    number = (request.form.get('number') or '')[:64]
    receipt = (request.form.get('receipt') or '')[:64]
    report, refusal = receipt_holder(pool, request)
    if refusal == 'failed':
        return status_render(language, failed=True, number=number)
    if refusal:
        return too_many_attempts(
            status_render(language, limited=True, number=number), refusal)
    if request.form.get('action') == 'download':
        # What Tipline holds about the report (GDPR Art. 15,
        # subject_access.py), behind the same receipt check and limits.
        SubjectAccess = pool.get(
            'tipline.report.subject_access', type='report')
        with Transaction().set_context(language=language):
            return attachment(*SubjectAccess.download(report, language))
    appeal = {'error': None, 'reason': '', 'done': False}
    if request.form.get('action') == 'appeal':
        reason = (request.form.get('reason') or '')[:20000]
        try:
            # Every check comes before the first write: a refused appeal
            # leaves nothing half written.
            with Transaction().set_context(language=language):
                Report.appeal(report, reason)
        except AppealError as error:
            appeal.update(error=error.message, reason=reason)
        else:
            appeal['done'] = True
    with Transaction().set_context(language=language):
        values = status_values(Report(report.id))
    return status_render(language, report=values,
        number=values['number'], receipt=receipt, appeal=appeal)


# The survey ------------------------------------------------------------------

def survey_answer(form):
    "(satisfaction, fair, again, comment) from the form; None if incomplete"
    try:
        satisfaction = int(form.get('satisfaction') or 0)
    except ValueError:
        return None
    fair, again = form.get('fair'), form.get('again')
    if satisfaction not in range(1, 6) or fair not in {'yes', 'no'} or (
            again not in {'yes', 'no'}):
        return None
    return (satisfaction, fair == 'yes', again == 'yes',
        (form.get('comment') or '')[:2000])


@public_page('survey', ['POST'], readonly=False)
def survey_page(request, pool):
    Report = pool.get('tipline.report')
    language = page_language(request)

    def page(outcome, status=200):
        return render(language, 'survey.html', status=status,
            outcome=outcome)
    report, refusal = receipt_holder(pool, request)
    if refusal == 'failed':
        return page('failed', status=403)
    if refusal:
        return too_many_attempts(page('limited'), refusal)
    answer = survey_answer(request.form)
    if answer is None:
        return page('incomplete', status=400)
    try:
        Report(report.id).answer_survey(*answer)
    except FeedbackError:
        Transaction().rollback()
        return page('closed', status=409)
    return page('thanks')


# The conversation ------------------------------------------------------------

def conversation_thread(Message, report):
    "The shared messages of report as the page shows them, oldest first"
    rows = []
    for message in Message.shared(report):
        rows.append({
                'mine': message.author == 'reporting_person',
                'new': message.author == 'moderator' and not message.seen,
                'question': message.question,
                'posted_at': message.posted_at,
                'body': message.body,
                'files': [e.name for e in message.evidence],
                })
    return rows


def uploaded_file(request):
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


@public_page('conversation', ['POST'], readonly=False)
def conversation_page(request, pool):
    """The anonymous reporter's side of the conversation (conversation.py).

    The reporter reads the messages shared with them (which marks the
    moderators' ones read), answers, adds a file after reading what
    metadata it carries, and may choose to disclose who they are.  A file
    is shown to its sender before it is stored: the first post inspects it
    and returns the page with the metadata found, the file carried back in
    the form; the second post sends it.  Nothing is stored in between."""
    Report = pool.get('tipline.report')
    Message = pool.get('tipline.message')
    Evidence = pool.get('tipline.evidence')
    language = page_language(request)
    receipt = (request.form.get('receipt') or '')[:64]
    report, refusal = receipt_holder(pool, request)
    if refusal == 'failed':
        return status_render(language, status=403, failed=True)
    if refusal:
        return too_many_attempts(
            status_render(language, limited=True), refusal)
    action = request.form.get('action') or 'view'
    body = (request.form.get('body') or '')[:20000]
    values = {'error': None, 'body': '', 'sent': False, 'check': None,
        'disclosed': False}
    with Transaction().set_context(language=language):
        try:
            if action in {'check', 'reply'}:
                upload = uploaded_file(request)
                if action == 'check' or (upload and not request.form.get(
                            'carried')):
                    # A new file is shown to its sender before it is sent.
                    if upload is None:
                        raise EvidenceError(gettext(
                                'tipline.msg_evidence_clean_failed'))
                    name, data = upload
                    Evidence.check_files(report, [(name, data)])
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
                Report.disclose_identity(report, request.form.get('name'),
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
        thread = conversation_thread(Message, report)
        # Reading the page is reading the moderators' messages.
        Message.mark_read(report, 'moderator')
        page = {
            'number': report.tracking_number,
            'state': report.state_string,
            'awaiting': report.state == 'awaiting_reporter',
            'open': report.state != 'closed',
            'disclosed': report.identity_disclosed,
            }
    return render(language, 'conversation.html',
        report=page, thread=thread, receipt=receipt, **values)


# The help page ---------------------------------------------------------------

@public_page('help', ['GET'])
def help_page(request, pool):
    Category = pool.get('tipline.category')
    language = page_language(request)
    with Transaction().set_context(language=language):
        categories = [{'name': c.name, 'guidance': c.guidance or ''}
            for c in Category.search([])]
    return render(language, 'help.html',
        categories=categories, status_url='status?lang=%s' % language)
