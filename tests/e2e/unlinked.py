"""After the browser tests: the anonymous report filed in the browser is not
tied to its filer in the database file, its write-ahead log or the server
log.  Usage: unlinked.py DATABASE.sqlite SERVER.log ANONYMOUS.json"""
import datetime as dt
import glob
import json
import re
import sqlite3
import sys

# The host's own record of a login: sessions and login attempts name the
# user by design; what must not name them is anything about the report.
LOGIN_TABLES = {'ir_session', 'res_user_login_attempt', 'res_user_device',
    'res_user', 'ir_ui_view_tree_width', 'ir_ui_view_tree_state',
    'ir_ui_view_search'}


def main(database, log_path, anonymous_path):
    with open(anonymous_path) as file:
        anonymous = json.load(file)
    connection = sqlite3.connect('file:%s?mode=ro' % database, uri=True)
    cursor = connection.cursor()
    (user_id,), = cursor.execute(
        'SELECT id FROM res_user WHERE login = ?', (anonymous['login'],))
    (report_id, submitted_at, created), = cursor.execute(
        'SELECT id, submitted_at, create_date FROM tipline_report '
        'WHERE tracking_number = ?', (anonymous['tracking'],))
    problems = []
    for moment in (submitted_at, created):
        moment = dt.datetime.fromisoformat(str(moment))
        if (moment.minute, moment.second, moment.microsecond) != (0, 0, 0):
            problems.append('the report keeps a time finer than the hour: %s'
                % moment)
    tables = [t for t, in cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")]
    for table in tables:
        columns = {row[1] for row in cursor.execute(
                'PRAGMA table_info("%s")' % table)}
        if not {'create_uid', 'write_uid'} <= columns:
            continue
        if table in LOGIN_TABLES:
            continue
        (count,), = cursor.execute(
            'SELECT count(*) FROM "%s" WHERE create_uid = ? OR write_uid = ?'
            % table, (user_id, user_id))
        if count and (table.startswith('tipline_')
                or table == 'ir_session_wizard'):
            problems.append('%d row(s) of %s name the filer' % (count, table))
    connection.close()
    # The wizard's session data of an anonymous filing, in any page or
    # frame of the file and its log.
    for path in glob.glob(database + '*'):
        with open(path, 'rb') as file:
            data = file.read()
        if b'"anonymous":true' in data:
            problems.append('%s holds a wizard session of an anonymous '
                'filing' % path)
    # The log names nobody on any line: neither the login nor the user id
    # of whoever made a request.
    named = re.compile(r"\b%s@|\b%d@|login %s\b" % (
            re.escape(anonymous['login']), user_id,
            re.escape(anonymous['login'])))
    with open(log_path, encoding='utf-8', errors='replace') as file:
        for line in file:
            if named.search(line):
                problems.append('the log names the filer: %s'
                    % line.strip()[:200])
            if anonymous['tracking'] in line:
                problems.append('the log names the anonymous report: %s'
                    % line.strip()[:200])
    if problems:
        print('e2e: the anonymous report is tied to its filer:',
            *problems, sep='\n  ')
        return 1
    print('e2e: the anonymous report %s (id %d) is tied to no user at rest '
        'or in the log' % (anonymous['tracking'], report_id))
    return 0


if __name__ == '__main__':
    sys.exit(main(*sys.argv[1:]))
