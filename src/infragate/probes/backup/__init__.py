"""Backups and restore drills: where backups live (folders, S3, pgBackRest), their layout, the checks
of their catalogue and integrity, the dump and cluster drills, WAL archiving, PostgreSQL's client
programs and Redis persistence."""
