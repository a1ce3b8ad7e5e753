"""What Slack tells about a user (users.info): their language, their confirmed email, and the
name they show (an operator's, which the customer sees).

Looked up while a direct message is being acknowledged, so the look-up has a short budget
and its answer is kept in memory per user; a failed look-up only costs the language hint.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from dialog.texts import LANGUAGES

log = logging.getLogger(__name__)

LOOKUP_SECONDS = 1.0  # Slack wants an answer within 3 s; recording the message comes after
MAX_CACHED = 10_000
MAX_NAME = 100  # what the desk keeps of an operator's name


@dataclass(frozen=True)
class SlackProfile:
    language: str | None = None  # from the Slack locale ("pl-PL" -> "pl"), if we speak it
    # The profile's email when Slack says it is confirmed (scope users:read.email); kept for
    # recognising the customer, which the dialog does not do for Slack yet.
    email: str | None = None
    name: str | None = None  # the display name, else the full name, else the user name


UNKNOWN = SlackProfile()


class UserProfiles:
    def __init__(self, client: AsyncWebClient, budget: float = LOOKUP_SECONDS) -> None:
        self._client = client
        self._budget = budget
        self._known: dict[str, SlackProfile] = {}

    def cached(self, user: str) -> SlackProfile:
        return self._known.get(user, UNKNOWN)

    async def get(self, user: str) -> SlackProfile:
        known = self._known.get(user)
        if known is not None:
            return known
        try:
            response = await asyncio.wait_for(
                self._client.users_info(user=user, include_locale=True), self._budget
            )
        except SlackApiError as error:
            # missing_scope, user_not_found ...: asking again will not help
            log.warning("slack users.info refused: %s", _code(error))
            profile = UNKNOWN
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            log.info("slack users.info failed (%s); no language hint", type(error).__name__)
            return UNKNOWN
        else:
            profile = profile_of(response.get("user"))
        self._remember(user, profile)
        return profile

    def _remember(self, user: str, profile: SlackProfile) -> None:
        if len(self._known) >= MAX_CACHED:
            del self._known[next(iter(self._known))]
        self._known[user] = profile


def profile_of(user: Any) -> SlackProfile:
    if not isinstance(user, dict):
        return UNKNOWN
    locale = user.get("locale")
    language = locale.split("-", 1)[0].lower() if isinstance(locale, str) else None
    profile = given if isinstance(given := user.get("profile"), dict) else {}
    email = profile.get("email")
    confirmed = user.get("is_email_confirmed") is True
    return SlackProfile(
        language=language if language in LANGUAGES else None,
        email=email if isinstance(email, str) and email and confirmed else None,
        name=_shown_name(user, profile),
    )


def _shown_name(user: dict[str, Any], profile: dict[str, Any]) -> str | None:
    for name in (profile.get("display_name"), profile.get("real_name"), user.get("real_name"),
                 user.get("name")):
        if isinstance(name, str) and name.strip():
            return name.strip()[:MAX_NAME]
    return None


def _code(error: SlackApiError) -> str:
    data = getattr(error.response, "data", None)
    return str(data.get("error", "unknown")) if isinstance(data, dict) else "unknown"
