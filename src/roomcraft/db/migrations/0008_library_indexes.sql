-- The renders list filtered by mode walks its own index, newest first, however rare the mode.
create index renders_owner_mode_created_idx
  on public.renders (owner_id, mode, created_at desc, id desc);
