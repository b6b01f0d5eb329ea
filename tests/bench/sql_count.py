"""The SQL statements a trytond process executes, counted: for the
benchmarks' in-process scripts (filing_bench.py, moderator_bench.py,
button_bench.py), which import it once trytond has read its configuration."""


def count_statements():
    """Make the backend's cursor count what it executes; the one-item list
    that holds the count"""
    from trytond import backend
    if backend.name == 'sqlite':
        from trytond.backend.sqlite.database import SQLiteCursor as Cursor
    else:
        from trytond.backend.postgresql.database import (
            LoggingCursor as Cursor)
    count = [0]
    execute = Cursor.execute

    def counting(self, *args, **kwargs):
        count[0] += 1
        return execute(self, *args, **kwargs)
    Cursor.execute = counting
    return count
