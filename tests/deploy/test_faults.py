"""Faults under load, on the scale-out shape: gunicorn with two worker
processes, trytond-cron and tipline-worker (restarted when it exits, as
systemd does) on one PostgreSQL database.

Clients file through the Report wizard over JSON-RPC, named and anonymous,
against a few records; moderators press Triage, Investigate and Resolve on
the same fresh reports at the same time; an anonymous client guesses
receipts on the status page.  Meanwhile one web worker is killed with
SIGKILL (gunicorn starts another), every connection to the database is
dropped once (pg_terminate_backend) and the SMTP server is down for a
while.  Afterwards: no report lost, doubled or half written, one case per
record, no button half committed, every mail delivered at least once (a
copy only with the Message-ID of the first), the status page's limits
and the round-robin assignment counted across both processes, and the
queue worker, which lost its connection, back and every task pulled.

A client retries a call only where that is safe (opening the wizard, reading
its own reports); a client whose filing got an error files nothing again
but checks what exists, as a person would in My Reports.

TIPLINE_FAULT_SECONDS sets how long the clients file (60)."""
import collections
import email
import email.policy
import http.client
import json
import os
import random
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest
from aiosmtpd.controller import Controller

import stack

SECONDS = int(os.environ.get('TIPLINE_FAULT_SECONDS', 60))
FILERS = 6
MODERATORS = ['moderator', 'fault-moderator']
PASSWORDS = {'moderator': 'moderate-demo-1',
    'fault-moderator': 'fault-moderate-1', 'reporter': 'report-demo-1',
    'reporter2': 'report-demo-2', 'admin': 'tipline-admin'}
TARGETS = ['Fault Target %d' % i for i in range(1, 5)]
# Tracking numbers the status page is asked about with wrong receipts: each
# allows 3 wrong answers per client, the client 10 in all.
GUESSED = ['TL-FAULT-%d' % i for i in range(1, 5)]
FREE_PER_NUMBER, FREE_PER_CLIENT = 3, 10
CLAIM_TIMEOUT = 10  # [tipline] mail_claim_timeout of the test, seconds
WORDS = ('invoice supplier bank account payment changed transfer abroad '
    'manager approved contract discount advert notes customer complaint '
    'message leaked spreadsheet salary address shared vendor refund '
    'duplicate review price threatened warehouse delivery laptop records '
    'deleted audit overtime cash receipt signature forged').split()
# What a client cannot know the outcome of: the connection broke, or the
# server answered an error that is no refusal.
BROKEN = (urllib.error.URLError, http.client.HTTPException, ConnectionError,
    TimeoutError, OSError)


class Sink:
    "aiosmtpd handler keeping every message"

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append(envelope.content)
        return '250 OK'

    def parsed(self):
        with self.lock:
            raw = list(self.messages)
        return [email.message_from_bytes(m, policy=email.policy.default)
            for m in raw]


class KillingSink(Sink):
    "Kills the sending process once it has handed over its first mail"

    def __init__(self):
        super().__init__()
        self.victim = None
        self.killed = False

    async def handle_DATA(self, server, session, envelope):
        await super().handle_DATA(server, session, envelope)
        if self.victim and not self.killed:
            self.killed = True
            os.kill(self.victim, signal.SIGKILL)
        return '250 OK'


class SMTPServer:
    "The sink on a port, which can go down and come back"

    def __init__(self, handler, port):
        self.handler, self.port = handler, port
        self.controller = None

    def start(self):
        self.controller = Controller(
            self.handler, hostname='127.0.0.1', port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller:
            self.controller.stop()
            self.controller = None


def copy_database(site, name):
    "A copy of the site's database for one test; dropped by conftest"
    stack.drop_database(site.pg_port, name)
    stack.run('createdb', '-h', '127.0.0.1', '-p', str(site.pg_port),
        '-U', 'postgres', '-T', site.database, name)
    return name


def tool(script, conf, database, *args):
    result = subprocess.run([os.path.join(stack.BIN, 'python'),
            os.path.join(stack.ROOT, 'tests', 'deploy', script),
            '-c', conf, '-d', database] + list(args), cwd=stack.ROOT,
        capture_output=True, text=True)
    return result


def mail_rows(site, database):
    "{state: count} of the mail queue"
    out = stack.psql(site.pg_port, 'SELECT state, count(*) FROM '
        'tipline_mail_queue GROUP BY state', database)
    return {s: int(n) for s, n in (line.split('|') for line in
            out.splitlines() if line)}


def test_sender_killed_after_the_server_accepted_sends_again(site):
    """A sender killed after the SMTP server accepted a mail, before it
    recorded it: the mail stays claimed, no sender touches it until the
    claim times out, then it goes out again with the same Message-ID, and
    every other mail once"""
    database = copy_database(site, site.database + '_mailcrash')
    conf = stack.write_conf(os.path.join(site.state, 'mailcrash.conf'),
        site.pg_port, site.key_file, smtp_port=site.web_port + 4,
        **{'tipline.mail_claim_timeout': '3'})
    # The demo's mail, queued when the database was made, all due (an
    # anonymous filing's notice waits for the next hour).
    stack.psql(site.pg_port,
        'UPDATE tipline_mail_queue SET next_try = NULL', database)
    queued = mail_rows(site, database).get('pending', 0)
    assert queued >= 2
    handler = KillingSink()
    server = SMTPServer(handler, site.web_port + 4)
    server.start()
    try:
        sender = subprocess.Popen([os.path.join(stack.BIN, 'python'),
                os.path.join(stack.ROOT, 'tests', 'deploy', 'send_mail.py'),
                '-c', conf, '-d', database], cwd=stack.ROOT,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        handler.victim = sender.pid
        assert sender.wait(120) == -signal.SIGKILL
        first, = handler.parsed()
        rows = mail_rows(site, database)
        # Claimed, nothing recorded as sent.
        assert rows.get('sending', 0) >= 1 and 'sent' not in rows, rows
        claimed_at = time.monotonic()

        # Another sender at once: every claim is fresh, nothing goes out.
        assert tool('send_mail.py', conf, database).returncode == 0
        if time.monotonic() - claimed_at < 3:
            assert len(handler.parsed()) == 1
        time.sleep(max(0, 3.5 - (time.monotonic() - claimed_at)))
        result = tool('send_mail.py', conf, database)
        assert result.returncode == 0, result.stderr[-2000:]
    finally:
        server.stop()
    received = collections.Counter(m['Message-ID'] for m in handler.parsed())
    assert received[first['Message-ID']] == 2
    assert sum(received.values()) == queued + 1
    assert all(n == 1 for i, n in received.items()
        if i != first['Message-ID'])
    assert mail_rows(site, database) == {'sent': queued}
    stored = set(stack.psql(site.pg_port,
            'SELECT message_id FROM tipline_mail_queue', database).split())
    assert set(received) == stored


class Run:
    "What the clients did and saw, shared between their threads"

    def __init__(self, url, database):
        self.url, self.database = url, database
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.attempts = {}      # marker: 'filed' | 'unknown' | 'refused'
        self.numbers = {}       # marker: tracking number received
        self.found_after_error = {}  # marker: number a client found
        self.anonymous = set()  # markers filed anonymously
        self.to_moderate = []   # tracking numbers, newest last
        self.presses = collections.Counter()
        self.errors = collections.Counter()
        self.status = collections.defaultdict(list)  # number: answers

    def note_error(self, where, error):
        name = type(error).__name__
        if isinstance(error, urllib.error.HTTPError):
            name = 'HTTP %d' % error.code
        elif isinstance(error, stack.RPCError):
            name = 'RPC %s' % str(error.args[0][0])[:40]
        with self.lock:
            self.errors['%s: %s' % (where, name)] += 1


def client(run, login):
    "A logged-in client; logging in is safe to retry"
    for _ in range(30):
        try:
            session = stack.Client(run.url, run.database)
            session.login(login, PASSWORDS[login])
            return session
        except BROKEN + (stack.RPCError,) as error:
            run.note_error('login', error)
            time.sleep(1)
    raise RuntimeError('%s could not log in' % login)


def safely(run, where, call, *args, tries=20):
    """call(*args), again after a broken connection: only for calls that
    change nothing a retry could double"""
    for attempt in range(tries):
        try:
            return call(*args)
        except BROKEN as error:
            run.note_error(where, error)
            time.sleep(0.5)
    raise RuntimeError('%s kept failing' % where)


def filer(run, number, parties, category):
    login = ('reporter', 'reporter2')[number % 2]
    anonymous = number % 3 == 2
    session = client(run, login)
    rng = random.Random(number)
    while not run.stop.is_set():
        marker = 'FAULT-%s' % uuid.uuid4().hex[:16]
        party = rng.choice(parties)
        context = dict(session.context, active_model='party.party',
            active_id=party, active_ids=[party])
        # Opening the wizard writes only its session: safe to retry.
        wizard, start, _ = safely(run, 'wizard create', session.call,
            'wizard.tipline.report.submit.create', context)
        safely(run, 'wizard open', session.call,
            'wizard.tipline.report.submit.execute', wizard, {}, start,
            context)
        values = {'category': str(category), 'anonymous': anonymous,
            'description': '%s %s.' % (marker, ' '.join(
                    rng.choices(WORDS, k=rng.randint(15, 30))))}
        with run.lock:
            run.attempts[marker] = 'unknown'
            if anonymous:
                run.anonymous.add(marker)
        try:
            done = session.call('wizard.tipline.report.submit.execute',
                wizard, {start: values}, 'submit', context)
        except stack.RPCError as error:
            # A refusal (UserError) writes nothing; anything else is as
            # unknown as a broken connection.
            run.note_error('submit', error)
            if error.args[0][0] == 'UserError':
                with run.lock:
                    run.attempts[marker] = 'refused'
            else:
                check_my_reports(run, session, marker, anonymous)
        except BROKEN as error:
            run.note_error('submit', error)
            check_my_reports(run, session, marker, anonymous)
        else:
            number_ = done['view']['defaults']['tracking_number']
            with run.lock:
                run.attempts[marker] = 'filed'
                run.numbers[marker] = number_
                run.to_moderate.append(number_)
        try:
            session.call('wizard.tipline.report.submit.delete', wizard,
                context)
        except BROKEN + (stack.RPCError,) as error:
            run.note_error('wizard delete', error)


def check_my_reports(run, session, marker, anonymous):
    """After an error, a named reporter looks in My Reports (reading is
    safe to retry); an anonymous one has no tracking number to look for"""
    if anonymous:
        return
    reports = safely(run, 'my reports', session.call,
        'model.tipline.report.search_read', [], 0, 20, [['id', 'DESC']],
        ['tracking_number', 'description'], session.context)
    for report in reports:
        if (report['description'] or '').startswith(marker):
            with run.lock:
                run.found_after_error[marker] = report['tracking_number']


def moderator(run, login):
    """Takes the newest report and moves it on; the other moderator takes
    the same one at the same time"""
    session = client(run, login)
    done = set()
    while not run.stop.is_set():
        with run.lock:
            fresh = [n for n in run.to_moderate[-3:] if n not in done]
        if not fresh:
            time.sleep(0.2)
            continue
        number = fresh[-1]
        done.add(number)
        try:
            found = session.call('model.tipline.report.search',
                [('tracking_number', '=', number)], 0, 1, None,
                session.context)
        except BROKEN + (stack.RPCError,) as error:
            run.note_error('moderator search', error)
            continue
        if not found:
            continue
        for button, values in (
                ('triage', {'severity_assessment': 'high'}),
                ('investigate', None),
                ('resolve', {'truthfulness': 'unconfirmed',
                        'outcome': 'not_upheld',
                        'reporter_message': 'Checked; no breach found.'})):
            try:
                if values:
                    session.call('model.tipline.report.write', found,
                        values, session.context)
                session.call('model.tipline.report.%s' % button, found,
                    session.context)
            except BROKEN + (stack.RPCError,) as error:
                # The other moderator was first, or a fault: the checks
                # afterwards say whether anything was half done.
                run.note_error(button, error)
            else:
                with run.lock:
                    run.presses[button] += 1


def guess_receipts(run):
    "Wrong receipts on the status page, two at a time, through the run"
    guesses = [n for n in GUESSED for _ in range(FREE_PER_NUMBER + 2)]
    random.Random(7).shuffle(guesses)
    pause = SECONDS / (len(guesses) / 2 + 1)

    def ask(number):
        data = urllib.parse.urlencode({'number': number,
                'receipt': '0000-0000-0000-0000'}).encode()
        try:
            with urllib.request.urlopen('%s/%s/tipline/status' % (
                        run.url, run.database), data=data, timeout=60
                    ) as response:
                answer = response.status
        except urllib.error.HTTPError as error:
            answer = error.code
        except BROKEN as error:
            answer = type(error).__name__
        with run.lock:
            run.status[number].append(answer)

    for i in range(0, len(guesses), 2):
        if run.stop.wait(pause):
            return
        pair = [threading.Thread(target=ask, args=(n,))
            for n in guesses[i:i + 2]]
        for thread in pair:
            thread.start()
        for thread in pair:
            thread.join()


def prepare(site, database):
    """Round-robin assignment over the moderators and one more, four fresh
    records, an empty status-page window; (parties, category, moderators,
    last report id)"""
    admin = stack.Client(site_url(site), database)
    admin.login('admin', PASSWORDS['admin'])
    context = admin.context
    admin.call('model.tipline.configuration.write', [1],
        {'assignment_method': 'round_robin'}, context)
    group, = admin.call('model.res.group.search',
        [('name', '=', 'Tipline Moderator')], 0, 1, None, context)
    admin.call('model.res.user.create', [{
                'login': 'fault-moderator', 'name': 'Fay Fault',
                'email': 'fault-moderator@example.com',
                'password': PASSWORDS['fault-moderator'],
                'groups': [['add', [group]]]}], context)
    members = admin.call('model.res.user.search',
        [('groups', '=', group)], 0, None, None, context)
    parties = admin.call('model.party.party.create',
        [{'name': name} for name in TARGETS], context)
    category, = admin.call('model.tipline.category.search',
        [('code', '=', 'fraud')], 0, 1, None, context)
    stack.psql(site.pg_port, 'DELETE FROM tipline_status_limit', database)
    last = int(stack.psql(site.pg_port,
            'SELECT coalesce(max(id), 0) FROM tipline_report', database))
    return parties, category, len(members), last


def cursor_turns(site, database):
    "The turns the round-robin cursor has given out"
    return int(stack.psql(site.pg_port, 'SELECT coalesce(sum(turns), 0) '
        'FROM tipline_team_cursor', database))


def site_url(site):
    return 'http://127.0.0.1:%d' % (site.web_port + 5)


def settle_mail(site, conf, database, timeout=150):
    """After the faults: the retry delays pass (next_try now), and the
    cron job's method runs until no mail is left to send"""
    stack.psql(site.pg_port, "UPDATE tipline_mail_queue SET next_try = NULL "
        "WHERE state = 'pending'", database)
    deadline = time.monotonic() + timeout
    while True:
        rows = mail_rows(site, database)
        if not rows.get('pending') and not rows.get('sending'):
            return rows
        assert time.monotonic() < deadline, rows
        result = tool('send_mail.py', conf, database)
        assert result.returncode == 0, result.stderr[-2000:]
        time.sleep(2)


def read_log(path):
    with open(path) as file:
        return file.read()


def queue_settled(site, database, timeout=180):
    "Wait until every queued task was pulled; how many never finished"
    deadline = time.monotonic() + timeout
    while int(stack.psql(site.pg_port, 'SELECT count(*) FROM ir_queue '
                'WHERE dequeued_at IS NULL', database)):
        assert time.monotonic() < deadline, 'queued tasks not pulled'
        time.sleep(2)
    return int(stack.psql(site.pg_port, 'SELECT count(*) FROM ir_queue '
            'WHERE finished_at IS NULL', database))


def test_faults_under_load(site, procs):
    database = copy_database(site, site.database + '_faults')
    smtp_port, web_port = site.web_port + 4, site.web_port + 5
    conf = stack.write_conf(os.path.join(site.state, 'faults.conf'),
        site.pg_port, site.key_file, smtp_port=smtp_port, web_port=web_port,
        **{'tipline.mail_claim_timeout': str(CLAIM_TIMEOUT)})
    sink = Sink()
    smtp = SMTPServer(sink, smtp_port)
    smtp.start()
    try:
        master = procs.gunicorn(conf, database, web_port, 2,
            name='gunicorn-faults')
        procs.trytond('trytond-cron', conf, database)
        # Started again when it exits for its dropped connection.
        procs.tipline_worker(conf, database)
        stack.wait_for_login(site_url(site), database, 'admin',
            PASSWORDS['admin'], procs)
        parties, category, members, last = prepare(site, database)
        run = Run(site_url(site), database)
        run.members = members
        run.turns_before = cursor_turns(site, database)
        threads = [threading.Thread(target=filer,
                args=(run, i, parties, category)) for i in range(FILERS)]
        threads += [threading.Thread(target=moderator, args=(run, login))
            for login in MODERATORS]
        threads.append(threading.Thread(target=guess_receipts, args=(run,)))
        for thread in threads:
            thread.start()
        faults = run_faults(site, database, master, smtp)
        run.stop.set()
        for thread in threads:
            thread.join(120)
            assert not thread.is_alive()
        faults['workers after'] = stack.worker_pids(master.pid)
        assert len(faults['workers after']) == 2
        assert faults['killed'] not in faults['workers after']
        mail = settle_mail(site, conf, database)
    finally:
        smtp.stop()
    restarted = [name for name, proc in procs.procs.items()
        if proc.poll() is not None]
    print('fault run: faults %s, exited %s, errors %s, presses %s' % (
            faults, restarted, dict(run.errors), dict(run.presses)))
    facts = tool('report_facts.py', conf, database, '--after', str(last))
    assert facts.returncode == 0, facts.stderr[-2000:]
    facts = json.loads(facts.stdout)
    summary = check(site, database, run, facts, sink)
    # The worker lost its connection with the others, exited for a
    # restart, and pulled again: no task is left unpulled.
    assert 'lost the connection' in read_log(procs.log('tipline-worker'))
    left = queue_settled(site, database)
    summary.update(faults=faults, mail=mail, exited=restarted,
        errors=dict(run.errors), presses=dict(run.presses),
        **{'queued tasks left': left})
    print('fault run:', json.dumps(summary, indent=1, default=str))
    with open(os.path.join(site.state, 'faults-summary.json'), 'w') as file:
        json.dump(summary, file, indent=1, default=str)
    assert not restarted, 'exited during the run: %s' % restarted


def run_faults(site, database, master, smtp):
    "The faults, at fixed points of the run; what was done"
    done = {}
    start = time.monotonic()

    def at(fraction):
        time.sleep(max(0, start + SECONDS * fraction - time.monotonic()))

    at(0.25)
    workers = stack.worker_pids(master.pid)
    assert len(workers) == 2
    done['killed'] = workers[0]
    stack.kill(workers[0])
    at(0.4)
    done['terminated backends'] = int(stack.psql(site.pg_port,
            'SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity '
            "WHERE datname = '%s' AND pid <> pg_backend_pid()" % database))
    at(0.5)
    smtp.stop()
    at(0.8)
    smtp.start()
    at(1)
    return done


def check(site, database, run, facts, sink):
    "Every check after the run; a summary of the figures"
    # The run did its work: filings, every button pressed, the status
    # page asked.
    assert len(run.numbers) >= 2 * FILERS, dict(run.errors)
    assert all(run.presses[b] for b in ('triage', 'investigate',
            'resolve')), (run.presses, dict(run.errors))
    assert sum(len(a) for a in run.status.values()) >= FREE_PER_CLIENT
    by_marker = collections.defaultdict(list)
    for fact in facts:
        by_marker[(fact['description'] or '').split(' ')[0]].append(fact)

    # 0 duplicate tracking numbers, in the whole table.
    assert stack.psql(site.pg_port, 'SELECT tracking_number FROM '
        'tipline_report GROUP BY tracking_number HAVING count(*) > 1',
        database) == ''
    # 0 lost: every number a client received exists once, as filed.
    for marker, number in run.numbers.items():
        assert [f['number'] for f in by_marker[marker]] == [number]
    for marker, number in run.found_after_error.items():
        assert [f['number'] for f in by_marker[marker]] == [number]
    # Every report comes from one attempt, and no attempt filed twice;
    # a refused one filed nothing, an unknown one nothing or one report.
    for marker, found in by_marker.items():
        assert marker in run.attempts, marker
        assert len(found) == 1, marker
    for marker, outcome in run.attempts.items():
        if outcome == 'refused':
            assert marker not in by_marker
    unknown = [m for m, o in run.attempts.items() if o == 'unknown']

    for fact in facts:
        check_whole(fact, fact['description'].split(' ')[0] in run.anonymous)
        check_buttons(fact)

    # Concurrent filings about one record share one case.  The moderators
    # may resolve every report of a case in between (it then settles), and
    # the next filing about the record opens the next case: a record's
    # reports, in filing order, go to one case after the other, never back
    # and forth, and every case but the record's last is resolved.
    sequences = collections.defaultdict(list)
    for fact in sorted(facts, key=lambda f: f['id']):
        sequences[fact['target']].append(fact['case'])
    case_states = dict(line.split('|') for line in stack.psql(site.pg_port,
            'SELECT id, state FROM tipline_case', database).split())
    cases_after = {}
    for target, sequence in sequences.items():
        runs = [c for i, c in enumerate(sequence)
            if i == 0 or c != sequence[i - 1]]
        assert len(runs) == len(set(runs)), (target, sequence)
        assert all(case_states[str(c)] == 'resolved' for c in runs[:-1]), (
            target, runs, case_states)
        cases_after[target] = len(runs)
    # No case settled under a report that joined it meanwhile (the open
    # states of plugin/tipline/states.py).
    for fact in facts:
        if fact['state'] in {'submitted', 'acknowledged', 'triaged',
                'investigating', 'awaiting_reporter'}:
            assert case_states[str(fact['case'])] == 'open', fact['number']

    # Round robin across both processes: one cursor, its turns given in
    # order.  A filing that failed after taking its turn (a fault, or a
    # conflict that trytond retried) cost its moderator that turn.
    turns = collections.Counter(f['assigned_to'] for f in facts)
    taken = cursor_turns(site, database) - run.turns_before
    assert None not in turns
    assert len(facts) <= taken, (len(facts), taken)
    assert len(turns) == run.members, turns
    share = -(-taken // run.members)
    assert max(turns.values()) <= share, (turns, taken)
    assert max(turns.values()) - min(turns.values()) <= (
        1 + taken - len(facts)), (turns, taken)

    # The status page's limits, counted in the database across processes.
    answers = {n: collections.Counter(a) for n, a in run.status.items()}
    wrong = sum(a[200] for a in answers.values())
    unclear = sum(n for a in answers.values() for k, n in a.items()
        if k not in (200, 429))
    assert all(a[200] <= FREE_PER_NUMBER for a in answers.values()), answers
    assert FREE_PER_CLIENT - unclear <= wrong <= FREE_PER_CLIENT, answers

    # Mail: all of it delivered, a copy only with its first's Message-ID.
    rows = stack.psql(site.pg_port, 'SELECT message_id, state FROM '
        'tipline_mail_queue', database).splitlines()
    stored = dict(line.split('|') for line in rows)
    assert set(stored.values()) == {'sent'}, collections.Counter(
        stored.values())
    received = collections.defaultdict(list)
    for message in sink.parsed():
        received[message['Message-ID']].append(message)
    sent_during_run = {m for f in facts for *_, m in f['mail']}
    assert sent_during_run <= set(received)
    assert set(received) <= set(stored)
    copies = 0
    for message_id, messages in received.items():
        copies += len(messages) - 1
        assert len({(m['To'], m['Subject']) for m in messages}) == 1
    return {
        'reports filed': len(run.numbers),
        'reports in the database': len(facts),
        'unknown outcomes': len(unknown),
        'unknown that were filed': sum(1 for m in unknown if m in by_marker),
        'refused': sum(1 for o in run.attempts.values() if o == 'refused'),
        'cases a record': cases_after,
        'round robin': dict(turns),
        'turns taken': taken,
        'states': dict(collections.Counter(f['state'] for f in facts)),
        'status page': {n: dict(a) for n, a in answers.items()},
        'mails received': sum(len(m) for m in received.values()),
        'mail copies': copies,
        }


def check_whole(fact, anonymous):
    "The whole report: its signature, its first history, its filing's mail"
    kinds = [kind for kind, _ in fact['events']]
    assert fact['history_broken_at'] is None, fact
    assert fact['signatures'] == 1, fact
    assert kinds[:2] == ['submit', 'state'], fact
    assert fact['events'][1][1]['to'] == 'acknowledged', fact
    assert kinds[2:4] == ['assign', 'case_join'], fact
    assert fact['anonymous'] == anonymous, fact
    templates = collections.Counter(m[0] for m in fact['mail'])
    assert templates['acknowledgement'] == (0 if anonymous else 1), fact
    assert templates['assignment'] == 1, fact


# The workflow's transitions that the moderators' buttons make.
MOVES = {('acknowledged', 'triaged'), ('triaged', 'investigating'),
    ('triaged', 'resolved'), ('investigating', 'resolved')}


def check_buttons(fact):
    """Each state change landed with its history event, its deadline and
    flags, and its mail to a named reporter, or not at all"""
    states = [details['to'] for kind, details in fact['events']
        if kind == 'state']
    for move in zip(states, states[1:]):
        assert move in MOVES, fact
    assert states[-1] == fact['state'], fact
    moved = fact['state'] != 'acknowledged'
    assert fact['triaged_at'] == moved, fact
    resolved = fact['state'] == 'resolved'
    assert fact['resolved_at'] == resolved, fact
    assert fact['appeal_deadline'] == resolved, fact
    assert fact['survey_invited'] == resolved, fact
    if resolved:
        assert fact['outcome'] == 'not_upheld', fact
    told = sorted(m[2] for m in fact['mail'] if m[0] == 'status')
    assert told == ([] if fact['anonymous'] else sorted(states[1:])), fact
