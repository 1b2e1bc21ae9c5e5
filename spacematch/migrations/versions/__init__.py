"""Revision scripts: one file per schema change, applied in order by ``alembic upgrade``."""
