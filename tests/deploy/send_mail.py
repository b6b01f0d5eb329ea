"""send_mail.py -c CONF -d DATABASE: run the mail cron job's method
(tipline.mail_queue send_pending) once, in a process of its own, as
trytond-cron does every minute."""
from module_pool import open_pool


def main():
    args, pool = open_pool(__doc__)
    from trytond.transaction import Transaction
    with Transaction().start(args.database, 0) as transaction:
        pool.get('tipline.mail_queue').send_pending()
        transaction.commit()


if __name__ == '__main__':
    main()
