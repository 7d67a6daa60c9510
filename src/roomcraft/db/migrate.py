"""Apply the ordered `.sql` migrations with yoyo-migrations."""

from pathlib import Path

from yoyo import get_backend, read_migrations

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def _yoyo_url(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if scheme in {"postgres", "postgresql"}:
        return f"postgresql+psycopg{sep}{rest}"
    return url


def apply_migrations(url: str) -> list[str]:
    """Apply every pending migration, under yoyo's lock; returns the ids applied."""
    backend = get_backend(_yoyo_url(url))
    try:
        migrations = read_migrations(str(MIGRATIONS_DIR))
        with backend.lock():
            pending = backend.to_apply(migrations)
            backend.apply_migrations(pending)
    finally:
        backend.connection.close()
    return [migration.id for migration in pending]
