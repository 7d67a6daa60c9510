"""Configuration, read once from the environment (and a `.env` file when present)."""

import secrets
from enum import StrEnum
from functools import cached_property
from pathlib import Path

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class Plan(BaseModel):
    """A subscription plan; `free` applies to every user without a paid subscription."""

    key: str
    name: str
    description: str = ""
    price_display: str
    stripe_price_id: str | None = None
    monthly_generations: int = Field(ge=0)
    jobs_in_flight: int = Field(default=1, ge=1)
    max_variants: int = Field(default=4, ge=1, le=4)


DEFAULT_PLANS = [
    Plan(
        key="free",
        name="Free",
        description="Try every mode with a handful of renders a month.",
        price_display="Free",
        monthly_generations=10,
        jobs_in_flight=1,
        max_variants=2,
    ),
    Plan(
        key="starter",
        name="Starter",
        description="For a home project: enough renders to try every room.",
        price_display="$12 / month",
        monthly_generations=100,
        jobs_in_flight=1,
        max_variants=4,
    ),
    Plan(
        key="pro",
        name="Pro",
        description="For designers and agents who render every day.",
        price_display="$39 / month",
        monthly_generations=500,
        jobs_in_flight=2,
        max_variants=4,
    ),
]


class RateLimit(BaseModel):
    """At most `limit` attempts per `window_seconds`."""

    limit: int = Field(ge=1)
    window_seconds: int = Field(ge=1)


class StorageSettings(BaseModel):
    """Where files live: a local directory by default, or any S3-compatible service."""

    backend: str = Field(default="local", pattern="^(local|s3)$")
    s3_endpoint: str | None = None
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    public_bucket: str = "roomcraft-public"
    private_bucket: str = "roomcraft-private"
    # Public files behind a CDN or the bucket's own website; unset: the S3 endpoint's URL.
    public_base_url: str | None = None
    signed_url_seconds: int = Field(default=600, ge=30, le=7 * 86400)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    env: Environment = Field(default=Environment.development, alias="ROOMCRAFT_ENV")
    data_dir: Path = Field(default=Path(".roomcraft"), alias="ROOMCRAFT_DATA_DIR")
    database_url: str | None = Field(default=None, alias="DATABASE_URL")
    db_pool_min: int = Field(default=2, alias="ROOMCRAFT_DB_POOL_MIN")
    db_pool_max: int = Field(default=10, alias="ROOMCRAFT_DB_POOL_MAX")
    secret_key: SecretStr | None = Field(default=None, alias="ROOMCRAFT_SECRET_KEY")
    public_base_url: str = Field(default="http://127.0.0.1:8000", alias="PUBLIC_BASE_URL")
    log_level: str = Field(default="INFO", alias="ROOMCRAFT_LOG_LEVEL")

    session_days: int = Field(default=30, alias="ROOMCRAFT_SESSION_DAYS")
    magic_link_minutes: int = Field(default=15, alias="ROOMCRAFT_MAGIC_LINK_MINUTES")
    # Argon2id cost; OWASP's minimum is 19 MiB with two passes. Tests lower it for speed.
    argon2_time_cost: int = Field(default=2, alias="ROOMCRAFT_ARGON2_TIME_COST")
    argon2_memory_kib: int = Field(default=19 * 1024, alias="ROOMCRAFT_ARGON2_MEMORY_KIB")
    auth_rate_per_ip: RateLimit = Field(
        default=RateLimit(limit=30, window_seconds=600), alias="ROOMCRAFT_AUTH_RATE_PER_IP"
    )
    auth_rate_per_email: RateLimit = Field(
        default=RateLimit(limit=10, window_seconds=600), alias="ROOMCRAFT_AUTH_RATE_PER_EMAIL"
    )

    smtp_host: str | None = Field(default=None, alias="SMTP_HOST")
    smtp_port: int = Field(default=587, alias="SMTP_PORT")
    smtp_username: str | None = Field(default=None, alias="SMTP_USERNAME")
    smtp_password: SecretStr | None = Field(default=None, alias="SMTP_PASSWORD")
    smtp_starttls: bool = Field(default=True, alias="SMTP_STARTTLS")
    mail_from: str = Field(default="Roomcraft <no-reply@roomcraft.local>", alias="MAIL_FROM")

    google_client_id: str | None = Field(default=None, alias="GOOGLE_CLIENT_ID")
    google_client_secret: SecretStr | None = Field(default=None, alias="GOOGLE_CLIENT_SECRET")
    google_metadata_url: str = Field(
        default="https://accounts.google.com/.well-known/openid-configuration",
        alias="GOOGLE_METADATA_URL",
    )

    plans: list[Plan] = Field(default=DEFAULT_PLANS, alias="ROOMCRAFT_PLANS")

    storage: StorageSettings = Field(default_factory=StorageSettings, alias="ROOMCRAFT_STORAGE")
    upload_max_bytes: int = Field(default=15 * 1024 * 1024, alias="ROOMCRAFT_UPLOAD_MAX_BYTES")
    # Decompression-bomb guard: images above this many pixels are refused before decoding.
    image_max_pixels: int = Field(default=50_000_000, alias="ROOMCRAFT_IMAGE_MAX_PIXELS")
    image_max_side: int = Field(default=2048, alias="ROOMCRAFT_IMAGE_MAX_SIDE")

    # Room types, styles and generation defaults; a YAML file replaces the built-in presets.
    presets_file: Path | None = Field(default=None, alias="ROOMCRAFT_PRESETS_FILE")
    provider: str = Field(default="local", alias="ROOMCRAFT_PROVIDER")
    openai_api_key: SecretStr | None = Field(default=None, alias="OPENAI_API_KEY")
    replicate_api_token: SecretStr | None = Field(default=None, alias="REPLICATE_API_TOKEN")
    replicate_api_base: str = Field(
        default="https://api.replicate.com/v1", alias="REPLICATE_API_BASE"
    )
    replicate_webhook_secret: SecretStr | None = Field(
        default=None, alias="REPLICATE_WEBHOOK_SECRET"
    )
    # Hosts provider outputs may be downloaded from (no SSRF); suffix match on the hostname.
    output_hosts: list[str] = Field(
        default=["replicate.delivery", "replicate.com"], alias="ROOMCRAFT_OUTPUT_HOSTS"
    )
    output_max_bytes: int = Field(default=30 * 1024 * 1024, alias="ROOMCRAFT_OUTPUT_MAX_BYTES")
    models: dict[str, str] = Field(
        default={
            "redesign": "google/nano-banana",
            "staging": "google/nano-banana",
            "compose": "google/nano-banana",
            "imagine": "openai/gpt-image-1",
        },
        alias="ROOMCRAFT_MODELS",
    )
    stuck_after_seconds: int = Field(default=600, alias="ROOMCRAFT_STUCK_AFTER_SECONDS")

    # Stripe: without a secret key billing is off and everyone is on the free plan.
    stripe_secret_key: SecretStr | None = Field(default=None, alias="STRIPE_SECRET_KEY")
    stripe_webhook_secret: SecretStr | None = Field(default=None, alias="STRIPE_WEBHOOK_SECRET")
    # Where the Stripe SDK sends its requests; tests point it at a loopback fake.
    stripe_api_base: str = Field(default="https://api.stripe.com", alias="STRIPE_API_BASE")

    @property
    def is_development(self) -> bool:
        return self.env is Environment.development

    @property
    def secure_cookies(self) -> bool:
        return self.env is Environment.production

    @property
    def receives_webhooks(self) -> bool:
        """Providers can call us back only at an address that was configured on purpose."""
        return "public_base_url" in self.model_fields_set

    @property
    def billing_enabled(self) -> bool:
        return self.stripe_secret_key is not None

    @property
    def google_enabled(self) -> bool:
        return bool(self.google_client_id and self.google_client_secret)

    @cached_property
    def signing_key(self) -> bytes:
        """The key of every HMAC the app makes; kept in the data directory when not configured."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value().encode()
        path = self.data_dir / "secret_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip().encode()

    def plan(self, key: str) -> Plan:
        return next(plan for plan in self.plans if plan.key == key)
