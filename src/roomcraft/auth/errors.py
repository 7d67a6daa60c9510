from roomcraft.kit.errors import Conflict, Forbidden, Unauthorized


class InvalidCredentials(Unauthorized):
    """Email or password is incorrect."""


class EmailUnavailable(Conflict):
    """This email cannot be used to create an account. If it is yours, sign in instead."""


class InvalidMagicLink(Unauthorized):
    """This sign-in link is invalid or has expired. Please request a new one."""


class CsrfFailed(Forbidden):
    """The form has expired or the request is missing its CSRF token. Reload the page and retry."""


class EmailNotVerified(Unauthorized):
    """Your Google account's email is not verified."""
