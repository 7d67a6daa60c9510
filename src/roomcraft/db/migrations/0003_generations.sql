-- Uploads, generation jobs and their provider predictions, renders and their variants.

create table public.uploads (
  id uuid primary key default gen_random_uuid(),
  owner_id uuid not null references public.profiles (id) on delete cascade,
  storage_path text not null unique,
  content_type text not null,
  width int not null check (width > 0),
  height int not null check (height > 0),
  bytes bigint not null check (bytes > 0),
  sha256 text not null,
  created_at timestamptz not null default now(),
  -- An upload names a file in its owner's own folder of the private bucket.
  constraint uploads_path_in_owner_folder check (storage_path like owner_id::text || '/inputs/%')
);
create unique index uploads_id_owner_key on public.uploads (id, owner_id);
create index uploads_owner_created_idx on public.uploads (owner_id, created_at desc, id desc);

alter table public.uploads enable row level security;
create policy uploads_owner_select on public.uploads
  for select to authenticated using (owner_id = (select auth.uid()));
create policy uploads_owner_insert on public.uploads
  for insert to authenticated with check (owner_id = (select auth.uid()));
create policy uploads_owner_delete on public.uploads
  for delete to authenticated using (owner_id = (select auth.uid()));
grant select, insert, delete on public.uploads to authenticated;

create table public.generation_jobs (
  id uuid primary key default gen_random_uuid(),
  owner_id uuid not null references public.profiles (id) on delete cascade,
  mode text not null check (mode in ('redesign', 'staging', 'compose', 'imagine')),
  room_type text,
  style text,
  prompt text check (length(prompt) <= 800),
  input1_upload_id uuid,
  input2_upload_id uuid,
  input1_path text,
  input2_path text,
  provider text not null,
  model text,
  settings jsonb not null default '{}',
  status text not null default 'starting'
    check (status in ('starting', 'processing', 'succeeded', 'failed', 'canceled')),
  error text,
  idempotency_key uuid,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  completed_at timestamptz,
  -- Inputs are uploads of the job's own owner; deleting an upload keeps the job (for audit).
  foreign key (input1_upload_id, owner_id) references public.uploads (id, owner_id)
    on delete set null (input1_upload_id),
  foreign key (input2_upload_id, owner_id) references public.uploads (id, owner_id)
    on delete set null (input2_upload_id)
);
create index generation_jobs_owner_created_idx
  on public.generation_jobs (owner_id, created_at desc, id desc);
create index generation_jobs_in_flight_idx
  on public.generation_jobs (created_at) where status in ('starting', 'processing');
create index generation_jobs_owner_in_flight_idx
  on public.generation_jobs (owner_id) where status in ('starting', 'processing');
create unique index generation_jobs_owner_idempotency_key
  on public.generation_jobs (owner_id, idempotency_key) where idempotency_key is not null;

create trigger generation_jobs_touch_updated_at
  before update on public.generation_jobs
  for each row execute function public.touch_updated_at();

alter table public.generation_jobs enable row level security;
create policy jobs_owner_select on public.generation_jobs
  for select to authenticated using (owner_id = (select auth.uid()));
-- A user's job starts as 'starting' and names its inputs only through its own uploads.
create policy jobs_owner_insert on public.generation_jobs
  for insert to authenticated
  with check (
    owner_id = (select auth.uid())
    and input1_path is not distinct from
        (select u.storage_path from public.uploads u where u.id = input1_upload_id)
    and input2_path is not distinct from
        (select u.storage_path from public.uploads u where u.id = input2_upload_id)
  );
-- No update or delete policy: status changes come from the worker and webhooks (service role),
-- and the status columns cannot even be named in a user's insert.
grant select on public.generation_jobs to authenticated;
grant insert (owner_id, mode, room_type, style, prompt, input1_upload_id, input2_upload_id,
              input1_path, input2_path, provider, model, settings, idempotency_key)
  on public.generation_jobs to authenticated;

-- One row per provider prediction: a model that returns one image gets one per variant.
create table public.generation_predictions (
  id uuid primary key default gen_random_uuid(),
  job_id uuid not null references public.generation_jobs (id) on delete cascade,
  owner_id uuid not null references public.profiles (id) on delete cascade,
  idx int not null check (idx between 0 and 3),
  prediction_id text unique,
  status text not null default 'starting'
    check (status in ('starting', 'processing', 'succeeded', 'failed', 'canceled', 'aborted')),
  error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  completed_at timestamptz,
  unique (job_id, idx)
);
create index generation_predictions_owner_idx on public.generation_predictions (owner_id);

create trigger generation_predictions_touch_updated_at
  before update on public.generation_predictions
  for each row execute function public.touch_updated_at();

alter table public.generation_predictions enable row level security;
create policy predictions_owner_select on public.generation_predictions
  for select to authenticated using (owner_id = (select auth.uid()));
grant select on public.generation_predictions to authenticated;

create table public.renders (
  id uuid primary key default gen_random_uuid(),
  job_id uuid not null unique references public.generation_jobs (id) on delete cascade,
  owner_id uuid not null references public.profiles (id) on delete cascade,
  mode text not null check (mode in ('redesign', 'staging', 'compose', 'imagine')),
  room_type text,
  style text,
  prompt text,
  cover_variant int not null default 0,
  created_at timestamptz not null default now()
);
create unique index renders_id_owner_key on public.renders (id, owner_id);
create index renders_owner_created_idx on public.renders (owner_id, created_at desc, id desc);

alter table public.renders enable row level security;
create policy renders_owner_select on public.renders
  for select to authenticated using (owner_id = (select auth.uid()));
create policy renders_owner_delete on public.renders
  for delete to authenticated using (owner_id = (select auth.uid()));
-- Renders are created by the service role only, when a job succeeds.
grant select, delete on public.renders to authenticated;

create table public.render_variants (
  id uuid primary key default gen_random_uuid(),
  render_id uuid not null,
  owner_id uuid not null,
  idx int not null check (idx between 0 and 3),
  image_path text not null,
  thumb_path text,
  width int not null check (width > 0),
  height int not null check (height > 0),
  bytes bigint not null check (bytes > 0),
  created_at timestamptz not null default now(),
  unique (render_id, idx),
  foreign key (render_id, owner_id) references public.renders (id, owner_id) on delete cascade
);
create index render_variants_owner_idx on public.render_variants (owner_id);

alter table public.render_variants enable row level security;
create policy variants_owner_select on public.render_variants
  for select to authenticated using (owner_id = (select auth.uid()));
-- Variants go with their render (the cascade); a render never loses them one by one.
grant select on public.render_variants to authenticated;

-- Replicate webhook ids already applied: a replay is recognised by the primary key.
create table public.webhook_deliveries (
  webhook_id text primary key,
  prediction_id text,
  received_at timestamptz not null default now()
);
alter table public.webhook_deliveries enable row level security;
