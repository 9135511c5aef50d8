"""The board's live channel ("board:<board id>"): who may watch it and the snapshot they get.

Importing this module registers the channel; `companion.board.views` imports it, so it is
registered whenever the app (and with it the live server) is built.
"""

from __future__ import annotations

from typing import Any

from companion.accounts.identity import Actor
from companion.board.access import CHANNEL_PREFIX, board_for_actor
from companion.board.models import Board
from companion.board.snapshot import snapshot
from companion.core.db import Db
from companion.core.errors import NotAllowed, NotFound
from companion.core.events import channel_ids, register_channel


def _board_id_of_channel(channel: str) -> int | None:
    ids = channel_ids(channel, CHANNEL_PREFIX)
    return ids[0] if ids is not None and len(ids) == 1 else None


def _authorize(db: Db, actor: Actor, channel: str) -> bool:
    """Only the session's facilitators and its group's members may watch a board."""
    board_id = _board_id_of_channel(channel)
    if board_id is None:
        return False
    try:
        board_for_actor(db, actor, board_id)
    except (NotFound, NotAllowed):
        return False
    return True


def _snapshot(db: Db, actor: Actor, channel: str) -> dict[str, Any]:
    board_id = _board_id_of_channel(channel)
    board = db.get(Board, board_id) if board_id is not None else None
    if board is None:
        raise NotFound()
    return snapshot(db, board, actor).model_dump(mode="json")


register_channel(CHANNEL_PREFIX, authorize=_authorize, snapshot=_snapshot)
