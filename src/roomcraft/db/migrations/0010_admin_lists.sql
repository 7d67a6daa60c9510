-- The admins' lists of every user's accounts and jobs, newest first, walk an index a page at a time.
create index profiles_created_idx on public.profiles (created_at desc, id desc);
create index generation_jobs_created_idx on public.generation_jobs (created_at desc, id desc);
