import datetime as dt

from lxml import etree

from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError, ValidationError
from trytond.model.modelview import AccessButtonError
from trytond.pool import Pool
from trytond.pyson import PYSONDecoder
from trytond.tests.test_tryton import ModuleTestCase, with_transaction
from trytond.transaction import Transaction, check_access

import tipline_core


class TiplineTestCase(ModuleTestCase):
    "Test the Tipline module"
    module = 'tipline'
    extras = ['sale_opportunity']

    def _users(self):
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        moderator_group = ModelData.get_id(
            'tipline', 'group_tipline_moderator')
        reporter, other, moderator = User.create([
                {'name': "Reporter", 'login': 'reporter'},
                {'name': "Other", 'login': 'other'},
                {'name': "Moderator", 'login': 'moderator',
                    'groups': [('add', [moderator_group])]},
                ])
        return reporter, other, moderator

    def _category(self, code='harassment'):
        Category = Pool().get('tipline.category')
        category, = Category.search([('code', '=', code)])
        return category

    def _party(self, name="ACME"):
        Party = Pool().get('party.party')
        party = Party(name=name)
        party.save()
        return party

    def _file(self, user, target, description="Insulting notes written "
            "about a supplier contact.", anonymous=False, evidence=(),
            category=None):
        Report = Pool().get('tipline.report')
        with Transaction().set_user(user.id), check_access():
            return Report.file(
                target, category or self._category(), description,
                anonymous=anonymous, evidence=evidence)

    @with_transaction()
    def test_default_categories(self):
        "The six default categories exist with sane deadlines"
        Category = Pool().get('tipline.category')
        categories = Category.search([])
        self.assertEqual(
            {c.code for c in categories},
            {'data_leak', 'false_information', 'harassment', 'spam',
                'fraud', 'other'})
        for category in categories:
            self.assertTrue(category.guidance)
            self.assertLessEqual(
                category.hours_to_acknowledge, category.hours_to_resolve)

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
            evidence=[('shot.png', b'\x89PNG fake')])
        self.assertEqual(
            tipline_core.parse_tracking_number(report.tracking_number),
            report.tracking_number)
        self.assertEqual(report.state, 'submitted')
        self.assertEqual(report.target, party)
        self.assertEqual(report.target_label, party.rec_name)
        self.assertEqual(report.reporter, reporter)
        self.assertGreaterEqual(report.submitted_at, before)
        submitted_minute = report.submitted_at.replace(
            second=0, microsecond=0)
        self.assertEqual(report.resolve_by - submitted_minute,
            dt.timedelta(hours=category.hours_to_resolve))
        self.assertEqual(report.acknowledge_by - submitted_minute,
            dt.timedelta(hours=category.hours_to_acknowledge))
        self.assertEqual([a.name for a in report.evidence], ['shot.png'])
        self.assertEqual(report.create_uid.id, reporter.id)

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
        "An anonymous report and its evidence keep no user id"
        pool = Pool()
        Report = pool.get('tipline.report')
        Attachment = pool.get('ir.attachment')
        reporter, _, _ = self._users()
        report = self._file(reporter, self._party(), anonymous=True,
            evidence=[('a.txt', b'evidence')])
        for Model, ids in ((Report, [report.id]),
                (Attachment, [a.id for a in report.evidence])):
            table = Model.__table__()
            cursor = Transaction().connection.cursor()
            cursor.execute(*table.select(
                    table.create_uid, table.write_uid,
                    where=table.id.in_(ids)))
            for row in cursor:
                self.assertEqual(row, (None, None))
        self.assertIsNone(Report(report.id).reporter)

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
        Attachment = Pool().get('ir.attachment')
        reporter, other, moderator = self._users()
        report = self._file(reporter, self._party(),
            evidence=[('a.txt', b'evidence')])
        attachment, = report.evidence
        with Transaction().set_user(other.id), check_access():
            self.assertEqual(Attachment.search(
                    [('resource', '=', str(report))]), [])
            with self.assertRaises(AccessError):
                Attachment.read([attachment.id], ['data'])
        with Transaction().set_user(moderator.id), check_access():
            self.assertEqual(
                Attachment.read([attachment.id], ['data'])[0]['data'],
                b'evidence')

    @with_transaction()
    def test_workflow(self):
        "Moderators review, then resolve with an outcome or reject"
        Report = Pool().get('tipline.report')
        reporter, _, moderator = self._users()
        party = self._party()
        report = self._file(reporter, party)
        with Transaction().set_user(reporter.id), check_access():
            with self.assertRaises(AccessButtonError):
                Report.review([Report(report.id)])
        with Transaction().set_user(moderator.id), check_access():
            Report.review([Report(report.id)])
            report = Report(report.id)
            self.assertEqual(report.state, 'in_review')
            self.assertEqual(report.assigned_to, moderator)
            with self.assertRaises(UserError):
                Report.resolve([report])
            report.outcome = 'upheld'
            report.reporter_message = "We removed the notes."
            report.save()
            Report.resolve([report])
            report = Report(report.id)
            self.assertEqual(report.state, 'resolved')
            self.assertTrue(report.resolved_at)
            self.assertIsNone(report.time_left)

        second = self._file(reporter, party)
        with Transaction().set_user(moderator.id), check_access():
            with self.assertRaises(UserError):
                Report.reject([Report(second.id)])
            second = Report(second.id)
            second.reporter_message = "This is not abuse of the CRM."
            second.save()
            Report.reject([second])
            self.assertEqual(Report(second.id).state, 'rejected')

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
        Party = pool.get('party.party')
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
