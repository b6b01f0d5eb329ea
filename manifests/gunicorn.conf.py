# gunicorn configuration for Tipline's web workers:
#   TRYTOND_CONFIG=/etc/tryton/trytond.conf TRYTOND_DATABASE_NAMES=tipline \
#   TRYTOND_LOGGING_CONFIG=/etc/tryton/logging.conf \
#   gunicorn -c /etc/tryton/gunicorn.conf.py [--workers N] [--bind ADDRESS]
# Each worker is one process with its own trytond pool; they share nothing
# but the PostgreSQL database, so workers on several machines behind nginx
# (nginx/tipline.conf) are the same shape as workers on one. trytond-cron
# and trytond-worker run beside them (systemd/).
import os

wsgi_app = 'trytond.application:app'
bind = [os.environ.get('TIPLINE_BIND', '127.0.0.1:8000')]

# CPU-bound Python: one process per core gets past the GIL; two per core
# keeps a core busy while the other waits on PostgreSQL. --workers wins.
workers = int(os.environ.get('WEB_CONCURRENCY', 2 * (os.cpu_count() or 1)))
# Threads let a worker hold sao's long-polling bus requests (up to [bus]
# long_polling_timeout, 5 minutes) without blocking other requests; trytond's
# application is thread-safe (its own server is threaded).
worker_class = 'gthread'
threads = int(os.environ.get('TIPLINE_THREADS', 4))
# A worker whose main loop is stuck this long is killed and replaced; a
# request itself is bounded by trytond's [request] timeout.
timeout = 120
graceful_timeout = 30
# A fresh process now and then returns memory a long-lived pool held.
max_requests = 5000
max_requests_jitter = 500
# Every worker loads the pool itself after the fork: loading it in the
# master (preload) would share database connections across processes.
preload_app = False

# Logging: the same file as every trytond process (it keeps gunicorn's own
# error and access loggers). Access lines without the client's address,
# query string, user agent or referrer: who called and from where must not
# be tied to a Tipline request by its time.
logconfig = os.environ.get('TRYTOND_LOGGING_CONFIG') or None
accesslog = '-'
access_log_format = '"%(m)s %(U)s" %(s)s %(B)s %(M)sms'
# Behind nginx: gunicorn takes the scheme from X-Forwarded-Proto only from
# these addresses; trytond's [web] num_proxies reads the rest.
forwarded_allow_ips = os.environ.get('TIPLINE_PROXY_IPS', '127.0.0.1')
# gunicorn >= 25 opens a control socket at one path per user, which a
# second instance on the machine would take over; systemd drives this one
# (HUP reloads, TTIN/TTOU add and remove workers).
control_socket_disable = True
