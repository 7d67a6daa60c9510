-- Profiles: one per user, created by trigger; "My Favorites" is created with each profile.

create table public.profiles (
  id uuid primary key references auth.users (id) on delete cascade,
  email text not null,
  name text check (length(name) <= 100),
  customer_id text unique,
  price_id text,
  has_access boolean not null default false,
  current_period_end timestamptz,
  is_admin boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create trigger profiles_touch_updated_at
  before update on public.profiles
  for each row execute function public.touch_updated_at();

alter table public.profiles enable row level security;

create policy profiles_owner_select on public.profiles
  for select to authenticated
  using (id = (select auth.uid()));

-- Owners may change their display name only (column grant below); plan and admin flags are
-- written by the service role.
create policy profiles_owner_update on public.profiles
  for update to authenticated
  using (id = (select auth.uid()))
  with check (id = (select auth.uid()));

grant select on public.profiles to authenticated;
grant update (name) on public.profiles to authenticated;

create or replace function auth.create_profile_for_user() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  insert into public.profiles (id, email) values (new.id, new.email);
  return new;
end;
$$;

create trigger users_create_profile
  after insert on auth.users
  for each row execute function auth.create_profile_for_user();

create or replace function auth.sync_profile_email() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  update public.profiles set email = new.email where id = new.id;
  return new;
end;
$$;

create trigger users_sync_profile_email
  after update of email on auth.users
  for each row execute function auth.sync_profile_email();
