"""The providers this process can use, built once from configuration."""

import httpx

from roomcraft.config import Settings
from roomcraft.generations.presets import Presets
from roomcraft.generations.providers.base import Provider
from roomcraft.generations.providers.local import LocalProvider
from roomcraft.kit.errors import ProviderUnavailable


class Providers:
    def __init__(self, providers: dict[str, Provider], *, default: str) -> None:
        self._providers = providers
        self.default = default

    def get(self, name: str) -> Provider:
        try:
            return self._providers[name]
        except KeyError:
            raise ProviderUnavailable(f"The provider {name!r} is not configured.") from None


def build_providers(settings: Settings, http: httpx.AsyncClient, presets: Presets) -> Providers:
    """The local engine always; Replicate when `REPLICATE_API_TOKEN` is set."""
    providers: dict[str, Provider] = {"local": LocalProvider(presets)}
    if settings.replicate_api_token is not None:
        from roomcraft.generations.providers.replicate import ReplicateProvider

        providers["replicate"] = ReplicateProvider(
            api_base=settings.replicate_api_base,
            api_token=settings.replicate_api_token.get_secret_value(),
            webhook_secret=(
                settings.replicate_webhook_secret.get_secret_value()
                if settings.replicate_webhook_secret
                else None
            ),
            openai_api_key=(
                settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
            ),
            http=http,
        )
    return Providers(providers, default=settings.provider)
