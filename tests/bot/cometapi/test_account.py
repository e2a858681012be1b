"""The key check behind `check --online`: valid, refused, no credit, wrong URL, unreachable."""

from __future__ import annotations

import socket

import aiohttp

from bot.cometapi.account import check_key, quota_url
from tests.fakes.cometapi import FakeCometAPI, envelope


async def test_a_valid_key_with_credit_is_ok_and_shows_the_balance(
    fake: FakeCometAPI, session: aiohttp.ClientSession
) -> None:
    """The model list accepts the key and the query service reports a positive balance."""
    report = await check_key(session, base_url=fake.base_url, api_key=fake.api_key)
    assert report.key == "ok" and report.credit == "ok"
    assert report.balance == 25.0 and report.models == len(fake.models)
    models = fake.requests_for("models")[0]
    assert models.headers["Authorization"] == f"Bearer {fake.api_key}"
    assert fake.requests_for("create") == []  # nothing was generated, nothing billed


async def test_a_wrong_key_is_refused(fake: FakeCometAPI, session: aiohttp.ClientSession) -> None:
    """A 401 from the model list is a refused key, and the credit is not asked for."""
    report = await check_key(session, base_url=fake.base_url, api_key="sk-wrong-key-123456")
    assert report.key == "refused" and "401" in (report.detail or "")
    assert fake.requests_for("quota") == []


async def test_no_credit_is_told_apart_from_a_refused_key(
    fake: FakeCometAPI, session: aiohttp.ClientSession
) -> None:
    """A valid key on an account with a zero balance: key ok, credit none."""
    fake.no_credit()
    report = await check_key(session, base_url=fake.base_url, api_key=fake.api_key)
    assert report.key == "ok" and report.credit == "none" and report.balance == 0.0


async def test_a_402_from_the_model_list_means_no_credit(
    fake: FakeCometAPI, session: aiohttp.ClientSession
) -> None:
    """Should the model list itself answer 402, that is no credit, not a bad key."""
    fake.fail_next(1, 402, route="models")
    report = await check_key(session, base_url=fake.base_url, api_key=fake.api_key)
    assert report.key == "no_credit" and report.credit == "none"


async def test_a_key_whose_own_quota_is_spent_is_no_credit(
    fake: FakeCometAPI, session: aiohttp.ClientSession
) -> None:
    """A 401 whose message says the key's quota is exhausted is a credit problem."""
    fake.fail_next(1, 401, envelope("token quota is exhausted"), route="models")
    report = await check_key(session, base_url=fake.base_url, api_key=fake.api_key)
    assert report.key == "no_credit"


async def test_an_unreadable_balance_leaves_the_credit_unknown(
    fake: FakeCometAPI, session: aiohttp.ClientSession
) -> None:
    """The query service failing (or answering another shape) never fails a valid key."""
    fake.fail_next(1, 404, "Not Found", route="quota")
    report = await check_key(session, base_url=fake.base_url, api_key=fake.api_key)
    assert report.key == "ok" and report.credit == "unknown" and report.balance is None
    fake.fail_next(1, 200, {"total_quota": "lots"}, route="quota")
    report = await check_key(session, base_url=fake.base_url, api_key=fake.api_key)
    assert report.credit == "unknown"


async def test_a_wrapped_balance_is_read(
    fake: FakeCometAPI, session: aiohttp.ClientSession
) -> None:
    """A `{"data": {...}}` wrapper around the balance is tolerated."""
    fake.fail_next(1, 200, {"success": True, "data": {"total_quota": 3.5}}, route="quota")
    report = await check_key(session, base_url=fake.base_url, api_key=fake.api_key)
    assert report.credit == "ok" and report.balance == 3.5


async def test_an_html_page_means_a_wrong_base_url(
    fake: FakeCometAPI, session: aiohttp.ClientSession
) -> None:
    """A base URL with a path in front of the API answers HTML 404s: the URL is wrong."""
    report = await check_key(session, base_url=f"{fake.base_url}/wrong", api_key=fake.api_key)
    assert report.key == "wrong_url"


async def test_nobody_listening_is_unreachable_and_the_key_is_not_shown(
    session: aiohttp.ClientSession,
) -> None:
    """A refused connection is `unreachable`; the detail never contains the key."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    key = "sk-secret-never-shown-9876"
    report = await check_key(session, base_url=f"http://127.0.0.1:{port}", api_key=key, timeout=5)
    assert report.key == "unreachable" and key not in (report.detail or "")


def test_the_query_service_is_cometapis_own_host_for_the_default_root() -> None:
    """api.cometapi.com's balance lives at query.cometapi.com; another root serves its own."""
    assert quota_url("https://api.cometapi.com") == "https://query.cometapi.com/user/quota"
    assert quota_url("http://127.0.0.1:8080/") == "http://127.0.0.1:8080/user/quota"
