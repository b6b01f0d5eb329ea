import os
import datetime as dt
import json

from urllib.parse import quote

from dateutil.relativedelta import relativedelta
from lxml import etree
from sql import Column

from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError, ValidationError
from trytond.model.modelview import AccessButtonError
from trytond.model import ModelSQL, fields
from trytond.pool import Pool
from trytond.pyson import PYSONDecoder
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction, check_access

import tipline_core
from trytond.modules.tipline.tests.tools import (
    category, counting, file_report, investigate_reports, make_party,
    reporter_other_moderator, use_throwaway_master_key)

use_throwaway_master_key()


class TiplineTestCase(ModuleTestCase):
    "Test the Tipline module"
    module = 'tipline'
    extras = ['sale_opportunity']

    def _users(self):
        return reporter_other_moderator()

    def _category(self, code='harassment'):
        return category(code)

    def _party(self, name="ACME"):
        return make_party(name)

    def _file(self, user, target, description="Insulting notes written "
            "about a supplier contact.", anonymous=False, evidence=(),
            category=None):
        report, _ = file_report(user, target, category or self._category(),
            description, anonymous=anonymous, evidence=evidence)
        return report

    @with_transaction()
    def test_default_categories(self):
        "The six default categories exist with sane deadlines"
        Category = Pool().get('tipline.category')
        categories = Category.search([])
        self.assertEqual(
            {c.code for c in categories},
            {'data_leak', 'false_information', 'harassment', 'spam',
                'fraud', 'other'})
        for default in categories:
            self.assertTrue(default.guidance)
            self.assertLessEqual(
                default.hours_to_acknowledge, default.hours_to_resolve)

    @with_transaction()
    def test_category_validation(self):
        "Category weights and deadlines are validated"
        Category = Pool().get('tipline.category')
        with self.assertRaises(ValidationError):
            Category.create([{
                        'name': "Bad", 'code': 'bad1', 'severity_weight': 11}])
        with self.assertRaises(ValidationError):
            Category.create([{
                        'name': "Bad", 'code': 'bad2',
                        'hours_to_acknowledge': 48, 'hours_to_resolve': 24}])
        with self.assertRaises(ValidationError):
            Category.create([{
                        'name': "Bad", 'code': 'bad3',
                        'hours_to_acknowledge': 0}])

    @with_transaction()
    def test_file_report(self):
        "Filing gives a valid tracking number and deadlines from the category"
        reporter, _, _ = self._users()
        party = self._party()
        category = self._category('data_leak')
        before = dt.datetime.utcnow().replace(microsecond=0)
        report = self._file(reporter, party, category=category,
            evidence=[('shot.txt', b'seen at 9pm')])
        self.assertEqual(
            tipline_core.parse_tracking_number(report.tracking_number),
            report.tracking_number)
        self.assertEqual(report.target, party)
        self.assertEqual(report.target_label, party.rec_name)
        self.assertEqual(
            report.reporter_token,
            Pool().get('tipline.keyset').reporter_token(reporter.id))
        self.assertEqual(report.reporter_identity()['login'], 'reporter')
        self.assertEqual(report.reporter_display, 'Confidential')
        self.assertEqual(report.description,
            "Insulting notes written about a supplier contact.")
        self.assertGreaterEqual(report.submitted_at, before)
        submitted_minute = report.submitted_at.replace(
            second=0, microsecond=0)
        self.assertEqual(report.resolve_by - submitted_minute,
            dt.timedelta(hours=category.hours_to_resolve))
        self.assertEqual(report.acknowledge_by - submitted_minute,
            dt.timedelta(hours=category.hours_to_acknowledge))
        self.assertEqual(
            [(e.name, e.data, e.size) for e in report.evidence],
            [('shot.txt', b'seen at 9pm', 11)])
        # The host's "created by" would name the reporter to moderators.
        self.assertIsNone(report.create_uid)
        self.assertIsNone(report.write_uid)
        self.assertEqual(report.state, 'acknowledged')
        self.assertEqual(report.acknowledged_at, report.submitted_at)

    @with_transaction()
    def test_tracking_numbers_differ(self):
        "Every report gets its own tracking number"
        reporter, _, _ = self._users()
        party = self._party()
        numbers = {self._file(reporter, party).tracking_number
            for _ in range(20)}
        self.assertEqual(len(numbers), 20)

    @with_transaction()
    def test_submission_validation(self):
        "Bad input is refused with a clear error and nothing is stored"
        pool = Pool()
        Report = pool.get('tipline.report')
        Configuration = pool.get('tipline.configuration')
        Address = pool.get('party.address')
        config = Configuration(1)
        config.max_evidence_size = 1
        config.save()
        reporter, _, _ = self._users()
        party = self._party()
        cases = [
            dict(description="too short"),
            dict(description="x" * (config.max_description_length + 1)),
            dict(evidence=[('big.bin', b'0' * (1024 * 1024 + 1))]),
            dict(evidence=[('', b'data')]),
            ]
        for case in cases:
            with self.subTest(case=str(case)[:60]):
                with self.assertRaises(UserError):
                    self._file(reporter, party, **case)
        category = self._category('spam')
        category.active = False
        category.save()
        with self.assertRaises(UserError):
            self._file(reporter, party, category=category)
        address = Address(party=party)
        address.save()
        with self.assertRaises(UserError):
            self._file(reporter, address)
        self.assertEqual(Report.search([], count=True), 0)

    @with_transaction()
    def test_anonymous_report_has_no_author(self):
        "An anonymous report and its evidence keep no user id or token"
        pool = Pool()
        Report = pool.get('tipline.report')
        reporter, _, _ = self._users()
        with Transaction().set_user(reporter.id), check_access():
            report, receipt = Report.file(
                self._party(), self._category(),
                "Threats written into the notes of this party.",
                anonymous=True, evidence=[('a.txt', b'evidence')])
        self.assertTrue(tipline_core.verify_receipt(
                receipt, report.receipt_hash))
        self.assertIsNone(report.reporter_token)
        self.assertIsNone(report.reporter_identity_enc)
        self.assertIsNone(report.reporter_identity())
        self.assertEqual(report.reporter_display, 'Anonymous')
        self.assertEqual(Report.status_for_receipt(
                report.tracking_number.lower(), receipt), report)
        self.assertIsNone(Report.status_for_receipt(
                report.tracking_number, '1234-5678-9012-3456'))
        self.assertIsNone(Report.status_for_receipt('TL-nonsense', receipt))
        # No column of any Tipline table that references a user names the
        # author, nor does any stored value carry the author's token.
        token = pool.get('tipline.keyset').reporter_token(reporter.id)
        cursor = Transaction().connection.cursor()
        checked = 0
        for name, Model in pool.iterobject():
            if not name.startswith('tipline.') or not issubclass(
                    Model, ModelSQL) or callable(Model.table_query):
                continue
            table = Model.__table__()
            for fname, field in Model._fields.items():
                if (getattr(field, 'model_name', None) == 'res.user'
                        and isinstance(field, fields.Many2One)
                        and not hasattr(field, 'getter')):
                    checked += 1
                    cursor.execute(*table.select(table.id,
                            where=Column(table, fname) == reporter.id))
                    self.assertEqual(cursor.fetchall(), [],
                        msg='%s.%s' % (name, fname))
            cursor.execute('SELECT * FROM "%s"' % Model._table)
            for row in cursor:
                self.assertNotIn(token, repr(row), msg=name)
        self.assertGreaterEqual(checked, 8)
        with Transaction().set_user(reporter.id), check_access():
            self.assertEqual(Report.search([('mine', '=', True)]), [])

    @with_transaction()
    def test_no_plaintext_at_rest(self):
        "Description, evidence and identity are stored only encrypted"
        pool = Pool()
        Report = pool.get('tipline.report')
        Evidence = pool.get('tipline.evidence')
        reporter, _, _ = self._users()
        User = pool.get('res.user')
        User.write([reporter], {'name': "Zebediah Quuxworth"})
        report = self._file(reporter, self._party(),
            description="MARKER-DESC-93117 was pasted into the notes.",
            evidence=[('MARKER-NAME-5521.txt', b'MARKER-DATA-7730')])
        cursor = Transaction().connection.cursor()
        for Model in (Report, Evidence):
            cursor.execute('SELECT * FROM "%s"' % Model._table)
            for row in cursor:
                raw = repr(row)
                for marker in ('MARKER-DESC', 'MARKER-NAME', 'MARKER-DATA',
                        'Quuxworth', "'reporter'"):
                    self.assertNotIn(marker, raw)
        self.assertIn('MARKER-DESC-93117', report.description)

    @with_transaction()
    def test_access_matrix(self):
        "Who may list, read, export and see the identity and evidence"
        pool = Pool()
        Report = pool.get('tipline.report')
        Evidence = pool.get('tipline.evidence')
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        Reveal = pool.get('tipline.report.reveal_identity', type='wizard')
        reporter, other, moderator = self._users()
        custodian, = User.create([{
                    'name': "Custodian", 'login': 'custodian',
                    'groups': [('add', [ModelData.get_id(
                                    'tipline', 'group_tipline_custodian')])],
                    }])
        report = self._file(reporter, self._party(),
            evidence=[('e.txt', b'evidence')])
        evidence, = report.evidence

        def can(user, action):
            with Transaction().set_user(user.id), check_access(), \
                    Transaction().set_context(
                        active_model='tipline.report',
                        active_id=report.id, active_ids=[report.id]):
                try:
                    if action == 'list':
                        return Report.search([]) == [report]
                    if action == 'content':
                        return bool(Report.read(
                                [report.id], ['description'])[0][
                                'description'])
                    if action == 'export':
                        return bool(Report.export_data(
                                [Report(report.id)], ['description']))
                    if action == 'evidence':
                        return Evidence.read(
                            [evidence.id], ['data'])[0]['data'] == (
                            b'evidence')
                    if action == 'identity':
                        session_id, _, _ = Reveal.create()
                        wizard = Reveal(session_id)
                        wizard.start.reason = (
                            "Threats of violence: the police asked for it.")
                        wizard.transition_reveal()
                        return wizard.default_result(None)['login'] == (
                            'reporter')
                except (AccessError, UserError):
                    return False
        tipline_admin, = User.create([{
                    'name': "Tipline Admin", 'login': 'tipline_admin',
                    'groups': [('add', [ModelData.get_id(
                                    'tipline', 'group_tipline_admin')])],
                    }])
        expected = {
            # list, content, export, evidence, identity
            'reporter': (True, True, True, True, False),
            'other': (False, False, False, False, False),
            'moderator': (True, True, True, True, False),
            'custodian': (True, True, True, True, True),
            # Configuring Tipline gives no access to reports.
            'administrator': (False, False, False, False, False),
            }
        actions = ('list', 'content', 'export', 'evidence', 'identity')
        users = {'reporter': reporter, 'other': other,
            'moderator': moderator, 'custodian': custodian,
            'administrator': tipline_admin}
        for name, row in expected.items():
            for action, allowed in zip(actions, row):
                with self.subTest(user=name, action=action):
                    self.assertEqual(can(users[name], action), allowed)
        # The reveal is on record, and the reporter is told about it.
        access, = Report(report.id).identity_accesses
        self.assertEqual(access.custodian, custodian)
        with Transaction().set_user(reporter.id), check_access():
            self.assertIn('accessed your identity',
                Report(report.id).identity_accessed)

    @with_transaction()
    def test_reported_people_never_see_reports_about_them(self):
        "A moderator who is, or owns, the reported record cannot see it"
        from trytond.modules.company.tests import (
            create_company, create_employee)
        pool = Pool()
        Report = pool.get('tipline.report')
        Evidence = pool.get('tipline.evidence')
        User = pool.get('res.user')
        Opportunity = pool.get('sale.opportunity')
        reporter, _, moderator = self._users()
        subject, = User.create([{
                    'name': "Subject Moderator", 'login': 'subject',
                    'groups': [('add', [g.id for g in moderator.groups])],
                    }])
        company = create_company()
        employee = create_employee(company, name="Sam Subject")
        User.write([subject], {
                'companies': [('add', [company.id])],
                'employees': [('add', [employee.id])],
                })
        about_person = self._file(reporter, employee.party,
            evidence=[('e.txt', b'evidence')])
        opportunity = Opportunity(party=self._party("Client"),
            company=company, currency=company.currency, employee=employee,
            description="Deal")
        opportunity.save()
        about_deal = self._file(reporter, opportunity)
        unrelated = self._file(reporter, self._party("Elsewhere"))
        with Transaction().set_user(subject.id), check_access():
            self.assertEqual(Report.search([]), [unrelated])
            for report in (about_person, about_deal):
                with self.assertRaises(AccessError):
                    Report.read([report.id], ['description'])
                with self.assertRaises(AccessError):
                    Report.export_data([Report(report.id)], ['description'])
            with self.assertRaises(AccessError):
                Evidence.read(
                    [e.id for e in about_person.evidence], ['data'])
            self.assertEqual(Report.search(
                    [('target', '=', str(employee.party))]), [])
        with Transaction().set_user(moderator.id), check_access():
            self.assertEqual(
                set(Report.search([])),
                {about_person, about_deal, unrelated})

    @with_transaction()
    def test_history_is_a_verified_hash_chain(self):
        "Events are chained; tampering with one row is found and named"
        pool = Pool()
        Report = pool.get('tipline.report')
        Event = pool.get('tipline.audit_event')
        reporter, _, moderator = self._users()
        report = self._file(reporter, self._party())
        with Transaction().set_user(moderator.id), check_access():
            self._investigate(report)
            report = Report(report.id)
            report.outcome = 'upheld'
            report.reporter_message = "Removed."
            report.save()
            Report.resolve([report])
            Report.export_data([Report(report.id)], ['tracking_number'])
        events = Event.search([('report', '=', report.id)])
        self.assertEqual(
            [e.kind for e in events],
            ['submit', 'state', 'assign', 'case_join', 'verify', 'state',
                'state', 'message', 'state', 'export'])
        self.assertEqual([e.sequence for e in events], list(range(1, 11)))
        # Filing, its acknowledgement, assignment and case name nobody.
        self.assertEqual([e.actor for e in events[:4]], ['', '', '', ''])
        self.assertEqual(events[4].actor, 'moderator')
        self.assertNotIn('Removed', events[7].details)
        self.assertEqual(Event.verify([report.id]), {report.id: None})
        with Transaction().set_user(moderator.id), check_access():
            Report.verify_history([Report(report.id)])
            self.assertIn('Intact: 10 events',
                Report(report.id).history_status)
            with self.assertRaises(UserError):
                Event.write([events[2]], {'kind': 'forged'})
            with self.assertRaises(UserError):
                Event.delete([events[2]])

        # Someone with database access rewrites the third event.
        table = Event.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.update(
                [table.details], ['{"from": "", "to": "mallory"}'],
                where=table.id == events[2].id))
        self.assertEqual(Event.verify([report.id]), {report.id: 3})
        Report.verify_history([Report(report.id)])
        self.assertIn('BROKEN at event #3', Report(report.id).history_status)

    @with_transaction()
    def test_reporters_do_not_read_the_history(self):
        "The trail is for staff"
        pool = Pool()
        Event = pool.get('tipline.audit_event')
        reporter, _, _ = self._users()
        report = self._file(reporter, self._party())
        with Transaction().set_user(reporter.id), check_access():
            with self.assertRaises(AccessError):
                Event.search([('report', '=', report.id)])

    @with_transaction()
    def test_reporters_get_a_tailored_explanation(self):
        "Not upheld, unproven and recategorised reports explain themselves"
        pool = Pool()
        Report = pool.get('tipline.report')
        Explanation = pool.get('tipline.outcome_explanation')
        reporter, _, moderator = self._users()
        spam = self._category('spam')
        Explanation.create([{
                    'kind': 'not_upheld', 'category': spam.id,
                    'text': "Newsletters are not spam when asked for."}])
        general = self._file(reporter, self._party())
        specific = self._file(reporter, self._party(), category=spam)
        unproven = self._file(reporter, self._party())
        moved = self._file(reporter, self._party())
        with Transaction().set_user(moderator.id), check_access():
            self._investigate(general, specific, unproven)
            Report.write([Report(general.id), Report(specific.id)], {
                    'outcome': 'not_upheld'})
            Report.write([Report(unproven.id)], {
                    'outcome': 'insufficient_evidence'})
            Report.resolve([Report(general.id), Report(specific.id),
                    Report(unproven.id)])
            Report.write([Report(moved.id)], {
                    'category': self._category('fraud').id})
        with Transaction().set_user(reporter.id), check_access():
            self.assertIn('found no breach',
                Report(general.id).explanation)
            self.assertEqual(Report(specific.id).explanation,
                "Newsletters are not spam when asked for.")
            self.assertIn('could not establish',
                Report(unproven.id).explanation)
            self.assertIn('moved your report',
                Report(moved.id).explanation)
        # Each reader in their own language, whoever resolved it.
        Lang = pool.get('ir.lang')
        Lang.load_translations(Lang.search([('code', '=', 'zh_CN')]))
        with Transaction().set_user(reporter.id), check_access(), \
                Transaction().set_context(language='zh_CN'):
            self.assertIn('审核员', Report(general.id).explanation)

    @with_transaction()
    def test_explanation_copies_migrate_in_every_language(self):
        "A copy of an explanation stored before it was linked finds its explanation, in whatever language it was copied"
        pool = Pool()
        Report = pool.get('tipline.report')
        Explanation = pool.get('tipline.outcome_explanation')
        Lang = pool.get('ir.lang')
        Lang.load_translations(Lang.search([('code', '=', 'zh_CN')]))
        reporter, _, moderator = self._users()
        english, chinese, custom = (
            self._file(reporter, self._party()) for _ in range(3))
        with Transaction().set_user(moderator.id), check_access():
            self._investigate(english, chinese, custom)
            Report.write([Report(english.id), Report(chinese.id),
                    Report(custom.id)], {'outcome': 'not_upheld'})
            Report.resolve([Report(english.id), Report(chinese.id),
                    Report(custom.id)])
        explanation = Report(english.id).outcome_explanation
        self.assertTrue(explanation)
        with Transaction().set_context(language='zh_CN'):
            in_chinese = Explanation(explanation.id).text
        self.assertIn('审核员', in_chinese)
        # As stored before: the text copied in the resolver's language,
        # no link.
        table = Report.__table__()
        table_h = Report.__table_handler__()
        table_h.add_column('explanation', 'TEXT')
        cursor = Transaction().connection.cursor()
        for report, text in [(english, explanation.text),
                (chinese, in_chinese), (custom, "Written by hand.")]:
            cursor.execute(*table.update(
                    [Column(table, 'explanation'), table.outcome_explanation],
                    [text, None], where=table.id == report.id))

        Report.__register__('tipline')

        self.assertFalse(
            Report.__table_handler__().column_exist('explanation'))
        cursor.execute(*table.select(table.id, table.outcome_explanation,
                where=table.id.in_([english.id, chinese.id, custom.id])))
        linked = dict(cursor)
        self.assertEqual(linked[english.id], explanation.id)
        self.assertEqual(linked[chinese.id], explanation.id)
        self.assertIsNone(linked[custom.id])

    @with_transaction()
    def test_appeal_window_from_the_resolution_as_stored(self):
        "A resolution at second 0 and some microseconds opens exactly the window, not a minute more"
        from unittest.mock import patch
        from trytond.modules.tipline.clock import now as utcnow
        pool = Pool()
        Report = pool.get('tipline.report')
        reporter, _, moderator = self._users()
        report = self._file(reporter, self._party())
        with Transaction().set_user(moderator.id), check_access():
            self._investigate(report)
            Report.write([Report(report.id)], {'outcome': 'not_upheld'})
            at = utcnow().replace(second=0, microsecond=300000)
            with patch('trytond.modules.tipline.report.utcnow',
                    return_value=at):
                Report.resolve([Report(report.id)])
        report = Report(report.id)
        self.assertEqual(report.resolved_at, at.replace(microsecond=0))
        self.assertEqual(report.appeal_deadline - report.resolved_at,
            dt.timedelta(days=14))

    def test_working_days_skip_weekends(self):
        "Working days run Monday to Friday"
        from trytond.modules.tipline.jurisdiction import add_working_days
        friday = dt.datetime(2026, 11, 27, 10, 0)
        self.assertEqual(add_working_days(friday, 1),
            dt.datetime(2026, 11, 30, 10, 0))
        self.assertEqual(add_working_days(friday, 15),
            dt.datetime(2026, 12, 18, 10, 0))

    @with_transaction()
    def test_two_clocks(self):
        "Operational and statutory deadlines, near due and overdue flags"
        pool = Pool()
        Report = pool.get('tipline.report')
        Configuration = pool.get('tipline.configuration')
        Jurisdiction = pool.get('tipline.jurisdiction')
        eu, = Jurisdiction.search([('code', '=', 'eu_whistleblowing')])
        china, = Jurisdiction.search([('code', '=', 'cn_15_working_days')])
        config = Configuration(1)
        config.default_jurisdiction = eu
        config.save()
        fraud = self._category('fraud')
        fraud.jurisdiction = china
        fraud.save()
        reporter, _, _ = self._users()

        report = self._file(reporter, self._party())
        start = report.submitted_at.replace(second=0, microsecond=0)
        self.assertEqual(report.jurisdiction, eu)
        self.assertEqual(report.statutory_acknowledge_by,
            start + dt.timedelta(days=7))
        self.assertEqual(report.statutory_due.date(),
            (start + relativedelta(months=3)).date())
        self.assertEqual(report.first_response_by,
            start + dt.timedelta(hours=72))
        self.assertFalse(report.near_due)
        self.assertFalse(report.statutory_overdue)
        self.assertIn('left', report.statutory_time_left)

        from trytond.modules.tipline.jurisdiction import add_working_days
        in_china = self._file(reporter, self._party(), category=fraud)
        self.assertEqual(in_china.jurisdiction, china)
        self.assertIsNone(in_china.statutory_acknowledge_by)
        self.assertEqual(in_china.statutory_due,
            add_working_days(start, 15))

        # Time passes: the EU report enters its warning window, then the
        # Chinese one passes its deadline.
        now = dt.datetime.utcnow().replace(second=0, microsecond=0)
        Report.write([report], {
                'statutory_warning_at': now - dt.timedelta(days=1)})
        Report.write([in_china], {
                'statutory_due': now - dt.timedelta(hours=1),
                'statutory_warning_at': now - dt.timedelta(days=5)})
        self.assertTrue(Report(report.id).near_due)
        self.assertEqual(Report.search([('near_due', '=', True)]),
            [Report(report.id)])
        self.assertEqual(Report.search([('statutory_overdue', '=', True)]),
            [Report(in_china.id)])
        self.assertIn('overdue', Report(in_china.id).statutory_time_left)
        self.assertEqual(
            len(Report.search([('near_due', '=', False)])), 1)

    @with_transaction()
    def test_escalation_reaches_the_team_administrators(self):
        "The second step goes to the administrators in the category's team"
        pool = Pool()
        Report = pool.get('tipline.report')
        Queue = pool.get('tipline.mail_queue')
        User = pool.get('res.user')
        Group = pool.get('res.group')
        ModelData = pool.get('ir.model.data')
        admins = ModelData.get_id('tipline', 'group_tipline_admin')
        team = Group(name="Fraud team")
        team.save()
        User.create([
                {'name': "Team Admin", 'login': 'teamadmin',
                    'email': 'teamadmin@example.com',
                    'groups': [('add', [admins, team.id])]},
                {'name': "Other Admin", 'login': 'otheradmin',
                    'email': 'otheradmin@example.com',
                    'groups': [('add', [admins])]},
                ])
        reporter, _, _ = self._users()
        fraud = self._category('fraud')
        fraud.team = team
        fraud.save()
        late = self._file(reporter, self._party(), category=fraud)
        Report.write([late], {
                'resolve_by': dt.datetime.utcnow().replace(
                    second=0, microsecond=0) - dt.timedelta(hours=1),
                'escalation_level': 1,
                'escalated_at': dt.datetime.utcnow() - dt.timedelta(hours=25),
                })
        Queue.delete(Queue.search([]))
        self.assertEqual(Report.escalate(), ([], [late]))
        self.assertEqual([r.recipient for r in Queue.search([])],
            ['teamadmin@example.com'])

    @with_transaction()
    def test_escalation_in_two_steps(self):
        "Overdue reports alert the assignee, then the administrators"
        pool = Pool()
        Report = pool.get('tipline.report')
        Queue = pool.get('tipline.mail_queue')
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        reporter, _, moderator = self._users()
        User.write([moderator], {'email': 'moderator@example.com'})
        User.create([{
                    'name': "Tipline Admin", 'login': 'tadmin',
                    'email': 'tadmin@example.com',
                    'groups': [('add', [ModelData.get_id(
                                    'tipline', 'group_tipline_admin')])]}])
        late = self._file(reporter, self._party())
        on_time = self._file(reporter, self._party())
        Report.write([late], {'assigned_to': moderator.id})
        Queue.delete(Queue.search([]))
        past = dt.datetime.utcnow().replace(
            second=0, microsecond=0) - dt.timedelta(hours=1)
        Report.write([late], {'resolve_by': past})

        first, second = Report.escalate()
        self.assertEqual((first, second), ([late], []))
        self.assertEqual(
            [(r.recipient, r.template) for r in Queue.search([])],
            [('moderator@example.com', 'escalation')])
        # Staff addresses show; a reporter's never does.
        table = Queue.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(table.recipient_enc))
        for value, in cursor.fetchall():
            self.assertNotIn(b'@example.com', bytes(value))
        self.assertEqual(Report(late.id).escalation_level, 1)
        self.assertEqual(Report(on_time.id).escalation_level, 0)

        # Nothing more until a day has passed.
        self.assertEqual(Report.escalate(), ([], []))
        Report.write([late], {'escalated_at': dt.datetime.utcnow()
                - dt.timedelta(hours=25)})
        first, second = Report.escalate()
        self.assertEqual((first, second), ([], [late]))
        self.assertIn(('tadmin@example.com', 'escalation'),
            [(r.address(), r.template) for r in Queue.search([])])
        self.assertEqual(Report(late.id).escalation_level, 2)
        self.assertEqual(Report.escalate(), ([], []))
        self.assertEqual(
            [e.kind for e in Report(late.id).history][-2:],
            ['escalate', 'escalate'])

    @with_transaction()
    def test_practice_files_nothing(self):
        "Practice mode checks the input like a real report and files nothing"
        pool = Pool()
        Practice = pool.get('tipline.report.practice', type='wizard')
        Report = pool.get('tipline.report')
        Evidence = pool.get('tipline.evidence')
        Event = pool.get('tipline.audit_event')
        reporter, _, _ = self._users()
        with Transaction().set_user(reporter.id), check_access():
            session_id, _, _ = Practice.create()
            wizard = Practice(session_id)
            start = wizard.default_start(None)
            self.assertIn('practice', start['target_label'])
            self.assertIn('nothing you enter here is filed',
                start['next_steps'])
            wizard.start.category = str(self._category('fraud').id)
            wizard.start.description = "too short"
            wizard.start.evidence = None
            with self.assertRaises(UserError):
                wizard.transition_submit()
            wizard.start.description = (
                "A practice description that is long enough to pass.")
            wizard.start.evidence = b'practice evidence'
            wizard.start.evidence_name = 'practice.txt'
            wizard.start.anonymous = True
            self.assertEqual(wizard.transition_submit(), 'done')
            done = wizard.default_done(None)
        self.assertIn('nothing was filed', done['message'])
        self.assertEqual(done['receipt'], '0000-0000-0000-0000')
        for Model in (Report, Evidence, Event):
            self.assertEqual(Model.search([], count=True), 0)

    @with_transaction()
    def test_help_menu_opens_the_help_page(self):
        "Tipline › Help opens the help page of this database, in English"
        Help = Pool().get('tipline.help', type='wizard')
        session_id, start, _ = Help.create()
        (action, _), = Help.execute(session_id, {}, start)['actions']
        database = Transaction().database.name
        self.assertTrue(action['url'].endswith(
                '%s/tipline/help?lang=en' % quote(database)), action['url'])

    def test_missing_master_key_names_the_setting(self):
        "Without a master key Tipline stops with the name of the setting"
        from trytond.modules.tipline import keys
        saved = os.environ.pop(keys.KEY_ENV)
        try:
            with self.assertRaises(keys.MasterKeyMissing) as raised:
                keys.check_master_key()
            self.assertIn("'key_file' in the [tipline] section",
                str(raised.exception))
            self.assertIn('TIPLINE_MASTER_KEY', str(raised.exception))
        finally:
            os.environ[keys.KEY_ENV] = saved

    @with_transaction()
    def test_reveal_needs_a_reason(self):
        "A custodian must write a reason; anonymous reports have no identity"
        pool = Pool()
        Reveal = pool.get('tipline.report.reveal_identity', type='wizard')
        reporter, _, _ = self._users()
        named = self._file(reporter, self._party())
        anonymous = self._file(reporter, self._party(), anonymous=True)
        with Transaction().set_context(active_model='tipline.report',
                active_id=named.id, active_ids=[named.id]):
            session_id, _, _ = Reveal.create()
            wizard = Reveal(session_id)
            wizard.start.reason = "curious"
            with self.assertRaises(UserError):
                wizard.transition_reveal()
        with Transaction().set_context(active_model='tipline.report',
                active_id=anonymous.id, active_ids=[anonymous.id]):
            session_id, _, _ = Reveal.create()
            wizard = Reveal(session_id)
            with self.assertRaises(UserError):
                wizard.default_start(None)

    @with_transaction()
    def test_ciphertext_bound_to_its_row(self):
        "A description copied into another report does not decrypt"
        Report = Pool().get('tipline.report')
        reporter, _, _ = self._users()
        party = self._party()
        first = self._file(reporter, party)
        second = self._file(reporter, party,
            description="Another description, long enough to file.")
        table = Report.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.update(
                [table.description_enc],
                [Report.description_enc.sql_format(first.description_enc)],
                where=table.id == second.id))
        with self.assertRaises(tipline_core.DecryptionError):
            Report(second.id).description

    @with_transaction()
    def test_reporters_see_only_their_own_reports(self):
        "ir.rule keeps reports from other users in search, read and export"
        Report = Pool().get('tipline.report')
        reporter, other, moderator = self._users()
        party = self._party()
        mine = self._file(reporter, party)
        theirs = self._file(other, party)
        with Transaction().set_user(reporter.id), check_access():
            self.assertEqual(Report.search([]), [mine])
            self.assertEqual(
                Report.search([('mine', '=', True)]), [mine])
            with self.assertRaises(AccessError):
                Report.read([theirs.id], ['description'])
            with self.assertRaises(AccessError):
                Report.export_data([Report(theirs.id)], ['description'])
            with self.assertRaises(AccessError):
                Report.write([Report(mine.id)], {'reporter_message': "x"})
        with Transaction().set_user(moderator.id), check_access():
            self.assertEqual(
                set(Report.search([])), {mine, theirs})
            self.assertEqual(Report.search([('mine', '=', True)]), [])

    @with_transaction()
    def test_evidence_follows_report_access(self):
        "Another user cannot read a report's evidence"
        Evidence = Pool().get('tipline.evidence')
        reporter, other, moderator = self._users()
        report = self._file(reporter, self._party(),
            evidence=[('a.txt', b'evidence')])
        evidence, = report.evidence
        with Transaction().set_user(other.id), check_access():
            self.assertEqual(Evidence.search([]), [])
            with self.assertRaises(AccessError):
                Evidence.read([evidence.id], ['data'])
        with Transaction().set_user(reporter.id), check_access():
            self.assertEqual(
                Evidence.read([evidence.id], ['data'])[0]['data'],
                b'evidence')
        with Transaction().set_user(moderator.id), check_access():
            self.assertEqual(
                Evidence.read([evidence.id], ['data'])[0]['data'],
                b'evidence')

    def _investigate(self, *reports, severity='high',
            truthfulness='confirmed'):
        investigate_reports(reports, severity, truthfulness)

    @with_transaction()
    def test_workflow(self):
        "Acknowledged at filing, then triaged, investigated, resolved, closed"
        pool = Pool()
        Report = pool.get('tipline.report')
        Configuration = pool.get('tipline.configuration')
        config = Configuration(1)
        config.assignment_method = 'manual'
        config.save()
        reporter, _, moderator = self._users()
        party = self._party()
        report = self._file(reporter, party)
        self.assertEqual(report.state, 'acknowledged')
        self.assertIsNone(report.assigned_to)
        with Transaction().set_user(reporter.id), check_access():
            with self.assertRaises(AccessButtonError):
                Report.triage([Report(report.id)])
        with Transaction().set_user(moderator.id), check_access():
            # Triage needs a severity assessment.
            with self.assertRaises(UserError):
                Report.triage([Report(report.id)])
            Report.write([Report(report.id)], {'severity_assessment': 'low'})
            Report.triage([Report(report.id)])
            report = Report(report.id)
            self.assertEqual(report.state, 'triaged')
            self.assertTrue(report.triaged_at)
            # Manual assignment: whoever triages takes it.
            self.assertEqual(report.assigned_to, moderator)
            Report.investigate([report])
            report = Report(report.id)
            self.assertEqual(report.state, 'investigating')
            with self.assertRaises(UserError):
                Report.resolve([report])
            report.outcome = 'upheld'
            report.save()
            # Upholding needs the verification recorded.
            with self.assertRaises(UserError):
                Report.resolve([Report(report.id)])
            report = Report(report.id)
            report.truthfulness = 'confirmed'
            report.reporter_message = "We removed the notes."
            report.save()
            self.assertTrue(Report(report.id).first_response_at)
            Report.resolve([report])
            report = Report(report.id)
            self.assertEqual(report.state, 'resolved')
            self.assertTrue(report.resolved_at)
            self.assertIsNone(report.time_left)
            self.assertTrue(report.appeal_deadline)
            # Moderators cannot reopen; the Tipline Administrators can.
            with self.assertRaises(AccessButtonError):
                Report.reopen([report])
            Report.close([report])
            self.assertEqual(Report(report.id).state, 'closed')
            # Closed is final.
            with self.assertRaises(AccessButtonError):
                Report.reopen([Report(report.id)])
        with Transaction().set_user(reporter.id), check_access():
            mine = Report(report.id)
            self.assertEqual(mine.outcome, 'upheld')
            self.assertEqual(mine.reporter_message, "We removed the notes.")

    @with_transaction()
    def test_notes_are_encrypted_and_kept_from_reporters(self):
        "Evidence and internal notes: ciphertext at rest, moderators only"
        pool = Pool()
        Report = pool.get('tipline.report')
        reporter, _, moderator = self._users()
        report = self._file(reporter, self._party())
        with Transaction().set_user(moderator.id), check_access():
            Report.write([Report(report.id)], {
                    'internal_notes': "INTERNAL-MARKER suspects a rival",
                    'evidence_notes': "EVIDENCE-MARKER screenshot checks out",
                    })
            report = Report(report.id)
            self.assertIn('INTERNAL-MARKER', report.internal_notes)
            self.assertIn('EVIDENCE-MARKER', report.evidence_notes)
        table = Report.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(
                table.internal_notes_enc, table.evidence_notes_enc,
                where=table.id == report.id))
        for value in cursor.fetchone():
            self.assertNotIn(b'MARKER', bytes(value))
        with Transaction().set_user(reporter.id), check_access():
            mine = Report(report.id)
            self.assertIsNone(mine.internal_notes)
            self.assertIsNone(mine.evidence_notes)

    @with_transaction()
    def test_assignment_strategies(self):
        "Round robin takes turns; least loaded evens out; nobody gets their own"
        pool = Pool()
        Report = pool.get('tipline.report')
        User = pool.get('res.user')
        Group = pool.get('res.group')
        Configuration = pool.get('tipline.configuration')
        ModelData = pool.get('ir.model.data')
        reporter, _, moderator = self._users()
        moderators = Group(ModelData.get_id(
                'tipline', 'group_tipline_moderator'))
        team = Group(name="Fraud team")
        team.save()
        second, third = User.create([
                {'login': 'mod2', 'name': "Mod Two",
                    'groups': [('add', [moderators.id, team.id])]},
                {'login': 'mod3', 'name': "Mod Three",
                    'groups': [('add', [moderators.id, team.id])]},
                ])
        fraud = self._category('fraud')
        fraud.team = team
        fraud.save()
        config = Configuration(1)
        config.assignment_method = 'round_robin'
        config.save()
        turns = [self._file(reporter, self._party(), category=fraud)
            .assigned_to for _ in range(4)]
        self.assertEqual(turns, [second, third, second, third])

        config.assignment_method = 'least_loaded'
        config.save()
        # mod2 has two open fraud reports, mod3 two; close one of mod2's.
        open_of_second = Report.search([('assigned_to', '=', second.id)])
        Report.write(open_of_second[:1], {'state': 'closed'})
        self.assertEqual(
            self._file(reporter, self._party(), category=fraud).assigned_to,
            second)
        # A team member who reports is never given their own report.
        own = self._file(second, self._party(), category=fraud)
        self.assertEqual(own.assigned_to, third)

        # Reassignment is recorded with who it was taken from.
        Event = pool.get('tipline.audit_event')
        Report.write([own], {'assigned_to': moderator.id})
        last = Event.search([('report', '=', own.id)])[-1]
        self.assertEqual(last.kind, 'assign')
        self.assertEqual(json.loads(last.details),
            {'from': 'mod3', 'to': 'moderator'})

    @with_transaction()
    def test_appeal(self):
        "One appeal within the window reopens the report for someone else"
        pool = Pool()
        Report = pool.get('tipline.report')
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        Appeal = pool.get('tipline.report.appeal', type='wizard')
        reporter, other, moderator = self._users()
        second = User(login='mod2', name="Mod Two", groups=[ModelData.get_id(
                    'tipline', 'group_tipline_moderator')])
        second.save()
        report = self._file(reporter, self._party())
        with Transaction().set_user(moderator.id), check_access():
            Report.write([Report(report.id)], {'assigned_to': moderator.id})
            self._investigate(report)
            Report.write([Report(report.id)], {'outcome': 'not_upheld'})
            Report.resolve([Report(report.id)])
        with Transaction().set_user(other.id), check_access():
            # Nobody else's reports are offered or accepted.
            session_id, _, _ = Appeal.create()
            appeal = Appeal(session_id)
            self.assertEqual(
                appeal.start.get_reports(), [(None, '')])
        with Transaction().set_user(reporter.id), check_access():
            self.assertTrue(Report(report.id).appealable)
            session_id, _, _ = Appeal.create()
            appeal = Appeal(session_id)
            appeal.start.report = str(report.id)
            appeal.start.reason = "short"
            with self.assertRaises(UserError):
                appeal.transition_appeal()
            appeal.start.reason = "The notes are still there today."
            appeal.transition_appeal()
        report = Report(report.id)
        self.assertEqual(report.state, 'investigating')
        self.assertTrue(report.appealed_at)
        self.assertIsNone(report.outcome)
        # Another moderator (admin and mod2 are free), not the first one.
        self.assertIn(report.assigned_to.login, {'admin', 'mod2'})
        self.assertEqual(report.appeal_reason,
            "The notes are still there today.")
        self.assertIsNone(report.write_uid)
        table = Report.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(table.appeal_reason_enc,
                where=table.id == report.id))
        self.assertNotIn(b'still there', bytes(cursor.fetchone()[0]))
        Event = pool.get('tipline.audit_event')
        appeal_event, = Event.search(
            [('report', '=', report.id), ('kind', '=', 'appeal')])
        self.assertEqual(appeal_event.actor, '')
        self.assertIsNone(appeal_event.create_uid)

        # Decided again: no second appeal, and the cron closes it.
        with Transaction().set_user(moderator.id), check_access():
            Report.write([Report(report.id)], {'outcome': 'not_upheld'})
            Report.resolve([Report(report.id)])
        self.assertFalse(Report(report.id).appealable)
        with self.assertRaises(UserError):
            Report.appeal(Report(report.id), "Once more, with feeling.")
        self.assertEqual(Report.close_decided(), [Report(report.id)])
        self.assertEqual(Report(report.id).state, 'closed')

    @with_transaction()
    def test_appeal_window(self):
        """Resolve saves the appeal window with the decision, in one UPDATE,
        and runs no statement over an empty list of reports; after the
        window the result stands and the report closes"""
        from trytond.modules.tipline import clock
        pool = Pool()
        Report = pool.get('tipline.report')
        reporter, _, moderator = self._users()
        report = self._file(reporter, self._party())
        with Transaction().set_user(moderator.id), check_access():
            self._investigate(report)
            Report.write([Report(report.id)], {'outcome': 'duplicate'})
            with counting() as statements:
                Report.resolve([Report(report.id)])
        self.assertEqual(
            [s for s in statements if 'IN ()' in s.upper()], [])
        # One UPDATE of the report, one history INSERT, the case's figures:
        # 32 statements here, caches cold (31 on PostgreSQL); the warm
        # counts over JSON-RPC are test_buttons.py's.
        self.assertLessEqual(len(statements), 32)
        windows = [s for s in statements if s.startswith('UPDATE')
            and '"appeal_deadline"' in s]
        self.assertEqual(len(windows), 1, windows)
        self.assertIn('"resolved_at"', windows[0])
        self.assertTrue(Report(report.id).appeal_deadline)
        self.assertEqual(Report.close_decided(), [])
        with clock.travelled(days=15):
            self.assertFalse(Report(report.id).appealable)
            with self.assertRaises(UserError):
                Report.appeal(Report(report.id), "Too late for this one.")
            self.assertEqual(Report.close_decided(), [Report(report.id)])

    @with_transaction()
    def test_overdue(self):
        "Open reports past their deadline are overdue and searchable"
        Report = Pool().get('tipline.report')
        reporter, _, _ = self._users()
        report = self._file(reporter, self._party())
        self.assertFalse(report.overdue)
        self.assertIn('left', report.time_left)
        Report.write([report], {
                'resolve_by': dt.datetime.utcnow().replace(
                    second=0, microsecond=0) - dt.timedelta(hours=2)})
        report = Report(report.id)
        self.assertTrue(report.overdue)
        self.assertIn('overdue', report.time_left)
        self.assertEqual(Report.search([('overdue', '=', True)]), [report])
        self.assertEqual(Report.search([('overdue', '=', False)]), [])

    @with_transaction()
    def test_reportable_models_drive_the_action(self):
        "Adding a reportable model shows the action; removing hides it"
        pool = Pool()
        Keyword = pool.get('ir.action.keyword')
        IrModel = pool.get('ir.model')
        Reportable = pool.get('tipline.reportable_model')
        Party = pool.get('party.party')

        def actions(model):
            return [a['wiz_name'] for a in Keyword.get_keyword(
                    'form_action', (model, -1)) if 'wiz_name' in a]

        # Parties and opportunities carry their own Report button, which
        # the clients also list in the action menu; other models get the
        # wizard through an action keyword.
        self.assertNotIn('tipline.report.submit', actions('party.party'))
        self.assertNotIn('tipline.report.submit', actions('party.address'))

        address_model, = IrModel.search([('name', '=', 'party.address')])
        reportable, = Reportable.create([{'model': address_model.id}])
        self.assertIn('tipline.report.submit', actions('party.address'))
        Reportable.delete([reportable])
        self.assertNotIn('tipline.report.submit', actions('party.address'))

        party = Party(name="ACME")
        party.save()

        def report_button_hidden():
            view = Party.fields_view_get(view_type='form')
            arch = etree.fromstring(view['arch'])
            button, = arch.xpath('//button[@name="tipline_report"]')
            record = Party.read([party.id], ['tipline_reportable'])[0]
            self.assertIn('tipline_reportable', view['fields'])
            states = PYSONDecoder(record).decode(button.get('states'))
            return states['invisible']
        self.assertFalse(report_button_hidden())
        party_reportable, = Reportable.search(
            [('model.name', '=', 'party.party')])
        party_reportable.active = False
        party_reportable.save()
        self.assertTrue(report_button_hidden())
        party_reportable.active = True
        party_reportable.save()
        self.assertFalse(report_button_hidden())
        self.assertNotIn('tipline.report.submit', actions('party.party'))

    @with_transaction()
    def test_reportable_model_in_use_cannot_be_deleted(self):
        "A reportable model with reports is deactivated, not deleted"
        Reportable = Pool().get('tipline.reportable_model')
        reporter, _, _ = self._users()
        self._file(reporter, self._party())
        party_reportable, = Reportable.search(
            [('model.name', '=', 'party.party')])
        with self.assertRaises(ValidationError):
            Reportable.delete([party_reportable])

    @with_transaction()
    def test_reportable_model_validation(self):
        "Only business models can be made reportable"
        pool = Pool()
        IrModel = pool.get('ir.model')
        Reportable = pool.get('tipline.reportable_model')
        for name in ['res.user', 'tipline.report']:
            model, = IrModel.search([('name', '=', name)])
            with self.subTest(model=name):
                with self.assertRaises(ValidationError):
                    Reportable.create([{'model': model.id}])

    @with_transaction()
    def test_wizard_needs_only_read_access(self):
        "A user who may only read opportunities can still report one"
        pool = Pool()
        Submit = pool.get('tipline.report.submit', type='wizard')
        reporter, _, _ = self._users()
        party = self._party()
        with Transaction().set_user(reporter.id), \
                Transaction().set_context(
                    active_model='party.party', active_id=party.id,
                    active_ids=[party.id]), check_access():
            session_id, _, _ = Submit.create()
            wizard = Submit(session_id)
            defaults = wizard.default_start(None)
            self.assertEqual(defaults['target_label'], party.rec_name)
            wizard.start.category = str(self._category().id)
            wizard.start.description = "Someone wrote threats in the notes."
            wizard.start.anonymous = False
            wizard.start.evidence = None
            self.assertEqual(wizard.transition_submit(), 'done')
            done = wizard.default_done(None)
            self.assertTrue(
                tipline_core.is_valid_tracking_number(
                    done['tracking_number']))
            self.assertIn(done['tracking_number'], done['message'])
            self.assertIsNone(wizard.start.description)


del ModuleTestCase
