"""The inbox's cheap poll, over HTTP on the API served over the real stores: the inbox page carries the
change token of the user's alerts; `/console/alerts/rows?since=<token>` is an empty 204 while nothing
changed, and the rows (with the new token) once an alert is raised or acknowledged; a token of
another plant's activity is not a scoped user's; a wrong token gets the rows; no session, a 401.
"""

from __future__ import annotations

import re
from contextlib import closing

import httpx

from alerts import actions
from tests.api_support import NOW_MS, Api
from tests.test_console_overview import api, raise_alert, session

HEADER = "X-Inbox-Version"


def rows(client: httpx.Client, since: str | None) -> httpx.Response:
    params = {"lang": "en"} | ({"since": since} if since is not None else {})
    return client.get("/console/alerts/rows", params=params)


def test_a_poll_with_the_current_token_is_an_empty_204_until_an_alert_of_the_users_plants_changes(api: Api) -> None:
    with closing(session(api, "budi")) as budi, closing(session(api, "lain")) as outsider:
        match = re.search(r'data-version="([^"]*)"', budi.get("/console/alerts", params={"lang": "en"}).text)
        assert match is not None
        first = match.group(1)
        before = rows(budi, first)
        outsider_first = rows(outsider, None).headers[HEADER]
        alert_id = raise_alert(api, NOW_MS)
        raised = rows(budi, first)
        second = raised.headers[HEADER]
        unchanged = rows(budi, second)
        outsider_after = rows(outsider, outsider_first)  # scoped to another plant: nothing of theirs changed
        actions.acknowledge(api.ctx.alert_db, alert_id, "sari", NOW_MS + 60_000, "seen")
        acknowledged = rows(budi, second)
        wrong = rows(budi, "not-a-token")
        full = rows(budi, None)
    logged_out = httpx.get(str(api.client.base_url).rstrip("/") + "/console/alerts/rows", params={"since": second})
    assert before.status_code == 204 and before.content == b"" and before.headers[HEADER] == first
    assert raised.status_code == 200 and f"#{alert_id}" in raised.text and second != first
    assert unchanged.status_code == 204 and unchanged.content == b""
    assert outsider_after.status_code == 204
    assert acknowledged.status_code == 200 and "sari" in acknowledged.text and acknowledged.headers[HEADER] != second
    assert wrong.status_code == 200 and f"#{alert_id}" in wrong.text
    assert full.status_code == 200 and full.text == acknowledged.text
    assert logged_out.status_code == 401
