"""The pytest plugin as a user meets it: test files run through pytester, no conftest needed."""

from __future__ import annotations

import pytest

INI = """
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
"""

# What every user file below starts with: a save helper for sync code.
PRELUDE = """
import base64, json
import pytest, requests

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
SAVE = "/api/v1/Agents/BLOB/SaveImageStream"
BODY = json.dumps({"Type": "PersonImage", "Image": base64.b64encode(PNG).decode(), "Description": "me"})


def save(url, **headers):
    headers = {"Content-Type": "application/json", "Authorization": "Basic dGplMDpUamUw", **headers}
    return requests.post(url + SAVE, data=BODY, headers=headers, timeout=10)
"""


@pytest.fixture
def user_tests(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(INI)
    return pytester


def test_sync_fixture_serves_from_a_thread_and_is_fresh_per_test(user_tests: pytest.Pytester) -> None:
    user_tests.makepyfile(
        PRELUDE
        + """
@pytest.mark.parametrize("attempt", [1, 2])
def test_save(superoffice_fake, attempt):
    assert superoffice_fake.url.startswith("http://127.0.0.1:")
    response = save(superoffice_fake.url)
    assert response.status_code == 200
    assert response.json() == 1  # ids start again in every test
    assert len(superoffice_fake.calls) == 1  # so does the journal
    superoffice_fake.assert_saved(type="PersonImage", description="me", image=PNG)
"""
    )
    user_tests.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_both_fixtures_work_in_async_tests(user_tests: pytest.Pytester) -> None:
    user_tests.makepyfile(
        PRELUDE
        + """
import aiohttp

AUTH = {"Authorization": "Basic dGplMDpUamUw", "Content-Type": "application/json"}

async def test_async_fixture_runs_in_the_test_loop(superoffice_fake_async):
    async with aiohttp.ClientSession() as http:
        async with http.post(superoffice_fake_async.url + SAVE, data=BODY, headers=AUTH) as resp:
            assert await resp.json() == 1
    assert superoffice_fake_async.calls.last.blob_id == 1

async def test_threaded_fixture_from_an_async_test(superoffice_fake):
    async with aiohttp.ClientSession() as http:
        async with http.post(superoffice_fake.url + SAVE, data=BODY, headers=AUTH) as resp:
            assert await resp.json() == 1
    calls = await superoffice_fake.wait_for_calls(1, timeout=5)
    assert calls.last.type == "PersonImage"
"""
    )
    user_tests.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)


def test_the_marker_configures_the_fake(user_tests: pytest.Pytester) -> None:
    user_tests.makepyfile(
        PRELUDE
        + """
pytestmark = pytest.mark.superoffice(first_id=500)
ONLINE = dict(
    first_id=33,
    installation="online",
    strict=True,
    credentials={"tickets": {"7T:dGplMA==": "tje0"}, "app_tokens": {"app-secret": "My app"}},
)

def test_module_marker_applies(superoffice_fake):
    assert save(superoffice_fake.url).json() == 500

@pytest.mark.superoffice(**ONLINE)
def test_function_marker_wins(superoffice_fake):
    ok = save(superoffice_fake.url, Authorization="SOTicket 7T:dGplMA==", **{"SO-AppToken": "app-secret"})
    assert ok.status_code == 200 and ok.json() == 33
    assert save(superoffice_fake.url).status_code == 401  # Basic is not for Online
    assert superoffice_fake.settings.strict is True

@pytest.mark.superoffice(first_id=7)
async def test_async_fixture_reads_the_marker_too(superoffice_fake_async):
    assert superoffice_fake_async.next_id == 7
"""
    )
    user_tests.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=3)


def test_a_failing_assertion_shows_the_near_misses_in_the_report(user_tests: pytest.Pytester) -> None:
    user_tests.makepyfile(
        PRELUDE
        + """
def test_wrong_description(superoffice_fake):
    save(superoffice_fake.url)
    superoffice_fake.assert_saved(description="you")
"""
    )
    result = user_tests.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*Expected an accepted save with:*",
            "*Description = 'you'*",
            "*#1 POST /api/v1/Agents/BLOB/SaveImageStream -> 200 blob id 1*",
            "*Description: expected 'you', got 'me'*",
        ]
    )


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        (
            "superoffice(frist_id=3)",
            "*unknown keyword(s) frist_id; known: access_token_life_s, admin_token, allowed_hosts, applications, *",
        ),
        ("superoffice(33)", "*keyword arguments only*"),
        ("superoffice(first_id=0)", "*@pytest.mark.superoffice: first_id must be between 1 and 2147483647*"),
    ],
)
def test_a_bad_marker_is_a_clear_error(user_tests: pytest.Pytester, marker: str, message: str) -> None:
    user_tests.makepyfile(
        f"""
from pathlib import Path

import pytest

@pytest.mark.{marker}
def test_it(superoffice_fake):
    pass
"""
    )
    result = user_tests.runpytest("-p", "no:cacheprovider")
    assert result.ret != 0
    result.stdout.fnmatch_lines([message])
    # One line saying what is wrong: no frames of the plugin's (or pytest-asyncio's) source before it.
    assert "def _settings" not in result.stdout.str() and "plugin.py" not in result.stdout.str()


def test_the_marker_is_registered_for_strict_markers(user_tests: pytest.Pytester) -> None:
    result = user_tests.runpytest("--markers")
    result.stdout.fnmatch_lines(["@pytest.mark.superoffice(**settings)*"])


def test_the_markers_known_keywords_are_the_documented_ones() -> None:
    from mockserver.testing.plugin import MARKER_KEYWORDS

    assert "faults" in MARKER_KEYWORDS
    assert not {"extra", "log_calls", "log_format", "loop"} & set(MARKER_KEYWORDS)
    assert list(MARKER_KEYWORDS) == sorted(MARKER_KEYWORDS)


ASYNC_USER_TEST = """
import pytest

@pytest.mark.superoffice(first_id=5)
async def test_it(superoffice_fake_async):
    assert superoffice_fake_async.next_id == 5
"""


@pytest.mark.parametrize("mode", ["auto", "strict"])
def test_the_async_fixture_works_without_warnings_in_either_mode(pytester: pytest.Pytester, mode: str) -> None:
    # The loop scope is set as pytest-asyncio itself asks every project to (it warns otherwise).
    pytester.makeini(f"[pytest]\nasyncio_mode = {mode}\nasyncio_default_fixture_loop_scope = function\n")
    body = (
        ASYNC_USER_TEST if mode == "auto" else ASYNC_USER_TEST.replace("async def", "@pytest.mark.asyncio\nasync def")
    )
    pytester.makepyfile(body)
    result = pytester.runpytest("-p", "no:cacheprovider", "-W", "error")
    result.assert_outcomes(passed=1)
    assert "warnings" not in result.parseoutcomes()


def test_without_pytest_asyncio_the_async_fixture_says_what_to_install(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A module of that name that fails to import, ahead of the installed one: as if it were missing
    # (pytester puts its folder first on the child's sys.path).
    pytester.makepyfile(pytest_asyncio="raise ImportError('not installed')")
    pytester.makepyfile(
        """
def test_it(superoffice_fake_async):
    pass
"""
    )
    # Only this plugin, loaded by the conftest: no other installed plugin may bring pytest-asyncio in.
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    pytester.makeconftest('pytest_plugins = ["mockserver.testing.plugin"]')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    assert "superoffice_fake_async needs pytest-asyncio: pip install 'mockserver[pytest]'" in result.stdout.lines
    assert "fixture 'superoffice_fake_async' not found" not in result.stdout.str()


def test_a_failing_assertion_shows_the_test_not_the_library_source(user_tests: pytest.Pytester) -> None:
    user_tests.makepyfile(
        PRELUDE
        + """
def test_wrong_type(superoffice_fake):
    save(superoffice_fake.url)
    superoffice_fake.assert_saved(type="ProjectImage")

def test_none_rejected(superoffice_fake):
    requests.post(superoffice_fake.url + SAVE, data="{}", headers={"Content-Type": "application/json"}, timeout=10)
    superoffice_fake.assert_no_violations()
"""
    )
    result = user_tests.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=2)
    out = result.stdout.str()
    assert 'superoffice_fake.assert_saved(type="ProjectImage")' in out  # the test's own line
    assert "def assert_saved" not in out and "def assert_no_violations" not in out
    assert "assertions.py" not in out


def test_the_near_miss_shows_the_refused_value_that_was_sent(user_tests: pytest.Pytester) -> None:
    user_tests.makepyfile(
        PRELUDE
        + """
def test_selfie(superoffice_fake):
    save(superoffice_fake.url)
    body = json.dumps({"Type": "Selfie", "Image": base64.b64encode(PNG).decode(), "Description": "me"})
    requests.post(
        superoffice_fake.url + SAVE, data=body, auth=("tje0", "Tje0"),
        headers={"Content-Type": "application/json"}, timeout=10,
    )
    superoffice_fake.assert_saved(type="PersonImage", count=2)
"""
    )
    result = user_tests.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*#2 POST /api/v1/Agents/BLOB/SaveImageStream -> 400 rejected*"])
    result.stdout.fnmatch_lines(["*Type: expected 'PersonImage', got 'Selfie'*"])
    assert "got none" not in result.stdout.str()


@pytest.mark.parametrize("fixture", ["superoffice_fake", "superoffice_fake_async"])
def test_an_unmarked_async_test_in_strict_mode_is_told_what_is_missing(pytester: pytest.Pytester, fixture: str) -> None:
    pytester.makeini("[pytest]\nasyncio_mode = strict\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(f"async def test_it({fixture}):\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ['*test_it is an async def test*add @pytest.mark.asyncio to it, or set asyncio_mode = "auto"*']
    )
    assert "not natively supported" not in result.stdout.str()


def test_an_unmarked_async_test_without_our_fixtures_is_left_to_pytest(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_mode = strict\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile("async def test_it():\n    pass\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    assert "is an async def test" not in result.stdout.str()
