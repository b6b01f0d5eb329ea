"""Load a database with N reports for the moderator benchmark.

    .venv/bin/python tests/bench/generate.py --backend sqlite|postgresql
        --reports 100000 --work DIR [--name NAME] [--seed 1]

It creates the demo database (scripts/create_database.sh) and loads, through
the bulk path (bulk.py: the module's own filing steps, rows written many at
a time):

  * N parties (bare Tryton rows): the records reported, and the baseline's
    table of the same size;
  * N/20 reporter accounts, and six more moderators;
  * N reports over two years, more of them recent (a growing tipline),
    with
      - texts from the Debian corpora fortunes, fortunes-min (English) and
        fortunes-zh (Chinese), one in six Chinese, each framed the way
        reports are written ("Posted on this record: ...");
      - targets drawn from a power law (Zipf, s = 1.1): a few records draw
        many reports, most draw one;
      - about half of them anonymous (hotline benchmarks put the share of
        anonymous reports between 50 and 60 %);
      - categories weighted spam > fraud > harassment > the rest;
      - states by age: the last days mostly acknowledged, then triaged and
        investigating, resolved after a week or so, closed after a month,
        each step in the history by one of the moderators; one decision in
        four other than upheld;
      - cases: reports about one record join its open case; a case whose
        last report is older than two months is left, and the record's
        next report opens a new one.

On PostgreSQL, --parts N loads with N processes side by side: each draws
the whole sequence and keeps the reports about its share of the records, so
a record's reports and cases stay in one process; the reporter's upheld
history that the priority reads is the part's own.

It prints the time it took and what it loaded.  The database stays in DIR
(SQLite) or on the server (PostgreSQL) for moderator_bench.py.
"""
import argparse
import bisect
import datetime as dt
import itertools
import json
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import dedup_quality as dq  # noqa: E402  (its corpus reader)
import filing_bench  # noqa: E402  (its database set-up)

ANONYMOUS_SHARE = 0.55
CHINESE_SHARE = 1 / 6
ZIPF_S = 1.1
SPAN_DAYS = 730
FRAMES = {
    'en': ["Posted on this record: %s", "This was sent to our team by "
        "this account:\n%s", "Copied from the notes of this record: %s",
        "%s\nThis keeps coming back, please look at it.", "%s"],
    'zh': ["这条记录下面发了这段话：%s", "有人用这个账号发给我们：%s", "%s 请处理。", "%s"],
    }
CATEGORY_WEIGHTS = {'spam': 30, 'fraud': 25, 'harassment': 20}
MODERATORS = 6


def corpus():
    "{'en': [texts], 'zh': [texts]} from the installed fortune files"
    if not os.path.isdir(dq.FORTUNES_DIR):
        sys.exit('generate: install fortunes, fortunes-min and fortunes-zh')
    english = [t for texts in dq.english_sources().values() for t in texts
        if 40 <= len(t) <= 1500]
    chinese = []
    for name in dq.ZH_FORTUNES:
        path = os.path.join(dq.FORTUNES_DIR, name)
        if os.path.exists(path):
            chinese += [dq.join_lines(e.split('\n'))
                for e in dq.read_fortunes(path)]
    chinese = [t for t in chinese if 20 <= len(t) <= 1500]
    return {'en': english, 'zh': chinese or english}


class Zipf:
    "Draws 0..n-1 with probability proportional to 1/(k+1)**s"

    def __init__(self, n, s, rng):
        weights = [1 / (k + 1) ** s for k in range(n)]
        self.cumulative = list(itertools.accumulate(weights))
        self.rng = rng

    def __call__(self):
        x = self.rng.random() * self.cumulative[-1]
        return bisect.bisect_left(self.cumulative, x)


def state_of(age, rng):
    "A report's state and its steps' delays (days) given its age (days)"
    if age < 2:
        choices = [('acknowledged', 70), ('triaged', 25),
            ('investigating', 5)]
    elif age < 10:
        choices = [('acknowledged', 15), ('triaged', 25),
            ('investigating', 30), ('resolved', 30)]
    elif age < 35:
        choices = [('triaged', 3), ('investigating', 7), ('resolved', 60),
            ('closed', 30)]
    else:
        choices = [('investigating', 0.3), ('resolved', 2.7),
            ('closed', 97)]
    states, weights = zip(*choices)
    return rng.choices(states, weights)[0]


def load_bare(cursor, backend, n, users):
    """n parties and users reporter accounts, as rows of bare Tryton's
    tables: [party ids], [user ids]"""
    import bulk
    cursor.execute('SELECT COALESCE(MAX(id), 0) FROM party_party')
    first = cursor.fetchone()[0] + 1
    created = dt.datetime(2020, 1, 1)
    bulk.insert_many(cursor, 'party_party',
        ['id', 'name', 'code', 'active', 'create_date', 'create_uid'],
        [[first + i, 'Bench Party %d' % i, 'B%07d' % i, True, created, 0]
            for i in range(n)])
    parties = list(range(first, first + n))
    cursor.execute('SELECT COALESCE(MAX(id), 0) FROM res_user')
    first = cursor.fetchone()[0] + 1
    bulk.insert_many(cursor, 'res_user',
        ['id', 'login', 'name', 'email', 'active', 'menu', 'create_date',
            'create_uid'],
        [[first + i, 'bench-reporter-%d' % i, 'Bench Reporter %d' % i,
                'bench-reporter-%d@example.com' % i, True, 1, created, 0]
            for i in range(users)])
    bulk.set_sequences(['party_party', 'res_user'])
    return parties, list(range(first, first + users))


def _start(name):
    from trytond import config
    config.update_etc(os.environ['TRYTOND_CONFIG'])
    from trytond.pool import Pool
    Pool(name).init()


def setup(name, n, plan):
    """The bare rows, the moderators and what the parts share, in plan (a
    JSON file): the parties' and reporters' ids and the tables' largest
    ids"""
    _start(name)
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    import bulk
    started = time.perf_counter()
    with Transaction().start(name, 0) as transaction:
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        cursor = transaction.connection.cursor()
        party_ids, reporter_ids = load_bare(
            cursor, backend_name(), n, max(n // 20, 10))
        group = ModelData.get_id('tipline', 'group_tipline_moderator')
        User.create([{'name': 'Bench Moderator %d' % i,
                    'login': 'bench-moderator-%d' % i,
                    'groups': [('add', [group])]}
                for i in range(MODERATORS)])
        bases = bulk.largest_ids()
        transaction.commit()
    with open(plan, 'w') as file:
        json.dump({'parties': party_ids, 'reporters': reporter_ids,
                'bases': bases}, file)
    print('parties, users: %.0f s' % (time.perf_counter() - started),
        flush=True)


def backend_name():
    from trytond import backend
    return backend.name


def load(name, n, seed, plan, part, parts):
    """Load the reports of part of parts: every part draws the whole
    sequence and keeps the reports about its share of the records (a
    record's reports, and so its cases, stay in one part)"""
    _start(name)
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    import bulk
    with open(plan) as file:
        plan = json.load(file)
    party_ids, reporter_ids = plan['parties'], plan['reporters']
    first_party = min(party_ids)
    rng = random.Random(seed)
    texts = corpus()
    started = time.perf_counter()
    with Transaction().start(name, 0) as transaction:
        pool = Pool()
        User = pool.get('res.user')
        Party = pool.get('party.party')
        Category = pool.get('tipline.category')
        ModelData = pool.get('ir.model.data')
        group = ModelData.get_id('tipline', 'group_tipline_moderator')
        moderators = [(u.id, u.login) for u in User.search(
                [('groups', '=', group)], order=[('id', 'ASC')])]
        categories = Category.search([('active', '=', True)],
            order=[('id', 'ASC')])
        weights = [CATEGORY_WEIGHTS.get(c.code, 5) for c in categories]
        target = Zipf(len(party_ids), ZIPF_S, rng)
        reporter = Zipf(len(reporter_ids), ZIPF_S, rng)
        rng.shuffle(party_ids)  # the popular records are anywhere
        now = dt.datetime.utcnow().replace(microsecond=0)
        # More reports towards today: a growing tipline.
        ages = sorted((SPAN_DAYS * (1 - rng.random() ** 0.7)
                for _ in range(n)), reverse=True)
        loader = bulk.BulkLoader(part=part, parts=parts,
            bases={t: plan['bases'][t] for t in bulk.ORDER})
        last_report = {}
        counts = {}
        filed = 0
        for i, age in enumerate(ages):
            # Every draw is made in every part, so that the parts share one
            # sequence.
            when = now - dt.timedelta(days=age)
            index = target()
            language = 'zh' if rng.random() < CHINESE_SHARE else 'en'
            text = rng.choice(FRAMES[language]) % rng.choice(texts[language])
            anonymous = rng.random() < ANONYMOUS_SHARE
            user = reporter_ids[reporter()]
            category = rng.choices(categories, weights)[0]
            state = state_of(age, rng)
            if state != 'acknowledged':
                moderator, login = rng.choice(moderators)
                steps = sorted(when + dt.timedelta(days=d) for d in (
                        rng.uniform(0, min(age, 2)),
                        rng.uniform(0, min(age, 5)),
                        rng.uniform(0, min(age, 30)),
                        rng.uniform(0, min(age, 60))))
                severity = rng.choice(['low', 'medium', 'high'])
                outcome = rng.choices(['upheld', 'not_upheld', 'duplicate',
                        'insufficient_evidence'], [75, 15, 5, 5])[0]
            if index % parts != part:
                continue
            # The record with the name load_bare gave it: reading each
            # party's name was a query a report.
            party_id = party_ids[index]
            name = 'Bench Party %d' % (party_id - first_party)
            party = Party(party_id, name=name, rec_name=name)
            previous = last_report.get(party.id)
            if previous and (when - previous).days > 60:
                loader.close_case(party)
            last_report[party.id] = when
            row = loader.file(user, party, category, text, anonymous, when)
            filed += 1
            counts[state] = counts.get(state, 0) + 1
            if state != 'acknowledged':
                loader.moderate(row, state, moderator, login, steps,
                    severity=severity, outcome=outcome)
            if loader.pending >= loader.batch:
                loader.flush()
                transaction.commit()
                print('part %d: %d reports: %.0f s' % (
                        part, filed, time.perf_counter() - started),
                    flush=True)
        loader.finish(sequences=False)
        transaction.commit()
    print('part %d: %d reports loaded in %.0f s; states %s' % (part, filed,
            time.perf_counter() - started, counts), flush=True)


def finish(name):
    "The sequences past the parts' ids; statistics on PostgreSQL"
    _start(name)
    from trytond.transaction import Transaction
    import bulk
    with Transaction().start(name, 0):
        bulk.set_sequences(bulk.ORDER)
        Transaction().commit()
    if backend_name() == 'postgresql':
        import psycopg
        with psycopg.connect(host='127.0.0.1', user='postgres',
                dbname=name, autocommit=True) as connection:
            connection.execute('VACUUM ANALYZE')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--backend', default='sqlite',
        choices=['sqlite', 'postgresql'])
    parser.add_argument('--reports', type=int, default=100000)
    parser.add_argument('--work', required=True)
    parser.add_argument('--name')
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--parts', type=int, default=1,
        help='loaders side by side (PostgreSQL; SQLite has one writer)')
    parser.add_argument('--step', help=argparse.SUPPRESS)
    parser.add_argument('--part', type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    name = args.name or 'bench_moderator'
    plan = os.path.join(args.work, name + '.plan.json')
    if args.step == 'setup':
        return setup(name, args.reports, plan)
    elif args.step == 'load':
        return load(name, args.reports, args.seed, plan, args.part,
            args.parts)
    elif args.step == 'finish':
        return finish(name)
    parts = args.parts if args.backend == 'postgresql' else 1
    os.makedirs(args.work, exist_ok=True)
    started = time.perf_counter()
    name, env, conf = filing_bench.create_database(
        args.backend, args.work, name, exact=True)
    # The loaders run in processes of their own, configured as the server.
    import subprocess
    env = {**env, 'TRYTOND_CONFIG': conf}

    def step(step, part=0):
        return [filing_bench.PYTHON, __file__, '--step', step,
            '--backend', args.backend, '--reports', str(args.reports),
            '--work', args.work, '--name', name, '--seed', str(args.seed),
            '--parts', str(parts), '--part', str(part)]
    subprocess.run(step('setup'), env=env, check=True)
    loaders = [subprocess.Popen(step('load', p), env=env)
        for p in range(parts)]
    if any(p.wait() for p in loaders):
        sys.exit('generate: a loader failed')
    subprocess.run(step('finish'), env=env, check=True)
    print('%d reports loaded in %.0f s' % (
            args.reports, time.perf_counter() - started), flush=True)


if __name__ == '__main__':
    sys.exit(main())
