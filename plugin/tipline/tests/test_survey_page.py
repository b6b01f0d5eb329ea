from trytond.pool import Pool
from trytond.tests.test_tryton import RouteTestCase
from trytond.transaction import Transaction
from trytond.modules.tipline import rate_limit
from trytond.modules.tipline.tests.tools import (
    category, forget_rate_limits, make_party, resolved_report,
    use_throwaway_master_key)

use_throwaway_master_key()


class SurveyPageTestCase(RouteTestCase):
    "Anonymous reporters answer the survey from the status page"
    module = 'tipline'

    @classmethod
    def setUpDatabase(cls):
        Report = Pool().get('tipline.report')
        party = make_party("Survey Page Ltd")
        resolved, receipt = resolved_report(party)
        cls.number, cls.receipt = resolved.tracking_number, receipt
        open_, open_receipt = Report.file(
            party, category('spam'),
            "More advertising pasted into party records.",
            anonymous=True)
        cls.open_number, cls.open_receipt = (
            open_.tracking_number, open_receipt)

    def setUp(self):
        super().setUp()
        forget_rate_limits(self.db_name)

    def answer(self, number, receipt, **data):
        values = {'number': number, 'receipt': receipt,
            'satisfaction': '4', 'fair': 'yes', 'again': 'no',
            'comment': "The receipt was easy to use."}
        values.update(data)
        return self.client().post(
            '/%s/tipline/survey' % self.db_name, data=values)

    def test_wrong_receipts_slow_down_like_the_status_page(self):
        """The survey checks the receipt under the status page's limits:
        others' guesses do not keep the reporter out"""
        for i in range(rate_limit.FREE_CHECKS_PER_NUMBER):
            self.assertEqual(self.answer(
                    self.open_number, '0000-0000-0000-000%d' % i).status_code,
                403)
        response = self.answer(self.open_number, self.open_receipt)
        self.assertEqual(response.status_code, 429)
        self.assertIn(int(response.headers['Retry-After']),
            range(1, int(rate_limit.FIRST_WAIT.total_seconds()) + 1))
        response = self.client().post(
            '/%s/tipline/survey' % self.db_name, data={
                'number': self.open_number, 'receipt': self.open_receipt,
                'satisfaction': '4', 'fair': 'yes', 'again': 'no'},
            environ_base={'REMOTE_ADDR': '10.9.0.2'})
        # Checked at once from elsewhere: the report is open, no survey yet.
        self.assertEqual(response.status_code, 409)

    def test_survey_shown_once_answered_once(self):
        "The resolved report's status page offers the survey; one answer"
        client = self.client()
        status = '/%s/tipline/status' % self.db_name
        html = client.post(status, data={
                'number': self.number,
                'receipt': self.receipt}).get_data(as_text=True)
        self.assertIn('id="survey"', html)
        self.assertIn('action="survey"', html)
        html = client.post(status, data={
                'number': self.open_number,
                'receipt': self.open_receipt}).get_data(as_text=True)
        self.assertNotIn('id="survey"', html)

        self.assertEqual(self.answer(
                self.number, self.receipt, fair='').status_code, 400)
        self.assertEqual(self.answer(
                self.number, '0000-0000-0000-0000').status_code, 403)
        self.assertEqual(self.answer(
                self.open_number, self.open_receipt).status_code, 409)
        response = self.answer(self.number, self.receipt)
        self.assertEqual(response.status_code, 200)
        self.assertIn('Thank you', response.get_data(as_text=True))
        self.assertEqual(
            self.answer(self.number, self.receipt).status_code, 409)
        html = client.post(status, data={
                'number': self.number,
                'receipt': self.receipt}).get_data(as_text=True)
        self.assertNotIn('id="survey"', html)

        with Transaction().start(self.db_name, 0):
            Answer = Pool().get('tipline.survey.answer')
            answer, = Answer.search([])
            self.assertEqual(
                (answer.satisfaction, answer.handled_fairly,
                    answer.would_report_again), (4, True, False))
            self.assertNotIn(b'receipt was easy', bytes(answer.comment_enc))
