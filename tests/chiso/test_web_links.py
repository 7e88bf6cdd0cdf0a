"""Units' links (chiso/web/links.py): signed, expiring, revocable; each refusal says why in
Vietnamese and English."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from chiso.web.links import PROVINCE, UNIT, LinkRefused, Links, link_id


def test_a_link_opens_its_own_page_only(settings):
    links = Links(settings)
    token = links.issue(UNIT, "20.SNV", "20")
    link = links.check(token, UNIT)
    assert (link.role, link.subject, link.province) == (UNIT, "20.SNV", "20")
    assert (link.expires_at - link.issued_at).days == settings.web_link_days
    with pytest.raises(LinkRefused, match="not for this page"):
        links.check(token, PROVINCE)


@pytest.mark.parametrize(
    "change",
    [
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # signature
        lambda token: "eyJpIjoieCJ9" + token[token.index(".") :],  # another body, same signature
        lambda token: token.split(".")[0],  # no signature
        lambda token: "",
    ],
)
def test_a_changed_link_is_refused(settings, change):
    token = Links(settings).issue(UNIT, "20.SNV", "20")
    with pytest.raises(LinkRefused) as refused:
        Links(settings).check(change(token), UNIT)
    assert "không hợp lệ" in refused.value.vi and "not valid" in refused.value.en


def test_a_link_signed_under_another_key_is_refused(settings):
    token = Links(replace(settings, web_secret="another key")).issue(UNIT, "20.SNV", "20")
    with pytest.raises(LinkRefused, match="not valid"):
        Links(settings).check(token, UNIT)


def test_an_expired_link_says_when_it_expired(settings):
    links = Links(settings)
    issued = datetime(2026, 1, 1, tzinfo=UTC)
    token = links.issue(UNIT, "20.SNV", "20", now=issued)
    expiry = issued + timedelta(days=settings.web_link_days)
    assert links.check(token, UNIT, now=expiry - timedelta(seconds=1))
    with pytest.raises(LinkRefused) as refused:
        links.check(token, UNIT, now=expiry)
    assert f"{expiry:%d/%m/%Y}" in refused.value.vi and "expired on" in refused.value.en


def test_a_revoked_link_is_refused_and_a_new_one_works(settings):
    links = Links(settings)
    one, other = links.issue(UNIT, "20.SNV", "20"), links.issue(UNIT, "20.SNV", "20")
    links.revoke(link_id=link_id(one))
    with pytest.raises(LinkRefused, match="revoked"):
        links.check(one, UNIT)
    assert links.check(other, UNIT)  # only that link
    links.revoke(subject="20.SNV")  # every link of the unit issued until now
    with pytest.raises(LinkRefused, match="revoked"):
        Links(settings).check(other, UNIT)
    assert Links(settings).check(links.issue(UNIT, "20.SNV", "20"), UNIT)
    assert Links(settings).check(links.issue(UNIT, "20.STP", "20"), UNIT)


def test_the_key_is_made_once_and_kept_private(settings):
    token = Links(settings).issue(UNIT, "20.SNV", "20")
    key = settings.web_dir / "secret.key"
    assert key.stat().st_mode & 0o777 == 0o600
    assert Links(settings).check(token, UNIT)  # the same key, read back
