"Cases, near-duplicates, priority and the burst guard"
import datetime as dt
import json
from unittest.mock import patch

from trytond import config
from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError, ValidationError
from trytond.pool import Pool
from trytond.pyson import PYSONDecoder
import unittest

from trytond.tests.test_tryton import activate_module, with_transaction
from trytond.transaction import Transaction, check_access

import tipline_core
from trytond.modules.tipline import clock, dedup, priority
from trytond.modules.tipline.states import CLOSED_STATES, OPEN_STATES
from trytond.modules.tipline.tests.tools import (
    category, file_report, make_party, moderator_group,
    use_throwaway_master_key)

use_throwaway_master_key()

LEAK = ("The supplier notes of this party list the bank account and the "
    "home address of our treasurer, visible to every salesman in the team.")
LEAK_REWORDED = ("The supplier notes of this party list the bank account "
    "and the home address of our treasurer, visible to every salesperson "
    "in the team!")
SPAM = ("Buy cheap watches now at best-watches dot example, discount "
    "code FREE50, limited offer for all customers today only.")
OTHER = ("The opportunity amount was raised tenfold the day before the "
    "quarterly bonus was computed, then lowered again.")


class CaseTestCase(unittest.TestCase):
    "Test Tipline cases and priority"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        activate_module('tipline')

    def setUp(self):
        super().setUp()
        self.addCleanup(clock.reset)

    def _users(self, count=3, moderator=True):
        User = Pool().get('res.user')
        users = User.create([
                {'name': "Reporter %d" % i, 'login': 'reporter%d' % i,
                    'email': 'reporter%d@example.com' % i}
                for i in range(count)])
        if moderator:
            mod, = User.create([{
                        'name': "Moderator", 'login': 'moderator',
                        'groups': [('add', [moderator_group()])]}])
            return users, mod
        return users

    def _party(self, name="ACME"):
        return make_party(name)

    def _category(self, code='data_leak'):
        return category(code)

    def _uphold(self, report, moderator):
        "Resolve report as upheld, as moderator does: the report"
        Report = Pool().get('tipline.report')
        with Transaction().set_user(moderator.id), check_access():
            report = Report(report.id)
            report.outcome = 'upheld'
            report.truthfulness = 'confirmed'
            report.severity_assessment = 'high'
            report.reporter_message = "Removed."
            report.save()
            Report.resolve_from_case([report])
        return report

    def _file(self, user, target, description, anonymous=False,
            category=None):
        report, _ = file_report(user, target,
            category or self._category(), description, anonymous=anonymous)
        return report

    @with_transaction()
    def test_constants_are_shared(self):
        "The module uses the report's state constants"
        self.assertFalse(set(OPEN_STATES) & set(CLOSED_STATES))

    @with_transaction()
    def test_near_duplicates_join_one_case(self):
        "Three reporters, one record, different words: one case"
        (a, b, c), _ = self._users()
        party = self._party()
        first = self._file(a, party, LEAK)
        second = self._file(b, party, LEAK_REWORDED)
        third = self._file(c, party, OTHER, anonymous=True)
        self.assertTrue(first.case)
        self.assertEqual(second.case, first.case)
        self.assertEqual(third.case, first.case)
        case = first.case
        self.assertEqual(case.kind, 'target')
        self.assertEqual(case.report_count, 3)
        self.assertEqual(case.reporter_count, 3)
        self.assertEqual(case.state, 'open')
        kinds = [e.kind for e in second.history]
        self.assertIn('case_join', kinds)

    @with_transaction()
    def test_reports_from_before_cases_are_indexed(self):
        "The cron gives reports filed before the index a signature and a case"
        pool = Pool()
        Report = pool.get('tipline.report')
        Case = pool.get('tipline.case')
        Signature = pool.get('tipline.report.signature')
        (a, b, _), _ = self._users()
        first = self._file(a, self._party("ACME"), LEAK)
        second = self._file(b, self._party("Other Ltd"), LEAK)
        # As they were before the near-duplicate index existed.
        Signature.delete(Signature.search([]))
        table = Report.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.update([table.case], [None]))
        Case.delete(Case.search([]))
        self.assertEqual(
            Report.index_unfiled(limit=1), [Report(first.id)])
        self.assertEqual(Report.index_unfiled(), [Report(second.id)])
        self.assertEqual(Report.index_unfiled(), [])
        first, second = Report(first.id), Report(second.id)
        self.assertTrue(first.case)
        # The same text on another record: one campaign.
        self.assertEqual(second.case, first.case)
        self.assertEqual(first.case.kind, 'campaign')
        self.assertEqual(len(Signature.search([])), 2)

    def _make_old(self, report, text, version):
        """Store report's signature as an older version's row: version 1
        without a version (as before versions), version 2 with its own"""
        pool = Pool()
        Signature = pool.get('tipline.report.signature')
        Band = pool.get('tipline.report.band')
        Keyset = pool.get('tipline.keyset')
        from trytond.modules.tipline import dedup
        old = tipline_core.signature(text, version=version)
        self.assertEqual(tipline_core.signature_version(old), version)
        row, = Signature.search([('report', '=', report.id)])
        table, band = Signature.__table__(), Band.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.update(
                [table.signature_enc, table.version],
                [Signature.signature_enc.sql_format(Keyset.encrypt(
                            Signature.__name__, 'signature', row.id, old)),
                    None if version == 1 else version],
                where=table.id == row.id))
        cursor.execute(*band.delete(where=band.report == report.id))
        cursor.execute(*band.insert([band.report, band.band],
                [[report.id, k] for k in dedup.blinded_band_keys(old)]))
        # As after an upgrade: a new process, which has seen no database
        # without old signatures yet.
        dedup._no_version1.discard(Transaction().database.name)

    @with_transaction()
    def test_old_signatures_match_and_are_resigned(self):
        "Version-1 and version-2 signatures still find duplicates; the cron re-signs them"
        pool = Pool()
        Signature = pool.get('tipline.report.signature')
        Band = pool.get('tipline.report.band')
        (a, b, c), _ = self._users()
        old_leak = self._file(a, self._party("One"), LEAK)
        old_other = self._file(b, self._party("Three"), OTHER,
            category=self._category('spam'))
        old_spam = self._file(a, self._party("Five"), SPAM,
            category=self._category('spam'))
        self._make_old(old_leak, LEAK, 1)
        self._make_old(old_other, OTHER, 1)
        self._make_old(old_spam, SPAM, 2)
        self.assertTrue(Signature.has_version1())
        self.assertEqual(len(Signature.query_signatures(LEAK)), 2)

        # Filed under the current version, it finds the version-1 report...
        new = self._file(c, self._party("Two"), LEAK_REWORDED)
        self.assertEqual(new.case, old_leak.case)
        joined, = [e for e in new.history if e.kind == 'case_join']
        self.assertEqual(json.loads(joined.details)['how'], 'text')
        # ... and the version-2 one, through its bands and shingle set.
        spam_again = self._file(c, self._party("Six"),
            SPAM.replace("watches", "wathces"), category=self._category('spam'))
        self.assertEqual(spam_again.case, old_spam.case)

        # Resumable, a batch at a time, with progress.
        self.assertEqual(Signature.resign(limit=2), (2, 1))
        self.assertEqual(Signature.resign(limit=2), (1, 0))
        self.assertEqual(Signature.resign(), (0, 0))
        self.assertFalse(Signature.has_version1())
        versions = {s.version for s in Signature.search([])}
        self.assertEqual(versions, {tipline_core.SIGNATURE_VERSION})
        for report, text in ((old_leak, LEAK), (old_other, OTHER),
                (old_spam, SPAM)):
            self.assertEqual(Band.search_count([('report', '=', report.id)]),
                len(tipline_core.band_keys(tipline_core.signature(text))))
        # After re-signing, a current-version lookup alone finds them.
        self.assertEqual(
            len(Signature.query_signatures(LEAK)), 1)
        found = Signature.similar(
            Signature.query_signatures(LEAK), 0.46, exclude=new.id)
        self.assertEqual(found[0][0], old_leak.id)
        typo = LEAK.replace("treasurer", "tresurer").replace("visible", "visable")
        again = self._file(a, self._party("Four"), typo)
        self.assertEqual(again.case, old_leak.case)

    @with_transaction()
    def test_campaign_across_two_targets(self):
        "One text pasted against two records is one campaign"
        (a, b, _), _ = self._users()
        one, two = self._party("One"), self._party("Two")
        first = self._file(a, one, LEAK)
        second = self._file(b, two, LEAK_REWORDED)
        self.assertEqual(second.case, first.case)
        self.assertEqual(first.case.kind, 'campaign')
        self.assertEqual(first.case.target_count, 2)
        joined, = [e for e in second.history if e.kind == 'case_join']
        details = json.loads(joined.details)
        self.assertEqual(details['how'], 'text')
        self.assertGreaterEqual(float(details['similarity']), 0.5)

    @with_transaction()
    def test_unrelated_texts_do_not_join(self):
        "Different texts against different records stay apart"
        (a, b, _), _ = self._users()
        first = self._file(a, self._party("One"), LEAK)
        second = self._file(b, self._party("Two"), SPAM,
            category=self._category('spam'))
        self.assertNotEqual(first.case, second.case)
        self.assertEqual(second.case.kind, 'target')

    @with_transaction()
    def test_signatures_are_encrypted_and_bands_blinded(self):
        "The index holds no plaintext, no clear signature, no clear band"
        pool = Pool()
        Signature = pool.get('tipline.report.signature')
        Band = pool.get('tipline.report.band')
        (a, _, _), _ = self._users()
        report = self._file(a, self._party(), LEAK)
        signature = tipline_core.signature(LEAK)
        cursor = Transaction().connection.cursor()
        cursor.execute('SELECT * FROM "%s"' % Signature._table)
        rows = cursor.fetchall()
        self.assertEqual(len(rows), 1)
        self.assertNotIn(signature, b''.join(
                bytes(v) for v in rows[0] if isinstance(v, (bytes, memoryview))))
        cursor.execute('SELECT band FROM "%s"' % Band._table)
        bands = {r[0] for r in cursor.fetchall()}
        self.assertEqual(len(bands), tipline_core.LSH_BANDS)
        raw = tipline_core.band_keys(signature)
        signed = {k - (1 << 64) if k >= 1 << 63 else k for k in raw}
        clear = set(raw) | signed | {'%x' % k for k in raw} | {
            str(k) for k in raw}
        self.assertFalse(bands & clear)
        found = Signature.similar(signature, 0.99)
        self.assertEqual(found[0][0], report.id)

    @with_transaction()
    def test_hex_band_keys_migrate_to_integers(self):
        "Band keys stored as hex text become the same integers in place, and still find the duplicate"
        pool = Pool()
        Signature = pool.get('tipline.report.signature')
        Band = pool.get('tipline.report.band')
        Keyset = pool.get('tipline.keyset')
        (a, _, _), _ = self._users()
        report = self._file(a, self._party(), LEAK)
        keys = dedup.blinded_band_keys(tipline_core.signature(LEAK))
        # As stored before: the digest's first 16 bytes, in hex, in a
        # VARCHAR column.
        indexer = Keyset.indexer()
        hexes = [indexer.index(k.to_bytes(8, 'little'), dedup.BAND_PURPOSE)[
                :16].hex()
            for k in tipline_core.band_keys(tipline_core.signature(LEAK))]
        table_h = Band.__table_handler__()
        cursor = Transaction().connection.cursor()
        cursor.execute('DELETE FROM "%s"' % Band._table)
        table_h.alter_type('band', 'VARCHAR')
        table = Band.__table__()
        cursor.execute(*table.insert([table.report, table.band],
                [[report.id, h] for h in hexes]))
        self.assertFalse(
            Band.__table_handler__().column_is_type('band', 'BIGINT'))

        Band.__register__('tipline')

        self.assertTrue(
            Band.__table_handler__().column_is_type('band', 'BIGINT'))
        cursor.execute('SELECT band FROM "%s" WHERE report = %d'
            % (Band._table, report.id))
        self.assertEqual(sorted(b for b, in cursor), sorted(keys))
        found = Signature.similar(
            tipline_core.signature(LEAK_REWORDED), 0.5)
        self.assertEqual(found[0][0], report.id)

    @with_transaction()
    def test_common_band_reads_only_its_newest_reports(self):
        "A band many reports share reads BAND_FANOUT of them; the rare bands still find the old duplicate"
        pool = Pool()
        Signature = pool.get('tipline.report.signature')
        Band = pool.get('tipline.report.band')
        (a, b, _), _ = self._users()
        old = self._file(a, self._party("Old"), LEAK)
        others = [self._file(b, self._party("Other %d" % i),
                "%s Invoice %d was paid twice." % (OTHER, i))
            for i in range(dedup.BAND_FANOUT + 8)]
        # One of the leak's band keys becomes common: every other report
        # has it too, as when reports share a greeting or a template.
        keys = dedup.blinded_band_keys(tipline_core.signature(LEAK_REWORDED))
        shared = {b.band for b in Band.search([('report', '=', old.id)])
            } & set(keys)
        self.assertGreater(len(shared), 1)
        common = min(shared)
        table = Band.__table__()
        Transaction().connection.cursor().execute(*table.insert(
                [table.report, table.band],
                [[r.id, common] for r in others]))
        cursor = Transaction().connection.cursor()
        cursor.execute(*Signature._sharing(keys, dedup.MAX_CANDIDATES))
        hits = dict(cursor.fetchall())
        newest = sorted((r.id for r in others), reverse=True)[
            :dedup.BAND_FANOUT]
        self.assertEqual(set(hits) - {old.id}, set(newest))
        self.assertTrue(all(hits[r] == 1 for r in newest))
        # The old report shares many bands and comes first.
        self.assertGreater(hits[old.id], 1)
        found = Signature.similar(tipline_core.signature(LEAK_REWORDED),
            0.5)
        self.assertEqual(found[0][0], old.id)

    @with_transaction()
    def test_same_reporter_counts_once(self):
        "The same reporter reporting the same record again counts once"
        Submit = Pool().get('tipline.report.submit', type='wizard')
        (a, b, _), _ = self._users()
        party = self._party()
        first = self._file(a, party, LEAK)
        again = self._file(a, party, LEAK_REWORDED)
        self.assertFalse(first.repeat_report)
        self.assertTrue(again.repeat_report)
        self.assertEqual(again.case, first.case)
        self.assertEqual(first.case.report_count, 2)
        self.assertEqual(first.case.reporter_count, 1)
        self._file(b, party, LEAK, anonymous=True)
        self._file(b, party, LEAK, anonymous=True)
        # Anonymous reports cannot be linked: each counts.
        self.assertEqual(first.case.reporter_count, 3)
        session_id, _, _ = Submit.create()
        wizard = Submit(session_id)
        wizard._filed = again
        message = wizard.default_done([])['message']
        self.assertIn('already handling', message)

    @with_transaction()
    def test_merge_and_split(self):
        "Moderators merge cases and split reports out into a new case"
        pool = Pool()
        Case = pool.get('tipline.case')
        Report = pool.get('tipline.report')
        Merge = pool.get('tipline.case.merge', type='wizard')
        Split = pool.get('tipline.case.split', type='wizard')
        (a, b, c), moderator = self._users()
        r1 = self._file(a, self._party("One"), LEAK)
        r2 = self._file(b, self._party("Two"), SPAM,
            category=self._category('spam'))
        r3 = self._file(c, self._party("Three"), OTHER)
        cases = [r1.case, r2.case, r3.case]
        self.assertEqual(len(set(cases)), 3)
        with Transaction().set_user(moderator.id), check_access(), \
                Transaction().set_context(
                    active_model='tipline.case',
                    active_ids=[c.id for c in cases[:2]],
                    active_id=cases[0].id):
            session_id, _, _ = Merge.create()
            Merge.execute(session_id, {}, 'start')
            Merge.execute(session_id, {'start': {
                        'into': str(cases[1].id)}}, 'merge')
            Merge.delete(session_id)
        r1, r2 = Report(r1.id), Report(r2.id)
        self.assertEqual(r1.case, cases[1])
        self.assertEqual(r2.case, cases[1])
        self.assertEqual(Case(cases[0].id).state, 'merged')
        self.assertEqual(Case(cases[0].id).merged_into, cases[1])
        self.assertEqual(Case(cases[1].id).report_count, 2)
        self.assertIn('case_merge', [e.kind for e in r1.history])

        with self.assertRaises(UserError):
            Case.merge([Case(cases[1].id)], Case(cases[1].id))

        with Transaction().set_user(moderator.id), check_access(), \
                Transaction().set_context(
                    active_model='tipline.report',
                    active_ids=[r1.id], active_id=r1.id):
            session_id, _, _ = Split.create()
            Split.execute(session_id, {}, 'start')
            Split.delete(session_id)
        r1 = Report(r1.id)
        self.assertNotIn(r1.case, cases)
        self.assertEqual(r1.case.report_count, 1)
        self.assertEqual(Case(cases[1].id).report_count, 1)
        self.assertIn('case_split', [e.kind for e in r1.history])
        with self.assertRaises(UserError):
            Case.split([r1])

    @with_transaction()
    def test_case_workflow(self):
        """A case's state moves only through its transitions: settled with
        its last report, reopened with it, merged; anything else is refused"""
        pool = Pool()
        Case = pool.get('tipline.case')
        Report = pool.get('tipline.report')
        self.assertEqual(Case._transitions, {
                ('open', 'resolved'), ('resolved', 'open'),
                ('open', 'merged'), ('resolved', 'merged')})
        (a, b, _), moderator = self._users()
        report = self._file(a, self._party("One"), LEAK)
        other = self._file(b, self._party("Two"), SPAM,
            category=self._category('spam'))
        case = report.case
        self.assertEqual(case.state, 'open')

        # The last open report resolved on its own settles the case.
        Report.write([report], {
                'severity_assessment': 'high', 'truthfulness': 'confirmed'})
        Report.triage([report])
        Report.write([report], {'outcome': 'upheld'})
        Report.resolve([report])
        self.assertEqual(Case(case.id).state, 'resolved')
        self.assertEqual(Case(case.id).open_count, 0)
        # Reopening the report reopens the case.
        Report.reopen_for_investigation([Report(report.id)])
        self.assertEqual(Case(case.id).state, 'open')
        self.assertEqual(Case(case.id).open_count, 1)

        Case.merge([Case(case.id)], Case(other.case.id))
        merged = Case(case.id)
        self.assertEqual(merged.state, 'merged')
        self.assertEqual(merged.merged_into, other.case)

        with Transaction().set_user(moderator.id), check_access():
            # An RPC write of the state is refused, whoever asks.
            with self.assertRaises(AccessError):
                Case.write([Case(other.case.id)], {'state': 'resolved'})
            # The Resolve button is refused on a case that is not open.
            with self.assertRaises(UserError):
                Case.resolve([Case(case.id)])
        # No transition leaves merged, even called by the system.
        Case.write([merged], {'outcome': 'upheld', 'reporter_message': "x"})
        for transition in (Case.resolve, Case.settle, Case.reopen):
            transition([Case(case.id)])
            self.assertEqual(Case(case.id).state, 'merged')
        # An open case is not reopened, nor a merged one merged again.
        Case.reopen([Case(other.case.id)])
        self.assertEqual(Case(other.case.id).state, 'open')
        with self.assertRaises(UserError):
            Case.merge([Case(case.id)], Case(other.case.id))

    @with_transaction()
    def test_case_resolution_reaches_every_reporter(self):
        "Resolving a case resolves every report with its outcome"
        pool = Pool()
        Case = pool.get('tipline.case')
        Report = pool.get('tipline.report')
        Queue = pool.get('tipline.mail_queue')
        (a, b, c), moderator = self._users()
        party = self._party()
        reports = [self._file(a, party, LEAK), self._file(b, party, OTHER),
            self._file(c, party, LEAK, anonymous=True)]
        case = reports[0].case
        with Transaction().set_user(moderator.id), check_access():
            case = Case(case.id)
            with self.assertRaises(UserError):
                Case.resolve([case])
            case.outcome = 'upheld'
            case.save()
            with self.assertRaises(UserError):
                Case.resolve([case])
            case.reporter_message = "The notes were removed."
            case.save()
            with self.assertRaises(UserError):
                Case.resolve([case])
            case.truthfulness = 'confirmed'
            case.severity_assessment = 'high'
            case.save()
            Case.resolve([case])
        case = Case(case.id)
        self.assertEqual(case.state, 'resolved')
        self.assertTrue(case.resolved_at)
        for report in reports:
            report = Report(report.id)
            self.assertEqual(report.state, 'resolved')
            self.assertIn(report.state, CLOSED_STATES)
            self.assertEqual(report.outcome, 'upheld')
            self.assertEqual(report.reporter_message,
                "The notes were removed.")
        # Addressed when sent: the sender reads the reporter's identity.
        notified = {q.envelope()[0] for q in Queue.search([
                    ('report', 'in', [r.id for r in reports]),
                    ('template', '=', 'status')])}
        self.assertEqual(notified,
            {'reporter0@example.com', 'reporter1@example.com'})
        # A new report against the record opens a new case.
        later = self._file(a, party, LEAK)
        self.assertNotEqual(later.case, case)

    @with_transaction()
    def test_priority_explanation_sums_to_score(self):
        "The breakdown adds up to the stored priority"
        pool = Pool()
        Report = pool.get('tipline.report')
        (a, b, _), _ = self._users()
        party = self._party()
        report = self._file(a, party,
            LEAK + " Mail jane.doe@example.com or call +1 415 555 0100.")
        self._file(b, party, LEAK_REWORDED)
        # The second filing rescored itself; the first report, whose case
        # now has two reporters, is rescored outside that request (by the
        # queue worker, or this cron job).
        Report.rescore_open()
        report = Report(report.id)
        self.assertTrue(0 < report.priority <= 100)
        score, contributions = Report.priority_breakdown(report)
        self.assertAlmostEqual(score, report.priority, places=6)
        self.assertAlmostEqual(
            sum(p for _, p in contributions), report.priority, places=6)
        factors = dict(contributions)
        self.assertGreater(factors['personal_data'], 0)
        self.assertGreater(factors['reporters'], 0)
        self.assertGreaterEqual(report.personal_data_signals, 2)
        text = report.priority_explanation
        self.assertIn('Category severity', text)
        self.assertIn('%.1f' % report.priority, text)
        self.assertEqual(report.case.priority, round(report.priority, 1))
        # Plaintext never reaches the inputs.
        self.assertNotIn('jane', report.priority_inputs)

    @with_transaction()
    def test_rescoring_on_resolution_and_cron(self):
        "Accuracy and record history change the priority; cron rescores"
        pool = Pool()
        Report = pool.get('tipline.report')
        Cron = pool.get('ir.cron')
        (a, b, _), moderator = self._users()
        one, two = self._party("One"), self._party("Two")
        earlier = self._file(a, one, LEAK)
        pending = self._file(b, one, OTHER)
        other = self._file(a, two, SPAM, category=self._category('spam'))
        before = Report(pending.id).priority
        other_before = Report(other.id).priority
        earlier = self._uphold(earlier, moderator)
        self.assertEqual(Report(earlier.id).state, 'resolved')
        # Without a queue worker the decision leaves the other open reports
        # of its reporter and record to the rescoring cron job.
        self.assertEqual(Report(pending.id).priority, before)
        self.assertEqual(Report(other.id).priority, other_before)
        history = Report.reporter_history([earlier.reporter_token])
        self.assertEqual(history[earlier.reporter_token], (1, 0))

        with clock.travelled(hours=60):
            cron, = Cron.search(
                [('method', '=', 'tipline.report|rescore_open')])
            self.assertEqual(Report.rescore_open(), 2)
            # Reporter b's open report: the record now has an upheld report.
            self.assertGreater(Report(pending.id).priority, before)
            # Reporter a's other report: a has an upheld report now.
            self.assertGreaterEqual(Report(other.id).priority, other_before)
        # Beyond one chunk, the writes go to queued tasks of their own.
        Queue = pool.get('ir.queue')
        with clock.travelled(hours=70), \
                patch.object(priority, 'RESCORE_CHUNK', 1):
            self.assertEqual(Report.rescore_open(), 2)
            tasks = Queue.search([])
            self.assertEqual(len(tasks), 2)
            for task in tasks:
                self.assertEqual(task.data['method'], 'store_priorities')
                task.run()
        self.assertGreater(Report(pending.id).priority, before)
        # Each case's priority follows its open reports' new scores.
        case = Report(pending.id).case
        self.assertEqual(case.priority, round(max(
                    r.priority for r in case.reports
                    if r.state in OPEN_STATES), 1))
        inputs = json.loads(Report(pending.id).priority_inputs)
        self.assertEqual(inputs['sla_used'], 1.0)

        # The moderators' queue is ordered by priority.
        ModelData = pool.get('ir.model.data')
        Action = pool.get('ir.action.act_window')
        action = Action(ModelData.get_id('tipline', 'act_report_queue'))
        order = PYSONDecoder().decode(action.pyson_order)
        self.assertEqual(order[0], ['priority', 'DESC NULLS LAST'])
        queue = Report.search([('state', 'in', OPEN_STATES)], order=order)
        self.assertEqual([r.priority for r in queue],
            sorted([r.priority for r in queue], reverse=True))

    @with_transaction()
    def test_decision_rescores_other_reports_in_a_task(self):
        """With a queue worker, a decision rescores the other open reports
        of its reporter and record in a queued task, not in the button's
        transaction: rewriting them there made concurrent moderators'
        buttons and filings conflict until trytond answered 503"""
        pool = Pool()
        Report = pool.get('tipline.report')
        Queue = pool.get('ir.queue')
        (a, b, _), moderator = self._users()
        one, two = self._party("One"), self._party("Two")
        decided = self._file(a, one, LEAK)
        pending = self._file(b, one, OTHER)
        other = self._file(a, two, SPAM, category=self._category('spam'))
        before = Report(pending.id).priority
        config.set('queue', 'worker', 'True')
        self.addCleanup(config.set, 'queue', 'worker', 'False')
        Queue.delete(Queue.search([]))
        self._uphold(decided, moderator)
        self.assertEqual(Report(pending.id).priority, before)
        # A task at each step the case's resolution takes (triage, resolve).
        tasks = [t for t in Queue.search([])
            if t.data['method'] == 'rescore_reports']
        self.assertTrue(tasks)
        for task in tasks:
            self.assertCountEqual(
                task.data['instances'], [pending.id, other.id])
            task.run()
        self.assertGreater(Report(pending.id).priority, before)

    @with_transaction()
    def test_reporters_do_not_see_ranking(self):
        "The priority, its inputs and breakdown, and the cases are for staff"
        pool = Pool()
        Report = pool.get('tipline.report')
        Case = pool.get('tipline.case')
        (a, _, _), moderator = self._users()
        report = self._file(a, self._party(), LEAK)
        staff_only = ['case', 'quarantined', 'repeat_report', 'new_reporter',
            'personal_data_signals', 'priority', 'priority_inputs',
            'priority_text', 'priority_explanation']
        with Transaction().set_user(a.id), check_access():
            mine = Report.search([('mine', '=', True)])
            self.assertEqual(mine, [report])
            # The inputs would tell how many others reported the record
            # and how often it was upheld before.
            for name in staff_only:
                with self.subTest(name=name), self.assertRaises(AccessError):
                    Report.read([report.id], [name])
            # Nor can a search or an ordering on them probe the values.
            with self.assertRaises(AccessError):
                Report.search([('priority', '>', 50)])
            with self.assertRaises(AccessError):
                Report.search([], order=[('priority', 'DESC')])
            # The rest of the report still reads, as in My Reports.
            values, = Report.read([report.id], ['tracking_number', 'state'])
            self.assertEqual(values['state'], 'acknowledged')
            view = Report.fields_view_get(view_type='form')
            self.assertNotIn('priority_text', view['fields'])
            self.assertNotIn('case', view['fields'])
            self.assertIn('state', view['fields'])
            with self.assertRaises(AccessError):
                Case.search([])
        with Transaction().set_user(moderator.id), check_access():
            values, = Report.read([report.id], [
                    'priority', 'priority_explanation', 'case'])
            self.assertTrue(values['priority_explanation'])
            self.assertEqual(len(Case.search([])), 1)

    @with_transaction()
    def test_weights_validation(self):
        "The administrator's weights stay within range"
        pool = Pool()
        Configuration = pool.get('tipline.configuration')
        Report = pool.get('tipline.report')
        (a, _, _), _ = self._users()
        report = self._file(a, self._party(), LEAK)
        config = Configuration(1)
        for name, value in [('weight_severity', 101),
                ('weight_sla_urgency', -1), ('dedup_threshold', 0.1),
                ('burst_min_reports', 1), ('burst_min_accuracy', 2)]:
            candidate = Configuration(1)
            setattr(candidate, name, value)
            with self.assertRaises(ValidationError, msg=name):
                Configuration.validate_fields([candidate], {name})
        Configuration.write([config], {'weight_severity': 0})
        report = Report(report.id)
        _, contributions = Report.priority_breakdown(report)
        self.assertEqual(dict(contributions)['severity'], 0)
        self.assertAlmostEqual(
            sum(p for _, p in contributions), report.priority, places=6)
        with self.assertRaises(ValidationError):
            Configuration.write([config], {'weight_reporters': 150})

    @with_transaction()
    def test_burst_is_quarantined(self):
        "Many fresh accounts reporting one record at once: quarantine"
        pool = Pool()
        Case = pool.get('tipline.case')
        Report = pool.get('tipline.report')
        users, moderator = self._users(count=6)
        party = self._party()
        reports = [self._file(u, party, "Burst %d: this party is a fraud, "
                "everybody should stop buying from them now." % i,
                category=self._category('fraud'))
            for i, u in enumerate(users[:4])]
        case = Case(reports[0].case.id)
        self.assertFalse(case.quarantined)
        reports.append(self._file(users[4], party, "This party is a fraud, "
                "stop buying from them now, really.",
                category=self._category('fraud')))
        case = Case(case.id)
        self.assertTrue(case.quarantined)
        self.assertTrue(all(r.new_reporter for r in reports))
        self.assertEqual(
            set(Report.search([('quarantined', '=', True)])),
            {Report(r.id) for r in reports})
        self.assertIn('case_change', [e.kind for e in reports[0].history])
        clock.travel(minutes=1)
        with Transaction().set_user(moderator.id), check_access():
            Case.release([Case(case.id)])
        case = Case(case.id)
        self.assertFalse(case.quarantined)
        self.assertTrue(case.released_at)
        # Reports filed before the release do not quarantine it again.
        self.assertFalse(Report.check_burst(Report(reports[-1].id)))
        self.assertEqual(Report.search([('quarantined', '=', True)]), [])
        self.assertEqual(
            len(Report.search([('quarantined', '=', False)])), 5)

    @with_transaction()
    def test_old_accounts_are_no_burst(self):
        "The same number of reports from vetted reporters is no burst"
        pool = Pool()
        User = pool.get('res.user')
        users, _ = self._users(count=5)
        cursor = Transaction().connection.cursor()
        table = User.__table__()
        cursor.execute(*table.update([table.create_date],
                [clock.now() - dt.timedelta(days=400)],
                where=table.id.in_([u.id for u in users])))
        party = self._party()
        reports = [self._file(u, party, "Report %d: the party sells "
                "counterfeit goods under our brand." % i)
            for i, u in enumerate(users)]
        self.assertFalse(any(r.new_reporter for r in reports))
        self.assertFalse(reports[0].case.quarantined)

