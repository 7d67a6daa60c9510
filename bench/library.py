"""The render and favorites lists, over real HTTP and as the same SQL under pgbench.

    .venv/bin/python bench/library.py [--sizes 1000 100000] [--seconds 10] [--concurrency 8]

For a user with each of `--sizes` renders (a fifth of them favorited; another user holds as many
renders as the largest size, so row-level security has rows to filter out), measures the first
page (default limit 24) and a deep page (a cursor halfway down the list) of
`GET /api/v1/renders` and `GET /api/v1/favorites/list`:
- over HTTP: the app under uvicorn in its own process on 127.0.0.1, authenticated by an API
  token, `--concurrency` keep-alive clients each sending its next request as soon as the last
  answer arrived, for `--seconds` after `--warmup` seconds; p50, p99 and requests/s;
- the SQL the endpoint runs, by pgbench on the same server: the statements are recorded while the
  app's own service functions build a page (setting the identity as `authenticated` with the
  JWT claims, then the list query, in one transaction, as a unit of work does), and replayed with
  the same parameters (`--protocol=prepared`, as psycopg prepares a statement run five times);
  p50 and p99 from pgbench's transaction log, average ± stddev, tps and the list query's own
  average (`--report-per-command`).
It then prints `EXPLAIN (ANALYZE, BUFFERS)` of the first-page queries at the largest size, and a
markdown table. Data is seeded set-based as the service role. The embedded PostgreSQL runs in a
temporary directory unless `DATABASE_URL` is set (then the bench users are deleted at the end).
"""

import argparse
import asyncio
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Self
from uuid import UUID, uuid4

import httpx
import psycopg
from psycopg import AsyncConnection, AsyncCursor, sql
from psycopg.abc import Params, Query
from psycopg.rows import DictRow, dict_row

from roomcraft import logging as app_logging
from roomcraft.auth import service as auth_service
from roomcraft.collections import service as collections_service
from roomcraft.db import embedded
from roomcraft.db.migrate import apply_migrations
from roomcraft.db.session import set_identity
from roomcraft.kit.pagination import DEFAULT_LIMIT, Cursor, encode_cursor
from roomcraft.renders import service as renders_service
from roomcraft.renders.repository import RenderFilters

HERE = Path(__file__).resolve().parent
ENDPOINTS = {"renders": "/api/v1/renders", "favorites": "/api/v1/favorites/list"}

# One temporary row per render to come, then each table filled from it in time order, so the
# users' rows are interleaved on disk as they would be after months of use.
SEED_ROWS = """
    create temporary table bench_seed on commit drop as
    select gen_random_uuid() as job_id, gen_random_uuid() as render_id, u.owner_id, g.n,
           now() - interval '365 days' * (1 - g.n::float8 / u.total) as created_at,
           (array['redesign', 'staging', 'compose', 'imagine'])[1 + mod(g.n, 4)] as mode,
           (array['living_room', 'bedroom', 'kitchen', 'bathroom', 'office'])[1 + mod(g.n, 5)]
             as room_type,
           (array['modern', 'scandinavian', 'industrial', 'minimalist', 'bohemian',
                  'japandi'])[1 + mod(g.n, 6)] as style
      from unnest(%(owners)s::uuid[], %(totals)s::int[]) as u (owner_id, total)
     cross join lateral generate_series(1, u.total) as g (n)
"""
FILL = [
    """
    insert into public.generation_jobs (id, owner_id, mode, room_type, style, prompt, provider,
                                        status, created_at, updated_at, completed_at)
    select job_id, owner_id, mode, room_type, style, 'bench render ' || n, 'local', 'succeeded',
           created_at, created_at, created_at
      from bench_seed order by created_at
    """,
    """
    insert into public.renders (id, job_id, owner_id, mode, room_type, style, prompt,
                                cover_variant, created_at)
    select render_id, job_id, owner_id, mode, room_type, style, 'bench render ' || n, 0,
           created_at
      from bench_seed order by created_at
    """,
    """
    insert into public.render_variants (render_id, owner_id, idx, image_path, thumb_path, width,
                                        height, bytes, created_at)
    select s.render_id, s.owner_id, v.idx, 'renders/' || s.render_id || '/' || v.idx || '.jpg',
           'renders/' || s.render_id || '/' || v.idx || '_thumb.webp', 1024, 768, 150000,
           s.created_at
      from bench_seed s cross join lateral generate_series(0, mod(s.n, 4)) as v (idx)
     order by s.created_at, v.idx
    """,
    """
    insert into public.collection_items (collection_id, render_id, owner_id, added_at)
    select f.id, s.render_id, s.owner_id, s.created_at + mod(s.n * 7919, 1440) * interval '1 minute'
      from bench_seed s
      join public.collections f on f.owner_id = s.owner_id and f.is_default_favorites
     where mod(s.n, 5) = 0
     order by 4
    """,
]
SEEDED_TABLES = (
    "public.generation_jobs, public.renders, public.render_variants, public.collection_items"
)

# The sort key of the item at an offset of each list, for a cursor into the middle of it.
KEY_AT = {
    "renders": """
        select created_at as at, id from public.renders where owner_id = %(owner)s
         order by created_at desc, id desc offset %(offset)s limit 1
    """,
    "favorites": """
        select ci.added_at as at, ci.render_id as id
          from public.collection_items ci
          join public.collections f on f.id = ci.collection_id and f.is_default_favorites
         where f.owner_id = %(owner)s
         order by ci.added_at desc, ci.render_id desc offset %(offset)s limit 1
    """,
}


@dataclass(frozen=True)
class User:
    id: UUID
    renders: int
    token: str


@dataclass(frozen=True)
class Statement:
    """A statement as psycopg ran it: the SQL with `%(name)s` placeholders, and their values."""

    sql: str
    params: dict[str, Any]


@dataclass(frozen=True)
class Case:
    user: User
    endpoint: str
    page: str  # "first", or "deep" from the item after `offset` on
    offset: int
    path: str
    statements: list[Statement]
    rows: int


@dataclass(frozen=True)
class HttpFigures:
    items: int
    requests: int
    p50: float
    p99: float
    rps: float


@dataclass(frozen=True)
class SqlFigures:
    transactions: int
    p50: float
    p99: float
    mean: float
    stddev: float
    tps: float
    query_ms: float


class RecordingConnection(AsyncConnection[DictRow]):
    """A connection that keeps every statement its cursors run."""

    statements: list[Statement]


class RecordingCursor(AsyncCursor[DictRow]):
    async def execute(
        self,
        query: Query,
        params: Params | None = None,
        *,
        prepare: bool | None = None,
        binary: bool | None = None,
    ) -> Self:
        connection = self.connection
        assert isinstance(connection, RecordingConnection)
        assert isinstance(params, dict), "the app's statements use named parameters"
        if isinstance(query, sql.SQL | sql.Composed):
            text = query.as_string(connection)
        elif isinstance(query, str):
            text = query
        else:
            raise TypeError("the app's statements are text or psycopg.sql")
        connection.statements.append(Statement(sql=" ".join(text.split()), params=params))
        return await super().execute(query, params, prepare=prepare, binary=binary)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def quantile(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


async def connect(url: str) -> AsyncConnection[DictRow]:
    return await AsyncConnection.connect(url, autocommit=True, row_factory=dict_row)


async def seed(url: str, sizes: list[int]) -> list[User]:
    """A user per size and one more with as many renders as the largest; each gets a token."""
    totals = [*sizes, max(sizes)]
    users: list[User] = []
    async with await connect(url) as conn:
        async with conn.transaction():
            await set_identity(conn, role="service_role")
            for total in totals:
                cur = await conn.execute(
                    "insert into auth.users (email, email_confirmed_at) values (%s, now())"
                    " returning id",
                    (f"bench-library-{total}-{uuid4().hex[:8]}@example.com",),
                )
                row = await cur.fetchone()
                assert row is not None
                _, token = await auth_service.create_api_token(
                    conn, user_id=row["id"], name="bench"
                )
                users.append(User(id=row["id"], renders=total, token=token))
            await conn.execute(SEED_ROWS, {"owners": [u.id for u in users], "totals": totals})
            for statement in FILL:
                await conn.execute(statement)
        await conn.execute(f"vacuum (analyze) {SEEDED_TABLES}")
        # The seed's dirty pages are written now, not by a checkpoint in the middle of a case.
        try:
            await conn.execute("checkpoint")
        except psycopg.errors.InsufficientPrivilege:
            print("(no checkpoint: the role may not; the first case may pay for the seed's writes)")
    return users


async def drop_users(url: str, users: list[User]) -> None:
    async with await connect(url) as conn, conn.transaction():
        await set_identity(conn, role="service_role")
        await conn.execute("delete from auth.users where id = any(%s)", ([u.id for u in users],))


async def key_at(url: str, endpoint: str, owner: UUID, offset: int) -> Cursor:
    async with await connect(url) as conn, conn.transaction():
        await set_identity(conn, role="service_role")
        cur = await conn.execute(KEY_AT[endpoint], {"owner": owner, "offset": offset})
        row = await cur.fetchone()
        assert row is not None, f"no {endpoint} item at offset {offset}"
        return Cursor(created_at=row["at"], id=row["id"])


async def record(
    url: str, user: User, endpoint: str, after: Cursor | None, offset: int = 0
) -> Case:
    """Build the page with the app's own service function and keep the statements it ran."""
    conn = await RecordingConnection.connect(
        url, autocommit=True, row_factory=dict_row, cursor_factory=RecordingCursor
    )
    conn.statements = []
    async with conn, conn.transaction():
        await set_identity(conn, role="authenticated", user_id=user.id)
        # The routes ask for one row more than the page: it says whether more follow.
        if endpoint == "renders":
            rows = await renders_service.list_renders(
                conn,
                owner_id=user.id,
                filters=RenderFilters(),
                after=after,
                limit=DEFAULT_LIMIT + 1,
            )
        else:
            rows = await collections_service.list_favorites(
                conn, owner_id=user.id, after=after, limit=DEFAULT_LIMIT + 1
            )
    path = ENDPOINTS[endpoint]
    if after is not None:
        path += "?cursor=" + encode_cursor(after.created_at, after.id)
    return Case(
        user=user,
        endpoint=endpoint,
        page="first" if after is None else "deep",
        offset=offset,
        path=path,
        statements=conn.statements,
        rows=len(rows),
    )


async def cases_for(url: str, user: User) -> list[Case]:
    favorites = user.renders // 5
    cases = []
    for endpoint, total in (("renders", user.renders), ("favorites", favorites)):
        cases.append(await record(url, user, endpoint, None))
        offset = total // 2
        middle = await key_at(url, endpoint, user.id, offset - 1)
        cases.append(await record(url, user, endpoint, middle, offset))
    return cases


async def explain(url: str, case: Case) -> str:
    """The plan of the case's list query, run as the user exactly as the app runs it."""
    identity, query = case.statements
    async with await connect(url) as conn, conn.transaction():
        await conn.execute(identity.sql, identity.params)
        cur = await conn.execute("explain (analyze, buffers) " + query.sql, query.params)
        return "\n".join(row["QUERY PLAN"] for row in await cur.fetchall())


@contextmanager
def serve(url: str, workdir: Path) -> Iterator[int]:
    """The app under uvicorn in a child process; stopped (by its PID) on the way out."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "ROOMCRAFT_ENV": "test",
        "ROOMCRAFT_DATA_DIR": str(workdir / "app"),
        "ROOMCRAFT_SECRET_KEY": "bench",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
    }
    process = subprocess.Popen(
        [sys.executable, str(HERE / "app_server.py"), str(port)], env=env, cwd=workdir
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the app exited with {process.returncode}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the app did not start within 60 s")
            time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> bytes:
    """One HTTP/1.1 request on a kept-alive connection; the body of its 200 answer."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200 "):
        raise RuntimeError(head.decode("latin-1"))
    match = re.search(rb"\r\ncontent-length: *(\d+)", head, re.IGNORECASE)
    if match is None:
        raise RuntimeError("an answer without Content-Length")
    return await reader.readexactly(int(match[1]))


async def client(
    port: int, request: bytes, measure_from: float, until: float, samples: list[tuple[float, float]]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while (started := time.perf_counter()) < until:
            await exchange(reader, writer, request)
            ended = time.perf_counter()
            if started >= measure_from:
                samples.append((ended, ended - started))
    finally:
        writer.close()
        await writer.wait_closed()


async def load(case: Case, port: int, args: argparse.Namespace) -> HttpFigures:
    """`--concurrency` clients in a closed loop: warm-up first, then the measured window."""
    request = (
        f"GET {case.path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {case.user.token}\r\n\r\n"
    ).encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    page = json.loads(await exchange(reader, writer, request))["data"]
    writer.close()
    await writer.wait_closed()
    if len(page["items"]) != min(case.rows, DEFAULT_LIMIT):
        raise RuntimeError(
            f"{case.path}: {len(page['items'])} items, the SQL gave {case.rows} rows"
        )
    measure_from = time.perf_counter() + args.warmup
    until = measure_from + args.seconds
    samples: list[tuple[float, float]] = []
    await asyncio.gather(
        *(client(port, request, measure_from, until, samples) for _ in range(args.concurrency))
    )
    latencies = sorted(latency * 1000 for _, latency in samples)
    return HttpFigures(
        items=len(page["items"]),
        requests=len(latencies),
        p50=quantile(latencies, 0.50),
        p99=quantile(latencies, 0.99),
        rps=len(latencies) / (max(ended for ended, _ in samples) - measure_from),
    )


def pgbench_script(statements: list[Statement]) -> tuple[str, list[str]]:
    """The unit of work as a pgbench script (`%(name)s` → `:sN_name`) and its `--define`s."""
    lines, defines = ["begin;"], []
    for n, statement in enumerate(statements):
        names = set(re.findall(r"%\((\w+)\)s", statement.sql))
        lines.append(re.sub(r"%\((\w+)\)s", rf":s{n}_\1", statement.sql).replace("%%", "%") + ";")
        for name in sorted(names):
            value = statement.params[name]
            text = value.isoformat() if isinstance(value, datetime) else str(value)
            defines.append(f"--define=s{n}_{name}={text}")
    lines.append("commit;")
    return "\n".join(lines) + "\n", defines


def pgbench(url: str, case: Case, workdir: Path, args: argparse.Namespace) -> SqlFigures:
    name = f"{case.user.renders}-{case.endpoint}-{case.page}"
    script, defines = pgbench_script(case.statements)
    (workdir / f"{name}.sql").write_text(script)
    prefix = workdir / f"{name}.log"
    done = subprocess.run(
        [
            args.pgbench,
            "--no-vacuum",
            "--protocol=prepared",
            f"--client={args.concurrency}",
            f"--jobs={args.pgbench_threads}",
            f"--time={args.seconds}",
            "--report-per-command",
            "--log",
            f"--log-prefix={prefix}",
            f"--file={workdir / f'{name}.sql'}",
            *defines,
            url,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"pgbench failed:\n{done.stderr}\n{done.stdout}")
    latencies: list[float] = []
    for log in workdir.glob(f"{name}.log.*"):
        # client transaction latency_us script epoch epoch_us
        latencies += [int(line.split()[2]) / 1000 for line in log.read_text().splitlines()]
    latencies.sort()
    tps = re.search(r"^tps = ([\d.]+)", done.stdout, re.MULTILINE)
    query = re.search(r"^\s+([\d.]+)\s+\d+\s+select r\.id", done.stdout, re.MULTILINE)
    if tps is None or query is None:
        raise RuntimeError(f"unexpected pgbench output:\n{done.stdout}")
    return SqlFigures(
        transactions=len(latencies),
        p50=quantile(latencies, 0.50),
        p99=quantile(latencies, 0.99),
        mean=statistics.fmean(latencies),
        stddev=statistics.pstdev(latencies),
        tps=float(tps[1]),
        query_ms=float(query[1]),
    )


def plan_summary(plan: str) -> str:
    """What to look for in a page's plan: sequential scans, and the plan node that produced the
    most rows (a page of 25 should not read a number of rows that grows with the user's data)."""
    nodes = [line.strip().removeprefix("->  ") for line in plan.splitlines()]
    seq = [node.split("  (")[0] for node in nodes if "Seq Scan" in node]
    produced = []
    for node in nodes:
        if match := re.search(r"actual time=\S+ rows=(\d+) loops=(\d+)", node):
            produced.append((int(match[1]) * int(match[2]), node.split("  (")[0]))
    most, name = max(produced)
    return (
        f"sequential scans: {', '.join(seq) or 'none'}; most rows from one node: {most:,} ({name})"
    )


def table(rows: list[tuple[Case, HttpFigures, SqlFigures, float]]) -> str:
    lines = [
        "| renders | endpoint | page | items | HTTP p50 ms | HTTP p99 ms | HTTP req/s "
        "| SQL p50 ms | SQL p99 ms | SQL avg ± sd ms | SQL tps | list query ms | load 1m |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for case, http, db, load1 in rows:
        page = f"deep (from #{case.offset + 1:,})" if case.page == "deep" else "first"
        lines.append(
            f"| {case.user.renders:,} | {case.endpoint} | {page} | {http.items} "
            f"| {http.p50:.2f} | {http.p99:.2f} | {http.rps:,.0f} "
            f"| {db.p50:.2f} | {db.p99:.2f} | {db.mean:.2f} ± {db.stddev:.2f} "
            f"| {db.tps:,.0f} | {db.query_ms:.3f} | {load1:.2f} |"
        )
    return "\n".join(lines)


def measure(url: str, workdir: Path, users: list[User], args: argparse.Namespace) -> None:
    load_before = " ".join(f"{v:.2f}" for v in os.getloadavg())
    measured = users[:-1]  # the last one is the other user
    cases = {user.renders: asyncio.run(cases_for(url, user)) for user in measured}
    rows = []
    with serve(url, workdir) as port:
        for user in measured:
            for case in cases[user.renders]:
                load1 = os.getloadavg()[0]
                http = asyncio.run(load(case, port, args))
                db = pgbench(url, case, workdir, args)
                print(
                    f"{user.renders:>7,} {case.endpoint:9} {case.page:5} "
                    f"HTTP {http.requests} requests, pgbench {db.transactions} transactions",
                    file=sys.stderr,
                )
                rows.append((case, http, db, load1))
    largest = max(user.renders for user in measured)
    for case in cases[largest]:
        if case.page == "first":
            plan = asyncio.run(explain(url, case))
            print(f"\n### EXPLAIN (ANALYZE, BUFFERS): {case.endpoint}, first page, {largest:,}\n")
            print("```\n" + plan + "\n```")
            print(plan_summary(plan))
    print(f"\n### Figures (load average before: {load_before})\n")
    print(table(rows))
    print(f"\nload average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--seconds", type=int, default=10, help="measured time per case")
    parser.add_argument("--warmup", type=float, default=2.0, help="HTTP warm-up per case")
    parser.add_argument("--concurrency", type=int, default=8, help="in-flight clients")
    parser.add_argument("--pgbench-threads", type=int, default=2)
    parser.add_argument("--pgbench", default="/usr/bin/pgbench")
    args = parser.parse_args()
    if min(args.sizes) < 10:
        parser.error("each size must be at least 10 renders (two favorites)")
    app_logging.configure(os.environ.get("BENCH_LOG_LEVEL", "WARNING"), stream=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="roomcraft-bench-") as tmp:
        workdir = Path(tmp)
        url = os.environ.get("DATABASE_URL")
        server = None
        if url is None:
            server = embedded.start(workdir)
            url = embedded.database_url(server)
        try:
            apply_migrations(url)
            started = time.perf_counter()
            users = asyncio.run(seed(url, sorted(args.sizes)))
            print(
                f"seeded {sum(u.renders for u in users):,} renders"
                f" in {time.perf_counter() - started:.1f} s",
                file=sys.stderr,
            )
            try:
                measure(url, workdir, users, args)
            finally:
                if server is None:
                    asyncio.run(drop_users(url, users))
        finally:
            if server is not None:
                server.cleanup()


if __name__ == "__main__":
    main()
