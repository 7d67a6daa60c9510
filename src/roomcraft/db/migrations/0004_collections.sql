-- Collections; favorites are the default "My Favorites" collection of each user.

create table public.collections (
  id uuid primary key default gen_random_uuid(),
  owner_id uuid not null references public.profiles (id) on delete cascade,
  name text not null check (name = btrim(name) and length(name) between 1 and 100),
  is_default_favorites boolean not null default false,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index collections_id_owner_key on public.collections (id, owner_id);
create unique index collections_owner_default_favorites_key
  on public.collections (owner_id) where is_default_favorites;
create index collections_owner_created_idx
  on public.collections (owner_id, created_at desc, id desc);

create trigger collections_touch_updated_at
  before update on public.collections
  for each row execute function public.touch_updated_at();

alter table public.collections enable row level security;
create policy collections_owner_select on public.collections
  for select to authenticated using (owner_id = (select auth.uid()));
create policy collections_owner_insert on public.collections
  for insert to authenticated
  with check (owner_id = (select auth.uid()) and not is_default_favorites);
-- The default collection can be neither renamed nor deleted.
create policy collections_owner_update on public.collections
  for update to authenticated
  using (owner_id = (select auth.uid()) and not is_default_favorites)
  with check (owner_id = (select auth.uid()) and not is_default_favorites);
create policy collections_owner_delete on public.collections
  for delete to authenticated
  using (owner_id = (select auth.uid()) and not is_default_favorites);
grant select, insert, delete on public.collections to authenticated;
grant update (name) on public.collections to authenticated;

-- An item joins a collection and a render of the same owner (the composite keys enforce it).
create table public.collection_items (
  collection_id uuid not null,
  render_id uuid not null,
  owner_id uuid not null,
  added_at timestamptz not null default now(),
  primary key (collection_id, render_id),
  foreign key (collection_id, owner_id)
    references public.collections (id, owner_id) on delete cascade,
  foreign key (render_id, owner_id) references public.renders (id, owner_id) on delete cascade
);
create index collection_items_collection_added_idx
  on public.collection_items (collection_id, added_at desc, render_id desc);
create index collection_items_render_idx on public.collection_items (render_id);
create index collection_items_owner_idx on public.collection_items (owner_id);

alter table public.collection_items enable row level security;
create policy collection_items_owner_select on public.collection_items
  for select to authenticated using (owner_id = (select auth.uid()));
create policy collection_items_owner_insert on public.collection_items
  for insert to authenticated with check (owner_id = (select auth.uid()));
create policy collection_items_owner_delete on public.collection_items
  for delete to authenticated using (owner_id = (select auth.uid()));
grant select, insert, delete on public.collection_items to authenticated;

create or replace function public.create_default_favorites() returns trigger
language plpgsql security definer set search_path = ''
as $$
begin
  insert into public.collections (owner_id, name, is_default_favorites)
  values (new.id, 'My Favorites', true)
  on conflict do nothing;
  return new;
end;
$$;

create trigger profiles_create_default_favorites
  after insert on public.profiles
  for each row execute function public.create_default_favorites();
