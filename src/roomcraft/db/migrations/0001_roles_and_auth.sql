-- Roles as in Supabase, auth.uid(), and the accounts schema.
-- The app may connect as a superuser: a unit of work switches to one of these roles
-- (see roomcraft.db.session), which is what makes row-level security apply.

do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
end
$$;

-- The connecting role must be able to switch to each of them (implicit for a superuser).
grant anon, authenticated, service_role to current_user;

create schema if not exists auth;
grant usage on schema auth to anon, authenticated, service_role;
grant usage on schema public to anon, authenticated, service_role;
alter default privileges in schema public grant all on tables to service_role;
alter default privileges in schema public grant all on sequences to service_role;
alter default privileges in schema auth grant all on tables to service_role;

-- Reads the acting user like Supabase's auth.uid(): the `sub` claim, set per transaction.
create or replace function auth.uid() returns uuid
language sql stable
as $$
  select nullif(
    coalesce(
      nullif(current_setting('request.jwt.claim.sub', true), ''),
      nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub'
    ),
    ''
  )::uuid
$$;

create or replace function public.touch_updated_at() returns trigger
language plpgsql
as $$
begin
  new.updated_at = now();
  return new;
end;
$$;

create table auth.users (
  id uuid primary key default gen_random_uuid(),
  email text not null check (email = lower(email) and length(email) between 3 and 320),
  password_hash text,
  email_confirmed_at timestamptz,
  created_at timestamptz not null default now(),
  last_sign_in_at timestamptz
);
create unique index users_email_key on auth.users (lower(email));

create table auth.sessions (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  token_hash bytea not null unique,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  last_seen_at timestamptz not null default now(),
  user_agent text,
  ip text
);
create index sessions_user_id_idx on auth.sessions (user_id);
create index sessions_expires_at_idx on auth.sessions (expires_at);

create table auth.one_time_tokens (
  id uuid primary key default gen_random_uuid(),
  token_hash bytea not null unique,
  email text not null,
  purpose text not null check (purpose in ('magic_link')),
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  used_at timestamptz
);
create index one_time_tokens_expires_at_idx on auth.one_time_tokens (expires_at);

create table auth.api_tokens (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references auth.users (id) on delete cascade,
  name text not null check (length(name) between 1 and 100),
  prefix text not null,
  token_hash bytea not null unique,
  created_at timestamptz not null default now(),
  last_used_at timestamptz,
  revoked_at timestamptz
);
create index api_tokens_user_id_idx on auth.api_tokens (user_id, created_at desc, id desc);

-- Fixed-window counters shared by every web process.
create table auth.rate_limits (
  bucket text not null,
  window_start timestamptz not null,
  hits int not null default 0,
  primary key (bucket, window_start)
);

-- Mail the development server "sent": shown at /dev/outbox when no SMTP server is configured.
create table auth.email_outbox (
  id uuid primary key default gen_random_uuid(),
  to_email text not null,
  subject text not null,
  body text not null,
  link text,
  created_at timestamptz not null default now()
);
create index email_outbox_created_at_idx on auth.email_outbox (created_at desc);

-- Only the service role touches the accounts schema, but for the API tokens a user manages.
alter table auth.users enable row level security;
alter table auth.sessions enable row level security;
alter table auth.one_time_tokens enable row level security;
alter table auth.api_tokens enable row level security;
alter table auth.rate_limits enable row level security;
alter table auth.email_outbox enable row level security;
grant all on all tables in schema auth to service_role;

create policy api_tokens_owner_select on auth.api_tokens
  for select to authenticated using (user_id = (select auth.uid()));
create policy api_tokens_owner_insert on auth.api_tokens
  for insert to authenticated with check (user_id = (select auth.uid()));
-- A user may revoke a token, never bring one back.
create policy api_tokens_owner_update on auth.api_tokens
  for update to authenticated
  using (user_id = (select auth.uid()) and revoked_at is null)
  with check (user_id = (select auth.uid()) and revoked_at is not null);
grant select (id, user_id, name, prefix, created_at, last_used_at, revoked_at)
  on auth.api_tokens to authenticated;
grant insert (user_id, name, prefix, token_hash) on auth.api_tokens to authenticated;
grant update (revoked_at) on auth.api_tokens to authenticated;
