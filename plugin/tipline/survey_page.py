"""The survey for anonymous reporters, reached from the status page after a
valid tracking number and receipt.  The number and receipt are checked again
here, with the status page's rate limits."""
from werkzeug.wrappers import Response

from trytond.protocols.wrappers import with_pool, with_transaction
from trytond.transaction import Transaction
from trytond.wsgi import app

from .exceptions import FeedbackError
from .status import _language, _render, receipt_holder, too_many_attempts


def _answer(form):
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


@app.route('/<database_name>/tipline/survey', methods=['POST'])
@with_pool
@with_transaction(readonly=False)
def survey_page(request, pool):
    try:
        Report = pool.get('tipline.report')
    except KeyError:
        return Response('Not Found', status=404)
    language = _language(request)
    report, refusal = receipt_holder(pool, request)
    if refusal == 'failed':
        return _render(language, status=403, template_name='survey.html',
            outcome='failed')
    if refusal:
        return too_many_attempts(_render(language,
                template_name='survey.html', outcome='limited'), refusal)
    answer = _answer(request.form)
    if answer is None:
        return _render(language, status=400, template_name='survey.html',
            outcome='incomplete')
    try:
        pool.get('tipline.survey.answer').answer(Report(report.id), *answer)
    except FeedbackError:
        Transaction().rollback()
        return _render(language, status=409, template_name='survey.html',
            outcome='closed')
    return _render(language, template_name='survey.html', outcome='thanks')
