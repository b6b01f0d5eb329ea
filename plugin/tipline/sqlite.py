"""SQLite keeps no bytes of what Tipline deletes.

By default SQLite leaves a deleted row's bytes in the free pages of the file
and in its write-ahead log, where whoever copies the file can read them: a
wizard session that named an anonymous reporter, a mail recipient forgotten
after sending.  Every connection the trytond backend opens therefore runs
with ``PRAGMA secure_delete = ON`` (deleted content is overwritten with
zeros), ``checkpoint()`` folds the log into the file and truncates it, and
``reclaim()``, after a retention purge, also gives the freed pages back.
PostgreSQL has no such switch: see the threat model for what VACUUM does.

SQLite transactions are all or nothing.  trytond's SQLite backend gives a
transaction one connection, which its cache then borrows to read and write
its timestamps, asking for autocommit: that commits the transaction's work
so far and runs the rest of it statement by statement.  With ``[cache]
clean_timeout = 0`` (every transaction) a button changed the state, a later
statement failed (the database locked by another process), and the retry
answered "You can not call ...": the history event, the appeal deadline and
the survey flag were lost.  A connection a transaction holds therefore keeps
its mode when it is borrowed (``tests/test_transaction.py``).
"""
import os
import sqlite3

from trytond import backend, config
from trytond.transaction import Transaction

INCREMENTAL = 2  # PRAGMA auto_vacuum's value for incremental


def install():
    """On SQLite: secure_delete on every connection of this process, and a
    transaction's connection kept in its mode while it is borrowed"""
    if backend.name != 'sqlite':
        return
    from trytond.backend.sqlite.database import Database
    if getattr(Database, 'tipline_installed', False):
        return
    connect = Database.connect
    get_connection = Database.get_connection

    def connect_securely(self):
        result = connect(self)
        self._conn.execute('PRAGMA secure_delete = ON')
        return result

    def get_connection_keeping_mode(self, autocommit=False, readonly=False,
            statement_timeout=None):
        if _held(self._conn):
            # Borrowed from the transaction that holds it (trytond's cache
            # does so): switching it to autocommit would commit that
            # transaction's work so far and the rest statement by statement.
            return self._conn
        return get_connection(self, autocommit=autocommit,
            readonly=readonly, statement_timeout=statement_timeout)

    Database.connect = connect_securely
    Database.get_connection = get_connection_keeping_mode
    Database.tipline_installed = True


def _held(connection):
    "Whether a transaction of this thread runs on connection"
    return connection is not None and any(
        getattr(t, 'connection', None) is connection
        for t in Transaction._local.transactions)


def checkpoint(database_name):
    """Move the write-ahead log of database_name into the file and truncate
    it, so that the log holds no old copy of a deleted row (SQLite only;
    best effort: a reader still holding old pages keeps them a while)"""
    if backend.name != 'sqlite' or database_name == ':memory:':
        return
    with Transaction(new=True).start(database_name, 0) as transaction:
        transaction.connection.execute('PRAGMA wal_checkpoint(TRUNCATE)')


def reclaim(database_name):
    """After a purge: return the freed pages to the file system and empty
    the write-ahead log (SQLite only; secure_delete has zeroed the deleted
    content already, this also shrinks the files).

    A database created before this switched to incremental auto-vacuum is
    converted once by a VACUUM, which rewrites the file; afterwards an
    incremental vacuum moves only the free pages."""
    if backend.name != 'sqlite' or database_name == ':memory:':
        return
    connection = sqlite3.connect(_path(database_name), isolation_level=None)
    try:
        connection.execute('PRAGMA secure_delete = ON')
        mode, = connection.execute('PRAGMA auto_vacuum').fetchone()
        if mode != INCREMENTAL:
            connection.execute('PRAGMA auto_vacuum = INCREMENTAL')
            connection.execute('VACUUM')
        else:
            connection.execute('PRAGMA incremental_vacuum')
        connection.execute('PRAGMA wal_checkpoint(TRUNCATE)')
    finally:
        connection.close()


def _path(database_name):
    "The file of a database, as trytond's SQLite backend names it"
    return os.path.join(
        config.get('database', 'path'), database_name + '.sqlite')
