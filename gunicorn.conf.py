"""gunicorn settings read when gunicorn starts from the repository root (its default config file).

Need tokens out of the access log: see spacematch/web/access_log.py (and SECURITY.md). Turn the
access log on with ``--access-logfile -`` (or a path); every token in it is masked.
"""

logger_class = "spacematch.web.access_log.TokenMaskingLogger"
