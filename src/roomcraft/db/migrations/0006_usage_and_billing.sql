-- The usage ledger (read-only to its owner) and Stripe events already applied.

create table public.usage_ledger (
  id uuid primary key default gen_random_uuid(),
  owner_id uuid not null references public.profiles (id) on delete cascade,
  kind text not null check (kind in ('generation_debit', 'credit_adjustment')),
  amount int not null check (amount > 0),
  job_id uuid references public.generation_jobs (id) on delete set null,
  meta jsonb not null default '{}',
  created_at timestamptz not null default now()
);
create index usage_ledger_owner_created_idx
  on public.usage_ledger (owner_id, created_at desc, id desc);
create index usage_ledger_job_idx on public.usage_ledger (job_id);

alter table public.usage_ledger enable row level security;
create policy usage_owner_select on public.usage_ledger
  for select to authenticated using (owner_id = (select auth.uid()));
-- No insert policy: only the service role writes the ledger.
grant select on public.usage_ledger to authenticated;

create table public.billing_events (
  event_id text primary key,
  type text not null,
  received_at timestamptz not null default now(),
  processed_at timestamptz
);
alter table public.billing_events enable row level security;
