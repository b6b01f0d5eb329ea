"""The command line of the deployment tests' helper scripts: -c CONF -d
DATABASE, then trytond configured from CONF and the database's pool loaded,
as trytond-cron or trytond-worker load it."""
import argparse


def open_pool(description, *arguments):
    """(parsed arguments, the database's pool); arguments are extra
    (args, kwargs) for the parser"""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('-c', '--config', required=True)
    parser.add_argument('-d', '--database', required=True)
    for args, kwargs in arguments:
        parser.add_argument(*args, **kwargs)
    args = parser.parse_args()
    from trytond import config
    config.update_etc(args.config)
    from trytond.pool import Pool
    Pool.start()
    pool = Pool(args.database)
    pool.init()
    return args, pool
