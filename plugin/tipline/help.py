"""Tipline's help: the page (routes.py serves it) and the menu entry that
opens it."""
import urllib.parse

from trytond.transaction import Transaction
from trytond.url import http_base
from trytond.wizard import StateAction, Wizard


def help_url():
    "The address of the help page, in the user's language"
    transaction = Transaction()
    language = transaction.context.get('language') or 'en'
    return urllib.parse.urljoin(http_base(),
        '%s/tipline/help?lang=%s' % (
            urllib.parse.quote(transaction.database.name),
            'zh_CN' if language.startswith('zh') else 'en'))


class OpenHelp(Wizard):
    "Open the help page of Tipline in the user's language"
    __name__ = 'tipline.help'

    start = StateAction('tipline.url_help')

    def do_start(self, action):
        action['url'] = help_url()
        return action, {}
