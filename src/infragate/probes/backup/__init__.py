"""Backups and restore drills: where backups live (``sources``: folders, S3, pgBackRest), their
``layout``, the ``checks`` of their catalogue and integrity and the dump drills, the
``cluster_drill``, ``wal`` archiving, PostgreSQL's client programs (``postgres``) and
``redis_persistence``."""
