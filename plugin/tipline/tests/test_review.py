import csv
import datetime as dt
import io
import zipfile

from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction, check_access

from trytond.modules.tipline.tests.tools import (
    category, file_report, make_party,
    reporter_other_moderator, resolve_reports, use_throwaway_master_key)

use_throwaway_master_key()


class ReviewTestCase(ModuleTestCase):
    "The periodic review, surveys, suggestions and announcements"
    module = 'tipline'
    extras = ['sale_opportunity']

    def _users(self):
        return reporter_other_moderator('reporter@example.com')

    def _category(self, code):
        return category(code)

    def _party(self, name):
        return make_party(name)

    def _file(self, user, target, code='harassment', anonymous=False,
            description="Insulting notes written about a contact."):
        report, _ = file_report(user, target, category(code), description,
            anonymous=anonymous)
        return report

    def _resolve(self, reports, outcome='upheld'):
        return resolve_reports(reports, outcome)

    @staticmethod
    def _month(day):
        return day.replace(day=1)

    @with_transaction()
    def test_review_figures(self):
        "A period with known reports gives the expected frozen figures"
        pool = Pool()
        Report = pool.get('tipline.report')
        Review = pool.get('tipline.review')
        reporter, _, _ = self._users()
        acme, other = self._party("ACME"), self._party("Other Ltd")
        this_month = self._month(dt.date.today())
        start = self._month(this_month - dt.timedelta(days=1))
        before = self._month(start - dt.timedelta(days=1))
        at = lambda day, hour=0: dt.datetime.combine(  # noqa: E731
            day, dt.time()) + dt.timedelta(hours=hour)
        later = at(this_month, 24 * 40)

        old = self._file(reporter, acme)
        Report.write([old], {'submitted_at': at(before, 10),
                'resolve_by': later, 'acknowledge_by': later})
        Review.make('monthly', before)

        r1 = self._file(reporter, acme)
        r2 = self._file(reporter, acme)
        r3 = self._file(reporter, acme, code='spam')
        r4 = self._file(reporter, other)
        Report.write([r3], {'category': self._category('fraud').id})
        r1, = self._resolve([r1])
        r2, = self._resolve([r2], outcome='not_upheld')
        acknowledged = 'acknowledged_at' in Report._fields
        answered = 'first_response_at' in Report._fields
        Report.write([r1], {
                'submitted_at': at(start, 0), 'resolved_at': at(start, 10),
                'resolve_by': at(start, 24), 'acknowledge_by': at(start, 8),
                'statutory_acknowledge_by': at(start, 24 * 7),
                'statutory_due': at(start, 24 * 19),
                **({'acknowledged_at': at(start, 2)} if acknowledged else {}),
                **({'first_response_at': at(start, 10)} if answered else {}),
                })
        Report.write([r2], {
                'submitted_at': at(start, 24), 'resolved_at': at(start, 54),
                'resolve_by': at(start, 48), 'acknowledge_by': at(start, 28),
                'statutory_acknowledge_by': None, 'statutory_due': None,
                **({'acknowledged_at': at(start, 30)} if acknowledged else {}),
                **({'first_response_at': at(start, 54)} if answered else {}),
                })
        for report in (r3, r4):
            Report.write([report], {'submitted_at': at(start, 72),
                    'resolve_by': later, 'acknowledge_by': later,
                    'statutory_acknowledge_by': None, 'statutory_due': None,
                    **({'acknowledged_at': later} if acknowledged else {}),
                    })

        review = Review.make('monthly', start)
        self.assertEqual(review.start_date, start)
        self.assertEqual(review.previous.start_date, before)
        figures = {(l.kind, l.key): l for l in review.lines}

        def value(kind, key):
            return figures[(kind, key)].value

        self.assertEqual(review.report_count, 4)
        self.assertEqual(value('category', 'harassment'), 3)
        self.assertEqual(value('category', 'fraud'), 1)
        self.assertEqual(value('state', 'resolved'), 2)
        self.assertEqual(value('state', Report(r3.id).state), 2)
        self.assertEqual(value('outcome', 'upheld'), 1)
        self.assertEqual(value('outcome', 'not_upheld'), 1)
        self.assertEqual(review.upheld_share, 50.0)
        self.assertEqual(review.resolve_median, 10.0)
        self.assertEqual(review.resolve_p90, 30.0)
        self.assertEqual(review.sla_resolve, 50.0)
        self.assertEqual(review.statutory_feedback, 100.0)
        if acknowledged:
            # Acknowledged 2 and 6 hours after filing; the second late.
            self.assertEqual(review.acknowledge_median, 2.0)
            self.assertEqual(review.acknowledge_p90, 6.0)
            self.assertEqual(review.sla_acknowledge, 50.0)
            self.assertEqual(review.statutory_acknowledge, 100.0)
        else:
            self.assertIsNone(review.acknowledge_median)
            self.assertIsNone(review.sla_acknowledge)
        self.assertEqual(review.accuracy, 75.0)
        self.assertEqual(value('accuracy', 'spam'), 0.0)
        self.assertEqual(value('accuracy', 'harassment'), 100.0)
        self.assertEqual(value('hot_record', str(acme)), 3)
        self.assertEqual(figures[('hot_record', str(acme))].label, "ACME")
        self.assertEqual(value('hot_record', str(other)), 1)
        self.assertEqual(value('hot_model', 'party.party'), 4)
        self.assertEqual(review.survey_answers, 0)
        self.assertIsNone(review.satisfaction)

        # Trend: harassment and ACME tripled, beyond the factor 2.
        self.assertTrue(figures[('category', 'harassment')].alert)
        self.assertEqual(
            figures[('category', 'harassment')].previous_value, 1)
        self.assertTrue(figures[('hot_record', str(acme))].alert)
        self.assertFalse(figures[('category', 'fraud')].alert)
        self.assertFalse(figures[('hot_record', str(other))].alert)
        self.assertIn('ACME', review.alerts)
        self.assertIn('Harassment', review.alerts)

        # Frozen: later changes do not move the stored figures.
        Report.write([r4], {'category': self._category('fraud').id})
        self.assertEqual(Review(review.id).report_count, 4)
        self.assertEqual(
            [l.value for l in Review(review.id).lines
                if (l.kind, l.key) == ('category', 'harassment')], [3])

        # One review per period.
        with self.assertRaises(Exception):
            Review.make('monthly', start)

    @with_transaction()
    def test_review_figures_in_the_readers_language(self):
        "The cron job's language is frozen in the labels, not in the figures"
        pool = Pool()
        Lang = pool.get('ir.lang')
        Review = pool.get('tipline.review')
        Line = pool.get('tipline.review.line')
        reporter, _, _ = self._users()
        self._resolve([self._file(reporter, self._party("ACME"))])
        review = Review.make('monthly', self._month(dt.date.today()))
        zh, = Lang.search([('code', '=', 'zh_CN')])
        Lang.load_translations([zh])
        lines = {(l.kind, l.key): l.id for l in review.lines}
        for language, expected in (
                ('en', {
                        ('state', 'resolved'): "Resolved",
                        ('summary', 'report_count'): "Reports",
                        ('campaign', 'quarantined'):
                        "Quarantined (possible report bombing)",
                        ('category', 'harassment'): "Harassment",
                        ('hot_record', None): "ACME"}),
                ('zh_CN', {
                        ('state', 'resolved'): "已处理",
                        ('campaign', 'quarantined'): "已隔离（疑似恶意批量举报）",
                        ('category', 'harassment'): "骚扰",
                        ('hot_record', None): "ACME"}),
                ):
            with Transaction().set_context(language=language):
                figures = {(l.kind, l.key): l.figure
                    for l in Line.browse(list(lines.values()))}
            for (kind, key), figure in expected.items():
                if key is None:  # a record's name stays as it was
                    key, = [k for q, k in figures if q == kind]
                with self.subTest(language=language, kind=kind, key=key):
                    self.assertEqual(figures[(kind, key)], figure)
        # The frozen label stays in the language the review was made in.
        self.assertEqual(Line(lines[('state', 'resolved')]).label, "Resolved")


    @with_transaction()
    def test_review_counts_cases_and_quarantines(self):
        "Cases by kind and quarantines are figures of the period"
        pool = Pool()
        Review = pool.get('tipline.review')
        Case = pool.get('tipline.case')
        reporter, _, _ = self._users()
        acme, other = self._party("ACME"), self._party("Other Ltd")
        text = ("The same advert for a casino pasted into the notes of "
            "every contact of this company last night.")
        first = self._file(reporter, acme, code='spam', description=text)
        self._file(reporter, other, code='spam', description=text)
        separate = self._file(reporter, self._party("Third Ltd"),
            description="A manager wrote threats into an opportunity.")
        self.assertEqual(first.case.kind, 'campaign')
        self.assertEqual(separate.case.kind, 'target')
        Case.quarantine([separate.case])
        review = Review.make('monthly', self._month(dt.date.today()))
        figures = {(l.kind, l.key): l.value for l in review.lines}
        self.assertEqual(figures[('campaign', 'kind:campaign')], 1)
        self.assertEqual(figures[('campaign', 'kind:target')], 1)
        self.assertEqual(figures[('campaign', 'quarantined')], 1)

    @with_transaction()
    def test_hot_spot_owners(self):
        "Reports on a salesperson's opportunities count against the owner"
        from trytond.modules.company.tests import (
            create_company, create_employee)
        pool = Pool()
        Review = pool.get('tipline.review')
        Opportunity = pool.get('sale.opportunity')
        reporter, _, _ = self._users()
        company = create_company()
        employee = create_employee(company, name="Sam Sales")
        deals = [Opportunity(party=self._party("Client %s" % i),
                company=company, currency=company.currency,
                employee=employee, description="Deal %s" % i)
            for i in range(2)]
        Opportunity.save(deals)
        for deal in deals:
            self._file(reporter, deal)
        self._file(reporter, self._party("Walk-in"))
        review = Review.make('weekly', dt.date.today())
        figures = {(l.kind, l.key): l for l in review.lines}
        owner = figures[('hot_owner', str(employee))]
        self.assertEqual((owner.label, owner.value), ("Sam Sales", 2))
        self.assertEqual(figures[('hot_model', 'sale.opportunity')].value, 2)
        self.assertEqual(figures[('hot_model', 'party.party')].value, 1)
        self.assertNotIn('Sam Sales', review.to_csv().decode('utf-8'))

    @with_transaction()
    def test_cron_reviews_the_last_period_once(self):
        "The cron job reviews the last complete period of the configuration"
        pool = Pool()
        Review = pool.get('tipline.review')
        Configuration = pool.get('tipline.configuration')
        config = Configuration(1)
        config.review_period = 'weekly'
        config.save()
        review = Review.create_due()
        today = dt.date.today()
        monday = today - dt.timedelta(days=today.weekday())
        self.assertEqual(review.start_date, monday - dt.timedelta(days=7))
        self.assertEqual(review.end_date, monday)
        self.assertIsNone(Review.create_due())

    def _review_with_content(self):
        pool = Pool()
        Review = pool.get('tipline.review')
        reporter, _, _ = self._users()
        acme = self._party("Secret Person Ltd")
        self._file(reporter, acme,
            description="Confidential words that must not leak.")
        return Review.make('weekly', dt.date.today()), reporter

    @with_transaction()
    def test_csv_export_has_no_content_or_identity(self):
        "The CSV holds every figure but no report text, record or person"
        pool = Pool()
        Review = pool.get('tipline.review')
        Export = pool.get('tipline.review.export', type='wizard')
        review, reporter = self._review_with_content()
        Review.export_csv([review])
        data = Review(review.id).csv_file.decode('utf-8')
        rows = list(csv.DictReader(io.StringIO(data)))
        self.assertEqual(len(rows), len(review.lines))
        self.assertIn(('category', 'harassment', '1.0'),
            [(r['kind'], r['key'], r['value']) for r in rows])
        self.assertIn(('hot_record', '#1'),
            [(r['kind'], r['label']) for r in rows])
        target = Pool().get('tipline.report').search([])[0].target
        for secret in ('Confidential words', 'Secret Person', 'reporter',
                str(target)):
            self.assertNotIn(secret, data)
        with Transaction().set_context(active_model='tipline.review',
                active_ids=[review.id], active_id=review.id):
            session_id, _, _ = Export.create()
            result = Export(session_id).default_start(None)
        self.assertEqual(result['file'].decode('utf-8'), data)

    @with_transaction()
    def test_printable_review(self):
        "The review prints to an ODT with its figures and bar charts"
        pool = Pool()
        Print = pool.get('tipline.review', type='report')
        review, _ = self._review_with_content()
        extension, content, _, name = Print.execute([review.id], {})
        self.assertEqual(extension, 'odt')
        with zipfile.ZipFile(io.BytesIO(content)) as odt:
            text = odt.read('content.xml').decode('utf-8')
        self.assertIn('Tipline review', text)
        self.assertIn(review.name, text)
        self.assertIn('Harassment', text)
        self.assertIn('Reports by category', text)
        self.assertIn('\u2588' * 24, text)
        self.assertIn('Secret Person Ltd', text)
        self.assertNotIn('Confidential words', text)
        self.assertNotIn('relatorio', text)

    @with_transaction()
    def test_reviews_are_for_administrators(self):
        "Moderators and reporters cannot read reviews"
        pool = Pool()
        Review = pool.get('tipline.review')
        review, reporter = self._review_with_content()
        moderator, = pool.get('res.user').search(
            [('login', '=', 'moderator')])
        for user in (reporter, moderator):
            with Transaction().set_user(user.id), check_access():
                with self.assertRaises(AccessError):
                    Review.read([review.id], ['report_count'])

    def _survey(self, report, user, satisfaction=4, fair='yes',
            again='yes', comment=None):
        Survey = Pool().get('tipline.survey', type='wizard')
        with Transaction().set_user(user.id), check_access(), \
                Transaction().set_context(active_model='tipline.report',
                    active_id=report.id, active_ids=[report.id]):
            session_id, _, _ = Survey.create()
            wizard = Survey(session_id)
            wizard.default_start(None)
            wizard.start.satisfaction = str(satisfaction)
            wizard.start.handled_fairly = fair
            wizard.start.would_report_again = again
            wizard.start.comment = comment
            state = wizard.transition_send()
            self.assertIsNone(wizard.start.comment)
            self.assertIsNone(wizard.start.satisfaction)
            return state

    @with_transaction()
    def test_survey_after_resolution(self):
        "One answer per resolved report, unlinked, shown over k answers only"
        pool = Pool()
        Report = pool.get('tipline.report')
        Review = pool.get('tipline.review')
        Answer = pool.get('tipline.survey.answer')
        Queue = pool.get('tipline.mail_queue')
        reporter, other, _ = self._users()
        party = self._party("ACME")
        reports = [self._file(reporter, party) for _ in range(5)]
        self.assertFalse(reports[0].survey_open)
        with self.assertRaises(UserError):
            self._survey(reports[0], reporter)
        self._resolve(reports[:4])
        reports = Report.browse(reports)
        self.assertTrue(reports[0].survey_open)
        mail = Queue.search([('report', '=', reports[0].id),
                ('template', '=', 'status')], order=[('id', 'DESC')])[0]
        self.assertTrue(mail.values()['survey'])
        self.assertIn('Tell Us How It Went', mail.build().get_body(
                ('plain',)).get_content())

        # Another user cannot answer the reporter's survey.
        with self.assertRaises(AccessError):
            self._survey(reports[0], other)
        self.assertEqual(self._survey(reports[0], reporter,
                comment="Quick and fair, thank you."), 'end')
        with self.assertRaises(UserError):
            self._survey(reports[0], reporter)
        self.assertTrue(Report(reports[0].id).survey_answered)
        self.assertFalse(Report(reports[0].id).survey_open)

        answer, = Answer.search([])
        self.assertEqual(answer.satisfaction, 4)
        self.assertIsNone(answer.create_uid)
        self.assertEqual(answer.create_date.time(), dt.time())
        self.assertNotIn('report', Answer._fields)
        self.assertNotIn(b'Quick and fair', bytes(answer.comment_enc))

        for report in reports[1:4]:
            self._survey(report, reporter, satisfaction=2, fair='no')
        review = Review.make('weekly', dt.date.today())
        self.assertEqual(review.survey_answers, 4)
        self.assertIsNone(review.satisfaction)
        self.assertIsNone(review.survey_comments)

        self._resolve(reports[4:])
        self._survey(reports[4], reporter, satisfaction=5)
        Review.delete([review])
        review = Review.make('weekly', dt.date.today())
        self.assertEqual(review.survey_answers, 5)
        self.assertEqual(review.satisfaction, 3.0)
        self.assertEqual(review.handled_fairly, 40.0)
        self.assertEqual(review.would_report_again, 100.0)
        self.assertEqual(review.survey_comments, "Quick and fair, thank you.")

    @with_transaction()
    def test_suggestion_box(self):
        "Any user writes, moderators read, nothing names the author"
        pool = Pool()
        Suggest = pool.get('tipline.suggestion.submit', type='wizard')
        Suggestion = pool.get('tipline.suggestion')
        Review = pool.get('tipline.review')
        reporter, other, moderator = self._users()
        with Transaction().set_user(other.id), check_access():
            session_id, _, _ = Suggest.create()
            wizard = Suggest(session_id)
            defaults = wizard.default_start(None)
            self.assertIsNone(defaults['invitation'])
            wizard.start.topic = 'deadlines'
            wizard.start.text = "Please show the deadline in my own time zone."
            self.assertEqual(wizard.transition_send(), 'end')
            self.assertIsNone(wizard.start.text)
            with self.assertRaises(AccessError):
                Suggestion.search([])
        suggestion, = Suggestion.search([])
        self.assertIsNone(suggestion.create_uid)
        self.assertNotIn(b'time zone', bytes(suggestion.text_enc))
        with Transaction().set_user(moderator.id), check_access():
            suggestion, = Suggestion.search([])
            self.assertEqual(suggestion.text,
                "Please show the deadline in my own time zone.")
        review = Review.make('weekly', dt.date.today())
        self.assertEqual(review.suggestion_count, 1)
        self.assertIn(('suggestion', 'deadlines', 1),
            [(l.kind, l.key, l.value) for l in review.lines])

    @with_transaction()
    def test_invitations_to_active_users(self):
        "Users who reported in the period are invited by mail and in-app"
        pool = Pool()
        Review = pool.get('tipline.review')
        Invitation = pool.get('tipline.invitation')
        Suggest = pool.get('tipline.suggestion.submit', type='wizard')
        reporter, other, _ = self._users()
        self._file(reporter, self._party("ACME"))
        self._file(other, self._party("Anonymous Target"), anonymous=True)
        Queue = pool.get('tipline.mail_queue')
        review = Review.make('weekly', dt.date.today())
        Review.invite([review])
        Review.invite([review])
        # One mail, queued like every other: the queue sends it.
        mail, = Queue.search([('template', '=', 'invitation')])
        self.assertEqual(mail.review, review)
        self.assertIsNone(mail.report)
        self.assertEqual(mail.address(), 'reporter@example.com')
        self.assertTrue(mail.to_reporter)
        self.assertNotIn(b'reporter@example.com', bytes(mail.recipient_enc))
        message = mail.build()
        self.assertEqual(message['To'], 'reporter@example.com')
        self.assertIn(review.rec_name,
            message.get_body(('plain',)).get_content())
        invitation, = Invitation.search([])
        self.assertIsNone(invitation.create_uid)
        self.assertNotIn('user', Invitation._fields)
        with Transaction().set_user(other.id):
            self.assertEqual(Invitation.pending_for_current_user(), [])
        with Transaction().set_user(reporter.id), check_access():
            session_id, _, _ = Suggest.create()
            wizard = Suggest(session_id)
            self.assertIn(review.rec_name,
                wizard.default_start(None)['invitation'])
            wizard.start.topic = 'general'
            wizard.start.text = "Reporting was easy."
            wizard.transition_send()
            self.assertEqual(Invitation.pending_for_current_user(), [])
        suggestion, = pool.get('tipline.suggestion').search([])
        self.assertTrue(suggestion.invited)

    @with_transaction()
    def test_decision_changes_config_and_is_announced(self):
        "A decision applies its change, keeps the old value, tells users once"
        pool = Pool()
        Review = pool.get('tipline.review')
        Decision = pool.get('tipline.review.decision')
        Announcement = pool.get('tipline.announcement')
        reporter, _, _ = self._users()
        review = Review.make('weekly', dt.date.today())
        fraud = self._category('fraud')
        decision, = Decision.create([{
                    'review': review.id, 'kind': 'sla',
                    'record': str(fraud), 'field_name': 'hours_to_resolve',
                    'new_value': '120',
                    'rationale': "Fraud reports wait too long."}])
        old = fraud.hours_to_resolve
        Decision.apply([decision])
        self.assertEqual(self._category('fraud').hours_to_resolve, 120)
        self.assertEqual(decision.old_value, str(old))
        self.assertEqual(decision.state, 'applied')
        self.assertEqual(decision.record, fraud)
        announcement = decision.announcement
        self.assertIn('Fraud', announcement.title)
        self.assertIn('/tipline/help', announcement.help_url)

        with Transaction().set_user(reporter.id), check_access():
            self.assertEqual(Announcement.unseen(), [announcement])
            Announcement.mark_seen([announcement])
            self.assertEqual(Announcement.unseen(), [])
            self.assertTrue(Announcement(announcement.id).seen)

        bad, = Decision.create([{
                    'review': review.id, 'kind': 'weight',
                    'record': str(fraud), 'field_name': 'severity_weight',
                    'new_value': 'heavy'}])
        with self.assertRaises(UserError):
            Decision.apply([bad])

    @with_transaction()
    def test_report_wizard_tells_changes_once(self):
        "The Report wizard shows an unseen announcement once"
        pool = Pool()
        Announcement = pool.get('tipline.announcement')
        Submit = pool.get('tipline.report.submit', type='wizard')
        reporter, _, _ = self._users()
        party = self._party("ACME")
        Announcement.create([{
                    'title': "Fraud reports: 48 hours",
                    'body': "Fraud reports are now resolved within 48 hours."}])

        def opened():
            with Transaction().set_user(reporter.id), check_access(), \
                    Transaction().set_context(active_model='party.party',
                        active_id=party.id, active_ids=[party.id]):
                session_id, _, _ = Submit.create()
                return Submit(session_id).default_start(None)
        first = opened()['announcements']
        self.assertIn("Fraud reports: 48 hours", first)
        self.assertIn('/tipline/help', first)
        self.assertIsNone(opened()['announcements'])


del ModuleTestCase
