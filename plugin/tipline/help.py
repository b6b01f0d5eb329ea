import urllib.parse

from trytond.transaction import Transaction
from trytond.url import http_base
from trytond.wizard import StateAction, Wizard


class OpenHelp(Wizard):
    "Open the help page of Tipline in the user's language"
    __name__ = 'tipline.help'

    start = StateAction('tipline.url_help')

    def do_start(self, action):
        transaction = Transaction()
        language = transaction.context.get('language') or 'en'
        action['url'] = urllib.parse.urljoin(http_base(),
            '%s/tipline/help?lang=%s' % (
                urllib.parse.quote(transaction.database.name),
                'zh_CN' if language.startswith('zh') else 'en'))
        return action, {}
