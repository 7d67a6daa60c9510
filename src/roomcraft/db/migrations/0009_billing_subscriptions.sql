-- The subscription a profile follows, and a plan change that waits for the end of the paid period:
-- from `plan_changes_at` on, the plan is `next_price_id`'s (none: the free plan). A downgrade or a
-- cancellation the user chose keeps the plan already paid for until then (users/service.py).

alter table public.profiles
  add column subscription_id text,
  add column next_price_id text,
  add column plan_changes_at timestamptz;
