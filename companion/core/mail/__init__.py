"""The mail outbox: messages are queued in the database and delivered by the worker.

- `outbox`: the `OutboxMessage` table, queueing (`queue_mail`, `queue_mails`,
  `requeue_failed`) in the caller's transaction, and the doorbell that wakes the worker.
- `message`: a message's exact bytes (`prepare`, `message_bytes`, `build_email`).
- `transport`: where the bytes go (`SmtpTransport`, `FileTransport`, `make_transport`).
- `delivery`: the worker's loop body (`deliver_due`): claim, send, record each outcome.
- `reachability`: whether the mail server answers, shared by the workers (`server_status`).

Other packages import from here; the modules import each other directly.
"""

from companion.core.mail.delivery import (
    MAX_BACKOFF,
    STALE_CLAIM,
    backoff,
    claim_due_messages,
    deliver_due,
)
from companion.core.mail.message import (
    MailFields,
    Outgoing,
    build_email,
    message_bytes,
    message_id,
    prepare,
    sender_address,
)
from companion.core.mail.outbox import (
    MAIL_DOORBELL,
    OUTBOX,
    Attachment,
    Doorbell,
    NewMail,
    OutboxMessage,
    queue_mail,
    queue_mails,
    requeue_failed,
)
from companion.core.mail.reachability import (
    MailServerState,
    ServerStatus,
    note_reachable,
    note_unreachable,
    server_status,
)
from companion.core.mail.transport import (
    ConnectionLost,
    FileTransport,
    Hook,
    PermanentFailure,
    SmtpTransport,
    TemporaryFailure,
    Transport,
    make_transport,
)

__all__ = [
    "MAIL_DOORBELL",
    "MAX_BACKOFF",
    "OUTBOX",
    "STALE_CLAIM",
    "Attachment",
    "ConnectionLost",
    "Doorbell",
    "FileTransport",
    "Hook",
    "MailFields",
    "MailServerState",
    "NewMail",
    "OutboxMessage",
    "Outgoing",
    "PermanentFailure",
    "ServerStatus",
    "SmtpTransport",
    "TemporaryFailure",
    "Transport",
    "backoff",
    "build_email",
    "claim_due_messages",
    "deliver_due",
    "make_transport",
    "message_bytes",
    "message_id",
    "note_reachable",
    "note_unreachable",
    "prepare",
    "queue_mail",
    "queue_mails",
    "requeue_failed",
    "sender_address",
    "server_status",
]
