-- The curated community gallery: readable by everyone, written by admins through the service role.

create table public.community_collections (
  id uuid primary key default gen_random_uuid(),
  title text not null check (length(btrim(title)) between 1 and 120),
  description text check (length(description) <= 1000),
  is_featured boolean not null default false,
  order_index int not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index community_collections_order_idx
  on public.community_collections (is_featured desc, order_index asc, created_at desc, id desc);

create trigger community_collections_touch_updated_at
  before update on public.community_collections
  for each row execute function public.touch_updated_at();

-- An item shows an internal render (its image is copied into the item, nothing else of its owner)
-- or an external image fetched once into public storage; never hot-linked.
create table public.community_items (
  id uuid primary key default gen_random_uuid(),
  collection_id uuid not null references public.community_collections (id) on delete cascade,
  render_id uuid references public.renders (id) on delete cascade,
  external_image_url text,
  image_path text,
  thumb_path text,
  title text check (length(title) <= 120),
  apply_settings jsonb not null default '{}',
  order_index int not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint community_item_src check ((render_id is not null) <> (external_image_url is not null))
);
create index community_items_collection_order_idx
  on public.community_items (collection_id, order_index asc, created_at desc, id desc);
create index community_items_render_idx on public.community_items (render_id);

create trigger community_items_touch_updated_at
  before update on public.community_items
  for each row execute function public.touch_updated_at();

alter table public.community_collections enable row level security;
alter table public.community_items enable row level security;
create policy community_collections_read on public.community_collections
  for select to anon, authenticated using (true);
create policy community_items_read on public.community_items
  for select to anon, authenticated using (true);
grant select on public.community_collections, public.community_items to anon, authenticated;
