"""Rendering Tipline's public pages (routes.py): the reader's language, the
Genshi templates of the package's templates/ folder (autoescaped), and the
security headers every page carries."""
import functools
import math
import os

from genshi.template import TemplateLoader
from werkzeug.wrappers import Response

from trytond.i18n import gettext
from trytond.transaction import Transaction

LANGUAGES = ('en', 'zh_CN')
TEMPLATE_DIR = os.path.join(os.path.dirname(__file__), 'templates')
SECURITY_HEADERS = {
    'Cache-Control': 'no-store',
    'X-Frame-Options': 'DENY',
    'X-Content-Type-Options': 'nosniff',
    # Not no-referrer: browsers then send 'Origin: null' with the form,
    # which trytond refuses.
    'Referrer-Policy': 'same-origin',
    'Content-Security-Policy': (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'"),
    }


def language(request):
    "The page's language: asked for in the query or form, else the browser's"
    wanted = request.args.get('lang') or request.form.get('lang')
    if wanted in LANGUAGES:
        return wanted
    best = request.accept_languages.best_match(['en', 'zh-CN', 'zh'])
    return 'zh_CN' if best and best.startswith('zh') else 'en'


@functools.cache
def _loader():
    "Parses each template once per process; pages extend layout.html"
    return TemplateLoader(TEMPLATE_DIR, auto_reload=False)


def render(language, template_name, status=200, **values):
    """The response of template_name in language; its texts are the
    messages tipline.msg_status_<name>, through the template's _()"""
    template = _loader().load(template_name)
    with Transaction().set_context(language=language):
        def _(name, **variables):
            return gettext('tipline.msg_status_' + name, **variables)
        body = template.generate(
            _=_, language=language, languages=LANGUAGES, **values).render(
            'html', doctype='html5', encoding='utf-8')
    response = Response(body, status=status,
        content_type='text/html; charset=utf-8')
    response.headers.update(SECURITY_HEADERS)
    return response


def attachment(filename, content):
    "A text file to save, not to show, with the pages' headers"
    response = Response(content, content_type='text/plain; charset=utf-8')
    response.headers.update(SECURITY_HEADERS)
    response.headers['Content-Disposition'] = (
        'attachment; filename="%s"' % filename)
    return response


def too_many_attempts(response, wait):
    "response as a 429 that tells when to come back"
    response.status_code = 429
    response.headers['Retry-After'] = str(
        max(1, math.ceil(wait.total_seconds())))
    return response
