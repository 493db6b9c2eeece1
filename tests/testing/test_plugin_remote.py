"""The plugin pointed at a served fake: --superoffice-url or MOCKSERVER_URL, one suite for both."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mockserver import ThreadedFakeServer

from .test_plugin import INI, PRELUDE

SUITE = (
    PRELUDE
    + """
from mockserver import RemoteFake


def test_saves_and_asserts(superoffice_fake):
    assert save(superoffice_fake.url).text == "1"
    superoffice_fake.assert_saved(type="PersonImage", description="me")
    with pytest.raises(AssertionError, match="Description: expected 'you', got 'me'"):
        superoffice_fake.assert_saved(description="you")
    print("KIND", type(superoffice_fake).__name__)


def test_is_fresh_per_test(superoffice_fake):
    assert not superoffice_fake.calls and superoffice_fake.next_id == 1


@pytest.mark.superoffice(faults=[{"kind": "status", "status": 503}])
def test_marker_faults_are_injected(superoffice_fake):
    assert save(superoffice_fake.url).status_code == 503


@pytest.mark.superoffice(first_id=33)
def test_settings_need_an_in_process_fake(superoffice_fake):
    assert save(superoffice_fake.url).text == "33"


async def test_async_fixture_waits(superoffice_fake_async):
    import asyncio  # the prelude is sync; the fake may serve in this very loop, so save from a thread

    assert (await asyncio.to_thread(save, superoffice_fake_async.url)).status_code == 200
    assert (await superoffice_fake_async.wait_for(type="PersonImage", timeout=5)).blob_id == 1
"""
)


@pytest.fixture
def outside() -> Iterator[ThreadedFakeServer]:
    with ThreadedFakeServer(port=0) as fake:
        fake.inject("status", status=500, times=5)  # left over from "another suite": the reset clears it
        yield fake


def test_the_same_suite_runs_in_process_and_against_a_served_fake(
    pytester: pytest.Pytester, outside: ThreadedFakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(SUITE)
    monkeypatch.delenv("MOCKSERVER_URL", raising=False)
    local = pytester.runpytest("-s", "-p", "no:randomly")
    local.assert_outcomes(passed=5)
    local.stdout.fnmatch_lines(["*KIND ThreadedFakeServer*"])

    remote = pytester.runpytest("-s", "-rs", "--superoffice-url", outside.url)
    remote.assert_outcomes(passed=4, skipped=1)
    remote.stdout.fnmatch_lines(["*KIND RemoteFake*", "*superoffice(first_id=) sets what only an in-process fake*"])
    assert len(outside.calls) == 1  # the last test's save: each test began with a reset

    monkeypatch.setenv("MOCKSERVER_URL", outside.url)
    by_variable = pytester.runpytest("-s")
    by_variable.assert_outcomes(passed=4, skipped=1)
    by_variable.stdout.fnmatch_lines(["*KIND RemoteFake*"])


def test_the_admin_token_comes_from_its_variable(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(SUITE)
    with ThreadedFakeServer(port=0, admin_token="t0ken") as fake:
        monkeypatch.setenv("MOCKSERVER_URL", fake.url)
        monkeypatch.delenv("MOCKSERVER_ADMIN_TOKEN", raising=False)
        pytester.runpytest().assert_outcomes(errors=4, skipped=1)
        monkeypatch.setenv("MOCKSERVER_ADMIN_TOKEN", "t0ken")
        pytester.runpytest().assert_outcomes(passed=4, skipped=1)
