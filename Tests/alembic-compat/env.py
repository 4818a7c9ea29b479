"""Alembic environment for the greyoak compatibility project.

Connection settings follow GreyOak's documented rules (DB_MIGRATIONS.md):
DATABASE_URL first, else the individual PG* variables. The URL may omit the
password: psycopg2 hands the connection to libpq, which then reads PGPASSFILE
(scripts/pg env sets it), so no secret needs to be in the URL.
"""

import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import URL, make_url

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name)

# Raw SQL migrations: no SQLAlchemy models, so no autogenerate.
target_metadata = None


def database_url() -> URL:
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        # Heroku-style scheme that SQLAlchemy no longer accepts.
        if url.startswith("postgres://"):
            url = "postgresql://" + url[len("postgres://"):]
        parsed = make_url(url)
        # Pin the driver: SQLAlchemy 2.1 made plain postgresql:// mean psycopg 3.
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg2")
        return parsed
    # Unset values stay None, so libpq applies its own defaults and PGPASSFILE.
    port = os.environ.get("PGPORT")
    return URL.create(
        "postgresql+psycopg2",
        username=os.environ.get("PGUSER"),
        password=os.environ.get("PGPASSWORD"),
        host=os.environ.get("PGHOST"),
        port=int(port) if port else None,
        database=os.environ.get("PGDATABASE"),
    )


def run_migrations_offline() -> None:
    """`alembic upgrade --sql`: print the SQL instead of running it."""
    context.configure(
        url=database_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run against the database, the whole upgrade in one transaction (PostgreSQL)."""
    engine = create_engine(database_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
