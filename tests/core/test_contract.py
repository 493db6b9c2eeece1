"""Contracts are data: loading, checking (file + key on every problem) and path matching."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockserver.core.loader import load_contract, load_contracts
from mockserver.core.vocabulary.contract import ContractSet
from mockserver.core.vocabulary.errors import ContractError

from ..support import SAVE_CONTRACT

GOOD = SAVE_CONTRACT.read_text(encoding="utf-8")


def test_the_save_contract_describes_the_call() -> None:
    c = load_contract(SAVE_CONTRACT)
    assert (c.method, c.path, c.result, c.behaviour) == (
        "POST",
        "/api/v1/Agents/BLOB/SaveImageStream",
        "int32",
        "save_image",
    )
    assert len(c.request_media_types) == 7
    assert [p.name for p in c.properties] == ["Type", "Image", "Description"]
    enum = c.property("TYPE").enum  # type: ignore[union-attr]
    assert enum is not None and len(enum.members) == 19
    assert enum.members["PersonImage"] == 1 and enum.members["ExtraTableIcon"] == 19
    assert c.property("image").required  # type: ignore[union-attr]


def broken(tmp_path: Path, old: str, new: str) -> ContractError:
    assert old in GOOD, old
    path = tmp_path / "Broken.toml"
    path.write_text(GOOD.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ContractError) as info:
        load_contract(path)
    assert str(info.value).startswith(f"{path}: ")
    return info.value


@pytest.mark.parametrize(
    ("old", "new", "key", "detail"),
    [
        ('method = "POST"', 'method = "FETCH"', "operation.method", "must be POST, PUT, PATCH or DELETE (got 'FETCH')"),
        ('behaviour = "save_image"', 'behaviour = "teleport"', "operation.behaviour", "(got 'teleport')"),
        ('path = "/api/v1/', 'path = "/v1/', "operation.path", "must start with /api/v1/"),
        (
            "slow_threshold_ms = 3000",
            'slow_threshold_ms = "3s"',
            "operation.slow_threshold_ms",
            "must be int (got str '3s')",
        ),
        (
            '  "text/json",\n  "application/xml",',
            '  "text/jsn",\n  "application/xml",',
            "request.media_types[1]",
            "(got 'text/jsn')",
        ),
        ("status = 200", "status = 404", "response.status", "must be a 2xx status (got 404)"),
        ('result = "int32"', 'result = "int64"', "response.result", "(got 'int64')"),
        ('type = "bytes"', 'type = "blob"', "body.Image.type", "(got 'blob')"),
        ("required = true\nwarn", 'required = "yes"\nwarn', "body.Image.required", "must be bool (got str 'yes')"),
        (
            'enum = "BlobLinkType"',
            'enum = "LinkKind"',
            "body.Type.enum",
            "names an enum not defined under [enums] (got 'LinkKind')",
        ),
        ("PersonImage = 1", 'PersonImage = "one"', "enums.BlobLinkType.PersonImage", "must be int (got str 'one')"),
        ("ProjectImage = 2", "ProjectImage = 1", "enums.BlobLinkType.ProjectImage", "repeats the number 1"),
        ("sniff_image = true", "sniff_image = true\ncolour = 3", "body.Image.colour", "is not a known key"),
        ('agent = "BLOB"', 'agent = "BLOB"\nflavour = "x"', "operation.flavour", "is not a known key"),
        ("status = 400", 'status = "bad"', "examples[1].status", "must be int (got str 'bad')"),
    ],
)
def test_broken_contract_names_file_and_key(tmp_path: Path, old: str, new: str, key: str, detail: str) -> None:
    err = broken(tmp_path, old, new)
    assert err.key == key
    assert detail in err.detail


def test_invalid_toml_names_file_and_line(tmp_path: Path) -> None:
    err = broken(tmp_path, "[operation]", "[operation")
    assert err.detail.startswith("is not valid TOML")
    assert "line" in err.detail


def test_missing_table_is_named(tmp_path: Path) -> None:
    path = tmp_path / "Empty.toml"
    path.write_text("[request]\nmedia_types = ['application/json']\n", encoding="utf-8")
    with pytest.raises(ContractError, match=r"Empty\.toml: operation: is required"):
        load_contract(path)


def test_non_utf8_and_unreadable_files(tmp_path: Path) -> None:
    path = tmp_path / "Latin.toml"
    path.write_bytes(b"name = '\xff'")
    with pytest.raises(ContractError, match="is not UTF-8"):
        load_contract(path)
    with pytest.raises(ContractError, match="does not exist"):
        load_contracts(tmp_path / "missing.toml")
    with pytest.raises(ContractError, match="holds no"):
        load_contracts(_empty_dir(tmp_path))


def _empty_dir(tmp_path: Path) -> Path:
    d = tmp_path / "empty"
    d.mkdir()
    return d


def test_two_contracts_with_one_path_are_refused() -> None:
    c = load_contract(SAVE_CONTRACT)
    with pytest.raises(ContractError, match=r"operation\.path: repeats the path"):
        ContractSet.of([c, c])


@pytest.mark.parametrize(
    ("path", "prefix"),
    [
        ("/api/v1/Agents/BLOB/SaveImageStream", ""),
        ("/API/V1/AGENTS/BLOB/SAVEIMAGESTREAM", ""),
        ("/api/v1/agents/blob/saveimagestream/", ""),
        ("/Cust12345/api/v1/Agents/BLOB/SaveImageStream", "/Cust12345"),
        ("/SuperOffice/api/v1/Agents/BLOB/SaveImageStream/", "/SuperOffice"),
    ],
)
def test_match_is_case_insensitive_with_prefix_and_trailing_slash(path: str, prefix: str) -> None:
    contracts = ContractSet.of([load_contract(SAVE_CONTRACT)])
    contract, got_prefix = contracts.match(path)
    assert contract is not None and contract.name == "SaveImageStream"
    assert got_prefix == prefix


@pytest.mark.parametrize(
    "path", ["/", "/api/v1/Agents/BLOB", "/api/v1/Agents/BLOB/SaveImageStreamX", "/api/v2/Agents/BLOB/SaveImageStream"]
)
def test_match_misses(path: str) -> None:
    assert ContractSet.of([load_contract(SAVE_CONTRACT)]).match(path)[0] is None
