"""Presses of the Telegram channel's Acknowledge button, acknowledged through the same action as
the API's and the CLI's (`alerts.actions.acknowledge`), under the name the pressing Telegram user is
mapped to (WASTEWATCH_ALERTS_TELEGRAM_USERS); anyone else is told they may not.

The bot long-polls `getUpdates` (a plant network has no public address for Telegram to call) and
confirms what it handled by asking for the next offset; an update seen twice (after a restart) finds
the alert acknowledged and says by whom. Every update, however malformed, is answered or skipped:
none stops the poller. One process per bot may poll (Telegram refuses a second `getUpdates`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from alerts import actions
from alerts.notifiers import NotifierError
from alerts.notifiers.telegram import ACK_PREFIX, TelegramApi
from alerts.store import AlertNotFound, AlertStateError, AlertStore
from wastewatch.relational import Database, DatabaseError

logger = logging.getLogger(__name__)

ANSWERS = {
    "id": {
        "acknowledged": "Diakui sebagai {name}: peringatan #{alert_id}",
        "already": "Peringatan #{alert_id} sudah diakui oleh {by}",
        "unknown_alert": "Tidak ada peringatan #{alert_id}",
        "not_allowed": "Anda tidak berwenang mengakui peringatan (pengguna Telegram {user_id} tidak dipetakan ke pengguna wastewatch)",
        "bad_button": "Tombol ini bukan dari wastewatch",
    },
    "en": {
        "acknowledged": "Acknowledged as {name}: alert #{alert_id}",
        "already": "Alert #{alert_id} was acknowledged by {by} already",
        "unknown_alert": "No alert #{alert_id}",
        "not_allowed": "You may not acknowledge alerts (Telegram user {user_id} is not mapped to a wastewatch user)",
        "bad_button": "This button is not one of wastewatch's",
    },
}


class TelegramAcks:
    """The poller: `start` runs it in a thread, `run_once` handles one batch of updates."""

    def __init__(
        self, api: TelegramApi, users: Mapping[int, str], db: Database, *, wall: Callable[[], float] = time.time,
        poll_timeout_s: int = 20, retry_s: float = 5.0, language: str = "id",
    ) -> None:
        self.api, self.users, self.db = api, dict(users), db
        self._answers = ANSWERS.get(language, ANSWERS["en"])
        self._wall, self._poll_timeout_s, self._retry_s = wall, poll_timeout_s, retry_s
        self._offset: int | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.counts = {"updates": 0, "acknowledged": 0, "refused": 0, "skipped": 0}

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="alerts-telegram-acks", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 2.0) -> None:
        """Stops after the poll in flight (a daemon thread: the process does not wait for it)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception as exc:
                if self._stop.is_set():  # stopping: the client was closed under the poll in flight
                    return
                if isinstance(exc, (NotifierError, DatabaseError)):
                    logger.warning("telegram poll failed, retrying in_s=%s error=%s", self._retry_s, exc)
                else:
                    logger.exception("telegram poll failed unexpectedly, retrying in_s=%s", self._retry_s)
                self._stop.wait(self._retry_s)

    def run_once(self, timeout_s: int | None = None) -> int:
        """Fetch the next updates (waiting up to `timeout_s` for one) and handle each; how many came."""
        wait_s = self._poll_timeout_s if timeout_s is None else timeout_s
        body: dict[str, Any] = {"timeout": wait_s, "allowed_updates": ["callback_query"]}
        if self._offset is not None:
            body["offset"] = self._offset
        updates = self.api.call("getUpdates", body, timeout_s=wait_s + 10)
        if not isinstance(updates, list):
            raise NotifierError(f"Telegram getUpdates returned {type(updates).__name__}, not a list")
        for update in updates:
            self.counts["updates"] += 1
            try:
                self._handle(update)
            except DatabaseError:
                raise  # not confirmed: the same press is handled again once the database is back
            except Exception:  # a bug on one update must not make the poller fetch it for ever
                self.counts["skipped"] += 1
                logger.exception("telegram update could not be handled, skipped")
            update_id = update.get("update_id") if isinstance(update, dict) else None
            if isinstance(update_id, int) and not isinstance(update_id, bool):
                self._offset = max(self._offset or 0, update_id + 1)
        return len(updates)

    def _handle(self, update: Any) -> None:
        query = update.get("callback_query") if isinstance(update, dict) else None
        if not isinstance(query, dict) or not isinstance(query.get("id"), str):
            self.counts["skipped"] += 1
            return
        answer = self._decide(query)
        try:
            self.api.call("answerCallbackQuery", {"callback_query_id": query["id"], "text": answer[:200],
                                                  "show_alert": True})
        except NotifierError as exc:  # the action is done; only the toast is lost
            logger.warning("telegram answer failed error=%s", exc)

    def _decide(self, query: dict[str, Any]) -> str:
        sender = query.get("from")
        user_id = sender.get("id") if isinstance(sender, dict) else None
        data = query.get("data")
        if not isinstance(data, str) or not data.startswith(ACK_PREFIX) or not data[len(ACK_PREFIX):].isdigit():
            self.counts["skipped"] += 1
            return self._answers["bad_button"]
        alert_id = int(data[len(ACK_PREFIX):])
        name = self.users.get(user_id) if isinstance(user_id, int) and not isinstance(user_id, bool) else None
        if name is None:
            self.counts["refused"] += 1
            logger.warning("telegram acknowledge refused, user not mapped telegram_user=%s alert_id=%s", user_id, alert_id)
            return self._answers["not_allowed"].format(user_id=user_id)
        try:
            actions.acknowledge(self.db, alert_id, name, round(self._wall() * 1000), "via Telegram")
        except AlertNotFound:
            return self._answers["unknown_alert"].format(alert_id=alert_id)
        except AlertStateError:  # acknowledged already: say by whom
            alert = AlertStore(self.db).get(alert_id)
            by = alert.ack_by if alert is not None and alert.ack_by else "?"
            return self._answers["already"].format(alert_id=alert_id, by=by)
        self.counts["acknowledged"] += 1
        logger.info("alert acknowledged through telegram alert_id=%s by=%s", alert_id, name)
        self._remove_button(query)
        return self._answers["acknowledged"].format(name=name, alert_id=alert_id)

    def _remove_button(self, query: dict[str, Any]) -> None:
        msg = query.get("message")
        chat = msg.get("chat") if isinstance(msg, dict) else None
        if not isinstance(chat, dict) or not isinstance(msg, dict) or "message_id" not in msg or "id" not in chat:
            return
        try:
            self.api.call("editMessageReplyMarkup", {"chat_id": chat["id"], "message_id": msg["message_id"],
                                                     "reply_markup": {"inline_keyboard": []}})
        except NotifierError as exc:
            logger.warning("telegram button not removed error=%s", exc)
