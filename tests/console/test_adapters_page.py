"""The adapters page shows each adapter's evaluation beside its training figures."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from api.console.route import PREFIX, templates
from memos.kernel import MemOS
from memos.parametric.memory import AdapterInfo, ShardPlace
from memos.settings import Settings


@pytest.fixture
def cube(engine, embedder, tmp_path):
    mos = MemOS(settings=Settings(home=tmp_path), engine=engine, embedder=embedder)
    yield mos.create_cube("tutor", owner="alice")
    mos.close()


def adapter(name: str, **fields) -> AdapterInfo:
    return AdapterInfo(id=name, cube_id="c", fingerprint="f", items={"a": 1, "b": 1}, steps=40,
                       final_loss=0.25, size=2 * 1048576, stale=False,
                       created_at=datetime(2026, 1, 2, tzinfo=UTC), **fields)


def test_evidence_shard_stale_and_damaged_are_shown(cube):
    adapters = [adapter("ad-right", evidence=3, shard=ShardPlace("grp1", 1, 4)),
                adapter("ad-none", evidence=0), adapter("ad-unmeasured"),
                adapter("ad-broken", damaged="<b>checksum</b> mismatch", evidence=2)]
    adapters[2].stale = True
    html = templates.env.get_template("adapters.html").render(
        viewer=None, csrf="", notice=None, prefix=PREFIX, cube=cube, adapters=adapters,
        jobs=[], jobs_total=0, live=False)
    rows = html.split('<tr class="adapter">')[1:]
    assert "3 right" in rows[0] and "2 of 4" in rows[0] and "grp1" in rows[0]
    assert "0.2500" in rows[0] and "current" in rows[0]
    assert "0 right" in rows[1] and "not attached by default" in rows[1]
    assert "not measured" in rows[2] and "stale" in rows[2]
    assert "damaged" in rows[3] and "&lt;b&gt;checksum&lt;/b&gt; mismatch" in rows[3]
