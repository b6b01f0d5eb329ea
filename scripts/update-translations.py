#!/usr/bin/env python3
"""Bring plugin/tipline/locale/zh_CN.po up to date with the module.

Builds a throwaway SQLite database with Tipline and its Chinese
translations, exports the module's zh_CN catalogue from it (so every string
of every model, field, selection, view, button, menu and message is there,
with the translations the file already had), keeps the translations given in
a JSON file (--add FILE: {"msgctxt\\x04msgid": "translation", ...} or
{"msgid": "translation"}), writes the file and lists what is still
untranslated.  Run it with the project venv's python:

    .venv/bin/python scripts/update-translations.py [--add new.json]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import polib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PO = os.path.join(ROOT, 'plugin', 'tipline', 'locale', 'zh_CN.po')


def export(directory):
    env = dict(os.environ,
        TRYTOND_DATABASE__URI='sqlite://',
        TRYTOND_DATABASE__PATH=directory,
        TIPLINE_MASTER_KEY=os.urandom(32).hex())
    open(os.path.join(directory, 'po.sqlite'), 'w').close()
    admin = [os.path.join(ROOT, '.venv', 'bin', 'trytond-admin'),
        '-d', 'po']
    password = os.path.join(directory, 'password')
    with open(password, 'w') as file:
        file.write('po-export\n')
    subprocess.run(admin + ['--all', '--email', 'po@example.com'],
        check=True, capture_output=True,
        env=dict(env, TRYTONPASSFILE=password))
    subprocess.run(admin + ['-u', 'tipline', '--activate-dependencies',
            '-l', 'zh_CN'], check=True, capture_output=True, env=env)
    code = '''
import sys
from trytond.pool import Pool
from trytond.transaction import Transaction
Pool.start()
pool = Pool('po')
pool.init()
with Transaction().start('po', 0) as transaction:
    # The strings of views and reports become translatable sources only
    # through the host's Set Translations wizard.
    TranslationSet = pool.get('ir.translation.set', type='wizard')
    session_id, _, _ = TranslationSet.create()
    TranslationSet(session_id).transition_set_()
    transaction.commit()
with Transaction().start('po', 0):
    Translation = pool.get('ir.translation')
    # The English catalogue lists every source string of the module.
    sys.stdout.buffer.write(Translation.translation_export('en', 'tipline'))
'''
    result = subprocess.run([sys.executable, '-c', code], check=True,
        capture_output=True, env=env)
    if not result.stdout:
        sys.exit(result.stderr.decode())
    return result.stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--add', help="JSON file of new translations")
    args = parser.parse_args()
    added = {}
    if args.add:
        with open(args.add, encoding='utf-8') as file:
            added = json.load(file)
    old = {(e.msgctxt, e.msgid): e.msgstr for e in polib.pofile(PO)}
    by_id = {}
    for (_, msgid), msgstr in old.items():
        if msgstr:
            by_id.setdefault(msgid, msgstr)
    with tempfile.TemporaryDirectory() as directory:
        content = export(directory)
    catalogue = polib.pofile(content.decode('utf-8'))
    missing = []
    for entry in catalogue:
        key = '%s\x04%s' % (entry.msgctxt, entry.msgid)
        entry.msgstr = (added.get(key) or added.get(entry.msgid)
            or old.get((entry.msgctxt, entry.msgid))
            or by_id.get(entry.msgid) or '')
        entry.flags = [f for f in entry.flags if f != 'fuzzy']
        if not entry.msgstr:
            missing.append(entry)
    catalogue.sort(key=lambda e: (e.msgctxt or '', e.msgid))
    catalogue.save(PO)
    for entry in missing:
        print('untranslated: %s | %s' % (entry.msgctxt, entry.msgid))
    print('%d entries, %d untranslated' % (len(catalogue), len(missing)))
    return 1 if missing else 0


if __name__ == '__main__':
    sys.exit(main())
