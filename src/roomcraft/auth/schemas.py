from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, EmailStr, Field, StringConstraints

from roomcraft.kit.envelope import CamelModel


def _normalize_email(email: str) -> str:
    return email.strip().lower()


NormalizedEmail = Annotated[EmailStr, AfterValidator(_normalize_email)]
Password = Annotated[str, Field(min_length=8, max_length=256)]


class SignUpRequest(CamelModel):
    email: NormalizedEmail
    password: Password


class SignInRequest(CamelModel):
    email: NormalizedEmail
    password: Annotated[str, Field(min_length=1, max_length=256)]


class MagicLinkRequest(CamelModel):
    email: NormalizedEmail


class UserRef(CamelModel):
    id: UUID
    email: str


class SessionRead(CamelModel):
    user: UserRef
    csrf_token: str


class MagicLinkSent(CamelModel):
    sent: bool = True


class SignedOut(CamelModel):
    sessions_ended: int


class TokenCreate(CamelModel):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class TokenRead(CamelModel):
    id: UUID
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None


class TokenCreated(TokenRead):
    token: str


class TokenList(CamelModel):
    tokens: list[TokenRead]


class TokenRevoked(CamelModel):
    revoked: bool = True
