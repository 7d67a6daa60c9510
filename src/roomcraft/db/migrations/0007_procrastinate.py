"""The task queue's tables and functions, from the installed procrastinate (its own schema file)."""

from procrastinate.schema import SchemaManager
from yoyo import step

_TABLES = (
    "procrastinate_jobs",
    "procrastinate_events",
    "procrastinate_periodic_defers",
    "procrastinate_workers",
)

# Row-level security with no policy: only the service role and the worker (the connecting
# role) reach the queue; users never do.
steps = [
    step(SchemaManager.get_schema()),
    *(step(f"alter table public.{table} enable row level security") for table in _TABLES),
]
