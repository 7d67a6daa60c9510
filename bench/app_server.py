"""The app alone under uvicorn, for a benchmark that loads it from another process.

    .venv/bin/python bench/app_server.py PORT

Settings come from the environment (`DATABASE_URL` is required; migrations are the caller's). It
listens on 127.0.0.1, runs no queue worker and logs to stderr at `BENCH_LOG_LEVEL` (WARNING).
"""

import os
import sys

import uvicorn

from roomcraft import logging as app_logging
from roomcraft.config import Settings
from roomcraft.main import create_app


def main() -> None:
    port = int(sys.argv[1])
    app_logging.configure(os.environ.get("BENCH_LOG_LEVEL", "WARNING"), stream=sys.stderr)
    settings = Settings()
    if settings.database_url is None:
        sys.exit("DATABASE_URL is not set")
    uvicorn.run(create_app(settings), host="127.0.0.1", port=port, log_config=None)


if __name__ == "__main__":
    main()
