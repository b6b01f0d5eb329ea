"""Tipline's public pages, served without logging in: the status page, where
an anonymous reporter reads the status of a report with its tracking number
and secret receipt, and the help page."""
import datetime as dt
import functools
import os

from genshi.template import MarkupTemplate
from werkzeug.wrappers import Response

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, fields
from trytond.protocols.wrappers import with_pool, with_transaction
from trytond.transaction import Transaction
from trytond.wsgi import app

import tipline_core

from .authorless import AuthorlessRows
from .clock import now as utcnow
from .exceptions import AppealError
from .keys import master_key
from .readonly import ServerReadonly

# Failed attempts allowed per window, per client and per tracking number.
WINDOW = dt.timedelta(minutes=15)
MAX_FAILURES_PER_CLIENT = 10
MAX_FAILURES_PER_NUMBER = 5
LANGUAGES = ('en', 'zh_CN')
TEMPLATE_DIR = os.path.join(os.path.dirname(__file__), 'templates')




class StatusAttempt(ServerReadonly, AuthorlessRows, ModelSQL):
    "A failed look-up on the status page, kept only for rate limiting"
    __name__ = 'tipline.status_attempt'

    key = fields.Char("Key", required=True, readonly=True,
        help="A keyed hash of the client address or the tracking number.")
    attempted_at = fields.DateTime("Attempted At", required=True,
        readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(
            Index(t, (t.key, Index.Equality()), (t.attempted_at, Index.Range())))

    @staticmethod
    def keys_for(client, number):
        "Blind indexes: neither addresses nor numbers are stored in clear"
        master = master_key()
        return (
            tipline_core.blind_index(
                master, (client or '').encode(), purpose=b'status client').hex(),
            tipline_core.blind_index(
                master, (number or '').encode(), purpose=b'status number').hex())

    @classmethod
    def limited(cls, keys):
        "Whether any key has used up its failures in the current window"
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        since = utcnow() - WINDOW
        for key, limit in zip(keys, (
                    MAX_FAILURES_PER_CLIENT, MAX_FAILURES_PER_NUMBER)):
            cursor.execute(*table.select(
                    table.id, where=(table.key == key)
                    & (table.attempted_at >= since),
                    limit=limit))
            if len(cursor.fetchall()) >= limit:
                return True
        return False

    @classmethod
    def record_failure(cls, keys):
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        now = utcnow()
        cursor.execute(*table.delete(where=table.attempted_at < now - WINDOW))
        cursor.execute(*table.insert(
                [table.key, table.attempted_at],
                [[key, now] for key in keys]))


def _language(request):
    wanted = request.args.get('lang') or request.form.get('lang')
    if wanted in LANGUAGES:
        return wanted
    best = request.accept_languages.best_match(['en', 'zh-CN', 'zh'])
    return 'zh_CN' if best and best.startswith('zh') else 'en'


@functools.cache
def _template(name):
    "A parsed page template; parsed once per process"
    with open(os.path.join(TEMPLATE_DIR, name), 'rb') as file:
        return MarkupTemplate(file, filename=name)


def _render(language, status=200, template_name='status.html', **values):
    template = _template(template_name)
    with Transaction().set_context(language=language):
        def _(name, **variables):
            return gettext('tipline.msg_status_' + name, **variables)
        body = template.generate(
            _=_, language=language, languages=LANGUAGES, **values).render(
            'html', doctype='html5', encoding='utf-8')
    response = Response(body, status=status,
        content_type='text/html; charset=utf-8')
    response.headers['Cache-Control'] = 'no-store'
    response.headers['X-Frame-Options'] = 'DENY'
    response.headers['X-Content-Type-Options'] = 'nosniff'
    # Not no-referrer: browsers then send 'Origin: null' with the form,
    # which trytond refuses.
    response.headers['Referrer-Policy'] = 'same-origin'
    response.headers['Content-Security-Policy'] = (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'")
    return response


def receipt_holder(pool, request):
    """The anonymous report whose tracking number and receipt the posted
    form gives, within the rate limits: (report, None), else (None,
    'limited') or (None, 'failed'), a failure being counted"""
    Report = pool.get('tipline.report')
    Attempt = pool.get('tipline.status_attempt')
    number = (request.form.get('number') or '')[:64]
    receipt = (request.form.get('receipt') or '')[:64]
    try:
        canonical = tipline_core.parse_tracking_number(number)
    except tipline_core.InvalidInput:
        canonical = number.strip().upper()
    keys = Attempt.keys_for(request.remote_addr, canonical)
    if Attempt.limited(keys):
        return None, 'limited'
    report = Report.status_for_receipt(number, receipt)
    if report is None:
        Attempt.record_failure(keys)
        return None, 'failed'
    return report, None


@app.route('/<database_name>/tipline/status', methods=['GET', 'POST'])
@with_pool
@with_transaction(readonly=False)
def status_page(request, pool):
    try:
        Report = pool.get('tipline.report')
    except KeyError:
        # Routes exist for every database; Tipline may not be active here.
        return Response('Not Found', status=404)
    language = _language(request)

    def page(status=200, **values):
        "The status page: the look-up form, with whatever values say"
        values = {'report': None, 'failed': False, 'limited': False,
            'number': '', 'receipt': '', 'appeal': None, **values}
        return _render(language, status=status, **values)

    if request.method == 'GET':
        return page()

    number = (request.form.get('number') or '')[:64]
    receipt = (request.form.get('receipt') or '')[:64]
    report, refusal = receipt_holder(pool, request)
    if refusal == 'limited':
        return page(status=429, limited=True, number=number)
    if refusal:
        return page(failed=True, number=number)
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
        report = Report(report.id)
        values = {
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
            }
    return page(report=values, number=report.tracking_number,
        receipt=receipt, appeal=appeal)



@app.route('/<database_name>/tipline/help', methods=['GET'])
@with_pool
@with_transaction()
def help_page(request, pool):
    try:
        Category = pool.get('tipline.category')
    except KeyError:
        return Response('Not Found', status=404)
    language = _language(request)
    with Transaction().set_context(language=language):
        categories = [{'name': c.name, 'guidance': c.guidance or ''}
            for c in Category.search([])]
    return _render(language, template_name='help.html',
        categories=categories, status_url='status?lang=%s' % language)
