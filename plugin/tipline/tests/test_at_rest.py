from trytond import backend
from trytond.pool import Pool
from trytond.tests.test_tryton import RouteTestCase
from trytond.transaction import Transaction
from trytond.modules.tipline.tests.tools import (
    category, make_party, pg_dump, use_throwaway_master_key)

use_throwaway_master_key()

MARKERS = {
    'description': 'ATREST-DESCRIPTION-6093',
    'evidence name': 'ATREST-FILENAME-1187',
    'evidence data': 'ATREST-FILEDATA-4410',
    'reporter login': 'atrest-reporter-7731',
    'message': 'ATREST-MESSAGE-2290',
    'internal message': 'ATREST-INTERNAL-5187',
    'reply': 'ATREST-REPLY-8842',
    'later file name': 'ATREST-LATERNAME-3305',
    'later file data': 'ATREST-LATERDATA-6612',
    }


class AtRestTestCase(RouteTestCase):
    "No report text or reporter identity in a dump of the whole database"
    module = 'tipline'

    @classmethod
    def setUpDatabase(cls):
        pool = Pool()
        User = pool.get('res.user')
        Report = pool.get('tipline.report')
        reporter, = User.create([{
                    'name': "At Rest Reporter",
                    'login': MARKERS['reporter login']}])
        party = make_party("At Rest Ltd")
        leak = category('data_leak')
        for anonymous in (False, True):
            with Transaction().set_user(reporter.id):
                Report.file(party, leak,
                    "%s: ID numbers pasted in a note." % MARKERS['description'],
                    anonymous=anonymous,
                    evidence=[(MARKERS['evidence name'] + '.txt',
                            MARKERS['evidence data'].encode())])
        # The conversation on the anonymous one: shared and internal
        # messages, and an answer with a file.
        Message = pool.get('tipline.message')
        report, = Report.search([('anonymous', '=', True)])
        Message.post_as_moderator(report,
            "%s: which records?" % MARKERS['message'], ask=True)
        Message.post_as_moderator(report,
            "%s: check the export log." % MARKERS['internal message'],
            visibility='internal')
        Message.post_as_reporter(Report(report.id),
            "%s: the supplier records." % MARKERS['reply'],
            files=[(MARKERS['later file name'] + '.txt',
                    MARKERS['later file data'].encode())])

    def dump(self):
        "Every byte of the committed database, as text"
        if backend.name == 'postgresql':
            return pg_dump(self.db_name, text=True)
        with Transaction().start(self.db_name, 0) as transaction:
            return '\n'.join(transaction.connection.iterdump())

    def test_markers_absent_from_dump(self):
        "Neither the text nor the hex form of a marker is in the dump"
        dump = self.dump()
        self.assertIn('tipline_report', dump)
        for what, marker in MARKERS.items():
            if what == 'reporter login':
                # The user table names users; Tipline's tables must not.
                tipline = '\n'.join(line for line in dump.splitlines()
                    if 'tipline_' in line)
                self.assertNotIn(marker, tipline, msg=what)
                continue
            for form in (marker, marker.encode().hex()):
                with self.subTest(what=what, form=form):
                    self.assertNotIn(form, dump)
                    self.assertNotIn(form.upper(), dump)


del RouteTestCase
