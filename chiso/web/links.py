"""Personal links: what lets a reporting unit (or a province's data engineer) open its page
without an account.

A link carries a token: who it is for (a unit, or a province for its engineer), when it was
issued and until when it is valid, signed with HMAC-SHA256 under the instance's key
(``CHISO_WEB_SECRET``, else a random key kept in ``<data>/web/secret.key``). Nothing about
a link is stored when it is issued; revoking writes ``<data>/web/revoked.json``: a link by
its id, or every link of a unit issued before now (a lost phone, a clerk who left).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from warehouse.errors import BilingualError
from warehouse.settings import Settings

UNIT, PROVINCE = "unit", "province"  # whose page a link opens


class LinkRefused(BilingualError):
    """A link that is not one, has expired or was revoked: the page is not shown."""


@dataclass(frozen=True)
class Link:
    link_id: str
    role: str  # UNIT or PROVINCE
    subject: str  # the unit's code, or the province's
    province: str
    issued_at: datetime
    expires_at: datetime

    def payload(self) -> dict:
        return {
            "i": self.link_id,
            "r": self.role,
            "s": self.subject,
            "p": self.province,
            "t": round(self.issued_at.timestamp(), 6),
            "e": round(self.expires_at.timestamp(), 6),
        }

    @classmethod
    def from_payload(cls, data: dict) -> Link:
        return cls(
            data["i"],
            data["r"],
            data["s"],
            data["p"],
            datetime.fromtimestamp(data["t"], UTC),
            datetime.fromtimestamp(data["e"], UTC),
        )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Links:
    """Issue, check and revoke the links of one instance."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.folder = settings.web_dir
        self._key = (settings.web_secret or self._kept_key()).encode("utf-8")

    def _kept_key(self) -> str:
        path = self.folder / "secret.key"
        if not path.exists():
            self.folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(32))
        return path.read_text(encoding="ascii").strip()

    def _sign(self, body: str) -> str:
        return _b64(hmac.new(self._key, body.encode("ascii"), hashlib.sha256).digest())

    def issue(self, role: str, subject: str, province: str, now: datetime | None = None) -> str:
        """A new token for ``subject`` valid ``CHISO_WEB_LINK_DAYS`` days."""
        now = now or datetime.now(UTC)
        link = Link(
            secrets.token_hex(6),
            role,
            subject,
            province,
            now,
            now + timedelta(days=self.settings.web_link_days),
        )
        body = _b64(json.dumps(link.payload(), separators=(",", ":")).encode("utf-8"))
        return f"{body}.{self._sign(body)}"

    def url(self, role: str, token: str) -> str:
        """Where the link opens: a unit's page, or a province's."""
        return f"{self.settings.web_base_url}/{'u' if role == UNIT else 'p'}/{token}"

    def check(self, token: str, role: str, now: datetime | None = None) -> Link:
        """The link a token is, if it is signed here, for ``role``, unexpired and not
        revoked; else :class:`LinkRefused`, saying which."""
        body, _, signature = token.partition(".")
        if not signature or not hmac.compare_digest(self._sign(body), signature):
            raise LinkRefused(
                "Đường dẫn không hợp lệ. Hãy dùng đúng đường dẫn đơn vị được cấp, hoặc xin "
                "cán bộ phụ trách dữ liệu của tỉnh cấp đường dẫn mới.",
                "This link is not valid. Use the link your unit was given, or ask the "
                "province's data officer for a new one.",
            )
        link = Link.from_payload(json.loads(_unb64(body)))
        if link.role != role:
            raise LinkRefused(
                "Đường dẫn này không dành cho trang này.", "This link is not for this page."
            )
        now = now or datetime.now(UTC)
        if now >= link.expires_at:
            day = link.expires_at.strftime("%d/%m/%Y")
            raise LinkRefused(
                f"Đường dẫn đã hết hạn ngày {day}. Hãy xin cán bộ phụ trách dữ liệu của tỉnh "
                "cấp đường dẫn mới.",
                f"This link expired on {day}. Ask the province's data officer for a new one.",
            )
        if self._revoked(link):
            raise LinkRefused(
                "Đường dẫn này đã bị thu hồi. Hãy xin cán bộ phụ trách dữ liệu của tỉnh cấp "
                "đường dẫn mới.",
                "This link was revoked. Ask the province's data officer for a new one.",
            )
        return link

    # -- revocation -------------------------------------------------------------------------
    @property
    def _revocations_path(self) -> Path:
        return self.folder / "revoked.json"

    def _revocations(self) -> dict:
        path = self._revocations_path
        if not path.exists():
            return {"links": [], "subjects": {}}
        return json.loads(path.read_text(encoding="utf-8"))

    def _revoked(self, link: Link) -> bool:
        revocations = self._revocations()
        before = revocations["subjects"].get(f"{link.role}:{link.subject}")
        return link.link_id in revocations["links"] or (
            before is not None and link.issued_at.timestamp() <= before
        )

    def revoke(self, link_id: str | None = None, role: str = UNIT, subject: str | None = None):
        """Revoke one link by its id, or every link of ``subject`` issued until now."""
        revocations = self._revocations()
        if link_id:
            revocations["links"].append(link_id)
        if subject:
            revocations["subjects"][f"{role}:{subject}"] = datetime.now(UTC).timestamp()
        self.folder.mkdir(parents=True, exist_ok=True)
        temporary = self._revocations_path.with_suffix(".tmp")
        temporary.write_text(json.dumps(revocations, indent=1), encoding="utf-8")
        os.replace(temporary, self._revocations_path)


def link_id(token: str) -> str | None:
    """The id inside a token (unchecked), for revoking a link someone forwarded."""
    try:
        return json.loads(_unb64(token.partition(".")[0]))["i"]
    except (ValueError, KeyError):
        return None
