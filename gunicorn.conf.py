"""gunicorn settings for quizapp (production server): `gunicorn -c gunicorn.conf.py 'quizapp:create_app()'`.

Every value can be overridden by the environment variables below, or on the command line.
The app keeps no state in the process, so any number of workers (or machines) may share one
database. Sync workers suit the short, database-bound requests of a quiz; put nginx in front
for TLS, slow clients and static files (see docs/deploy.md).
"""
import multiprocessing
import os

bind = os.environ.get("QUIZAPP_BIND", "127.0.0.1:8000")
# Two workers per core is the usual start for short database-bound requests.
workers = int(os.environ.get("QUIZAPP_WORKERS", multiprocessing.cpu_count() * 2))
worker_class = "sync"
timeout = int(os.environ.get("QUIZAPP_TIMEOUT", 30))
graceful_timeout = 20
# Recycle workers now and then so a slow leak cannot grow for a whole competition day.
max_requests = 20000
max_requests_jitter = 2000
backlog = 4096  # the 9:00 start spike queues here rather than being refused
accesslog = os.environ.get("QUIZAPP_ACCESS_LOG")  # e.g. "-" for stdout; off by default
errorlog = "-"
loglevel = os.environ.get("QUIZAPP_LOG_LEVEL", "info")
forwarded_allow_ips = os.environ.get("QUIZAPP_FORWARDED_ALLOW_IPS", "127.0.0.1")
