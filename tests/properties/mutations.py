"""Single mutations of a valid request, each naming the part it broke and the status it earns."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, replace

from hypothesis import strategies as st

from .strategies import (
    Pairs,
    Request,
    Save,
    XmlChildren,
    base64_text,
    body_pairs,
    casings,
    content_types,
    credentials,
    render,
    request_for,
    saves,
    token_chars,
    valid_requests,
)


@dataclass(frozen=True, slots=True)
class Mutation:
    """What was broken: `part` must appear in a violation location; `status` is None when the oracle decides."""

    what: str
    part: str
    status: int | None


BAD_CONTENT_TYPES = [
    "text/plain", "application/octet-stream", "image/png", "multipart/form-data; boundary=x", "json",
    "application/jsonx", "application/json; charset=utf-42", "application/json; charset=rot13",
    "application/json; charset", "application/xml;charset=no-such-charset", "application/*", "*/*", " ",
]  # fmt: skip
BAD_TYPES: list[object] = [0, 20, -1, 2**31, "NotAType", "", "0", "Person Image", "<Person&Image>", True, 1.5, {}, []]
BAD_BASE64 = ["GIF89....File contents as raw bytes...", "====", "AA==AAAA", "A", "AAAAA", "QUJD!", "QU*D", "Zm9v-_8="]
AREAS = ("body", "auth", "content-type", "wrong-family", "charset")
AUTH_BREAKERS = ["drop", "scheme", "basic-base64", "basic-no-colon", "basic-empty-user", "ticket-shape", "empty-secret"]


@st.composite
def _body_mutation(draw: st.DrawFn, save: Save, family: str) -> tuple[Pairs, Mutation]:
    pairs = draw(body_pairs(save, family))
    names = {k.lower(): i for i, (k, _) in enumerate(pairs)}
    kinds = ["type", "image-base64", "image-missing", "duplicate"]
    if family == "json":
        kinds += ["image-array", "image-kind", "description-kind"]
    if family == "xml":
        kinds += ["description-kind"]
    kind = draw(st.sampled_from(kinds))

    def put(name: str, value: object) -> None:
        if name.lower() in names:
            pairs[names[name.lower()]] = (pairs[names[name.lower()]][0], value)
        else:
            pairs.append((name, value))

    if kind == "type":
        bad = draw(st.sampled_from(BAD_TYPES if family == "json" else [b for b in BAD_TYPES if isinstance(b, str)]))
        put("Type", bad if family == "json" else str(bad))
        return pairs, Mutation(f"Type = {bad!r}", "body.Type", 400)
    if kind == "image-base64":
        good = draw(base64_text(save.image))
        bad = draw(
            st.sampled_from([*BAD_BASE64, good + "!", good.rstrip()[:-1] if len(good.strip()) > 1 else "A", "é" + good])
        )
        put("Image", bad)
        return pairs, Mutation(f"Image = {bad[:30]!r}", "body.Image", 400)
    if kind == "image-missing":
        pairs = [(k, v) for k, v in pairs if k.lower() != "image"]
        if family == "json" and draw(st.booleans()):
            pairs.append((draw(casings("Image")), None))
        return pairs, Mutation("Image missing", "body.Image", 400)
    if kind == "duplicate":
        name, value = draw(st.sampled_from([(k, v) for k, v in pairs if k.lower() in {"type", "image", "description"}]))
        twin = draw(st.sampled_from(sorted({name.lower(), name.upper(), name.swapcase(), name.title()} - {name})))
        pairs.insert(draw(st.integers(0, len(pairs))), (twin, value))
        canonical = {"type": "Type", "image": "Image", "description": "Description"}[name.lower()]
        return pairs, Mutation(f"{name} given twice as {twin}", f"body.{canonical}", 400)
    if kind == "image-array":
        bad = draw(st.sampled_from([[256], [-1], [1, "x"], [True], [1.5], [[1]]]))
        put("Image", bad)
        return pairs, Mutation(f"Image = {bad!r}", "body.Image", 400)
    if kind == "image-kind":
        bad = draw(st.sampled_from([42, True, {"a": 1}, 3.5]))
        put("Image", bad)
        return pairs, Mutation(f"Image = {bad!r}", "body.Image", 400)
    bad = XmlChildren() if family == "xml" else draw(st.sampled_from([{}, [], {"x": "y"}, ["a"]]))
    put("Description", bad)
    return pairs, Mutation(f"Description = {bad!r}", "body.Description", 400)


@st.composite
def _auth_mutation(draw: st.DrawFn, req: Request) -> tuple[Request, Mutation]:
    online = req.installation == "online"
    kinds = [*AUTH_BREAKERS, "duplicate", "xsrf-mismatch", "xsrf-no-cookie", "xsrf-empty"]
    if online:
        kinds += ["basic-online", "no-app-token"]
    kind = draw(st.sampled_from(kinds))
    auth = draw(casings("Authorization"))
    plain = req.without("Authorization").without("X-XSRF-TOKEN").without("Cookie")
    if kind.startswith("xsrf"):
        token = draw(token_chars)
        cookie = draw(token_chars.filter(lambda t: t != token)) if kind == "xsrf-mismatch" else token
        headers = (*plain.headers, (draw(casings("X-XSRF-TOKEN")), "" if kind == "xsrf-empty" else token))
        if kind != "xsrf-no-cookie":
            headers += ((draw(casings("Cookie")), f"XSRF-TOKEN={cookie}"),)
        return replace(req, headers=headers), Mutation(kind, "header.X-XSRF-TOKEN", 401)
    if kind == "drop":
        return plain, Mutation("no Authorization and no X-XSRF-TOKEN", "header.", 401)
    if kind == "duplicate":
        with_header = credentials(req.installation).filter(lambda h: h[0][0].lower() == "authorization")
        first, second = draw(with_header), draw(with_header)
        headers = (*plain.headers, first[0], second[0], *first[1:])
        return replace(req, headers=headers), Mutation("two Authorization headers", "header.Authorization", 400)
    if kind == "no-app-token":
        ticket = f"{draw(casings('SOTicket'))} 7T:{draw(token_chars)}"
        headers = (*plain.without("SO-AppToken").headers, (auth, ticket))
        return replace(req, headers=headers), Mutation("SOTicket without SO-AppToken (online)", "header.", 401)
    value = {
        "scheme": lambda: f"{draw(st.sampled_from(['Digest', 'NTLM', 'Negotiate', 'Token', 'Basix']))} abc",
        "basic-base64": lambda: f"Basic {draw(st.sampled_from(['!!!', 'dGplMDpUamUw=', 'a b c', '%%%']))}",
        "basic-no-colon": lambda: "Basic " + base64.b64encode(draw(token_chars).encode()).decode(),
        "basic-empty-user": lambda: "Basic " + base64.b64encode(b":" + draw(token_chars).encode()).decode(),
        "basic-online": lambda: "Basic " + base64.b64encode(b"tje0:Tje0").decode(),
        "ticket-shape": lambda: f"SOTicket {draw(st.sampled_from(['abc', '7T', '8A:xyz', 'ticket']))}",
        "empty-secret": lambda: draw(st.sampled_from(["Bearer", "Basic", "SOTicket", "Bearer   "])),
    }[kind]()
    if kind == "ticket-shape" and online:
        plain = plain.with_header("SO-AppToken", "app")
    return replace(req, headers=(*plain.headers, (auth, value))), Mutation(f"Authorization: {value}", "header.", 401)


@st.composite
def mutated_requests(
    draw: st.DrawFn, installation: str = "onsite", area: str | None = None
) -> tuple[Request, Mutation]:
    """A valid request with exactly one thing broken (in `area`, one of AREAS, or any)."""
    save = draw(saves())
    family = draw(st.sampled_from(["json", "xml", "form"]))
    req = draw(request_for(save, installation, family))
    area = area or draw(st.sampled_from(AREAS))
    if area == "auth":
        return draw(_auth_mutation(req))
    if area == "content-type":
        if draw(st.booleans()):
            return req.without("Content-Type"), Mutation("no Content-Type", "header.Content-Type", 415)
        bad = draw(st.sampled_from(BAD_CONTENT_TYPES))
        return req.with_header("Content-Type", bad), Mutation(f"Content-Type: {bad}", "header.Content-Type", 415)
    if area == "wrong-family":
        other = draw(st.sampled_from([f for f in ("json", "xml", "form") if f != family]))
        ctype, _ = draw(content_types(other))
        return req.with_header("Content-Type", ctype), Mutation(f"{family} body sent as {ctype}", "body", 400)
    if area == "charset":
        ctype, codec = draw(content_types(family, save.description or ""))
        body = draw(render(draw(body_pairs(save, family)), family, codec))
        # A utf-16 XML body without a charset is fine (its BOM says utf-16), so name utf-8 explicitly.
        ctype = ctype.split(";")[0] + ("; charset=utf-16" if codec != "utf-16" else "; charset=utf-8")
        return replace(req.with_header("Content-Type", ctype), body=body), Mutation(
            f"{codec} body labelled {ctype}", "body", 400
        )
    pairs, mutation = draw(_body_mutation(save, family))
    ctype, codec = draw(content_types(family, save.description or ""))
    body = draw(render(pairs, family, codec))
    return replace(req.with_header("Content-Type", ctype), body=body), mutation


# ---- anything at all (property 4) ------------------------------------------------------------

HEADER_POOL = [
    "Content-Type", "Accept", "Authorization", "X-XSRF-TOKEN", "Cookie", "SO-AppToken", "SO-Language",
    "Accept-Language", "SO-Culture", "SO-TimeZone", "SO-Browser-TZ-Offset", "User-Agent", "X-Anything",
]  # fmt: skip
ODD_VALUES = [
    "", " ", ",", ";", "*/*;q=nan", "application/json;q=2", "text/xml;;;", "application/json; charset=",
    'application/json; charset="', "Basic", "Basic =", "SOTicket 7T:", "Bearer a b", "XSRF-TOKEN=", "=;=;",
    "\t", "a/b/c", "application/json, , ,", "application/json;charset=utf-8;charset=latin1", "x" * 300,
    "éèê", "\u2028", "application/xml; charset=utf-32", "application/x-www-form-urlencoded; charset=utf-16",
]  # fmt: skip
ascii_text = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=40)
header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, blacklist_characters="\x7f"), max_size=40)


@st.composite
def mangled(draw: st.DrawFn, data: bytes) -> bytes:
    """`data` cut short, with bytes flipped, inserted or repeated."""
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["cut", "flip", "insert", "repeat"]))
        at = draw(st.integers(0, len(out)))
        if op == "cut":
            del out[at:]
        elif op == "flip" and at < len(out):
            out[at] = draw(st.integers(0, 255))
        elif op == "insert":
            out[at:at] = draw(st.binary(min_size=1, max_size=4) | st.sampled_from([b"\x00", b"\xff", b"<", b"{", b'"']))
        else:
            out[at:at] = out[at : at + draw(st.integers(1, 8))]
    return bytes(out)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["Type", "image", "x", "DESCRIPTION"]) | st.text(max_size=5), inner, max_size=4
        )
    ),
    max_leaves=12,
)


@st.composite
def anything(draw: st.DrawFn, installation: str = "onsite", http_safe: bool = False) -> Request:
    """Whatever a client might send: odd methods, paths, headers and bodies, near-valid or not."""
    base = (
        draw(mutated_requests(installation))[0]
        if draw(st.booleans())
        else draw(request_for(draw(saves()), installation))
    )
    methods = ["POST"] * 6 + ["GET", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"]
    # aiohttp's parser refuses unknown methods before the fake sees them (see test_hostile.py).
    method = draw(st.sampled_from(methods if http_safe else [*methods, "FOO"]))
    path = draw(
        st.just(base.path)
        | st.sampled_from(["/", "/api", "/api/v1/Agents/BLOB", "/api/v1/Agents/BLOB/SaveImageStream/x", "/API/V1/"])
        | st.text(st.sampled_from("abc/.~-_API" if http_safe else "abc/%.~-_API"), max_size=20)
        .map(lambda t: "/" + t)
        # Over HTTP, /_ paths are the fake's own debug routes, answered outside the journal.
        .filter(lambda p: not (http_safe and p.startswith("/_")))
    )
    headers = list(base.headers) if draw(st.booleans()) else []
    if http_safe:  # what http.client can put on the wire and aiohttp reads back unchanged
        values = st.sampled_from([v for v in ODD_VALUES if v.isascii() and v == v.strip()]) | ascii_text
    else:
        values = st.sampled_from(ODD_VALUES) | header_text | st.text(max_size=20)
    names = st.sampled_from(HEADER_POOL) | st.text(st.sampled_from("abcXYZ-_0"), min_size=1, max_size=10)
    for _ in range(draw(st.integers(0, 4))):
        action = draw(st.sampled_from(["add", "replace", "drop"]))
        name = draw(names)
        if action == "drop":
            headers = [(k, v) for k, v in headers if k.lower() != name.lower()]
        elif action == "replace":
            headers = [(k, v) for k, v in headers if k.lower() != name.lower()] + [(name, draw(values))]
        else:
            headers.append((name, draw(values)))
    if http_safe:
        # aiohttp's parser refuses a second Content-Type or User-Agent (see test_hostile.py).
        seen: set[str] = set()
        kept = []
        for k, v in headers:
            if k.lower() in {"host", "content-length", "transfer-encoding"} or k.lower() in seen:
                continue
            if k.lower() in {"content-type", "user-agent"}:
                seen.add(k.lower())
            kept.append((k, v.strip()))
        headers = kept
    body = draw(
        st.just(base.body)
        | mangled(base.body)
        | st.binary(max_size=64)
        | json_values.map(lambda v: json.dumps(v).encode())
        | st.sampled_from([b"", b"null", b"[]", b"{}", b"<a/>", b"<a><Image/></a>", b"\xef\xbb\xbf{}", b"\x00"])
    )
    return replace(base, method=method, path=path, headers=tuple(headers), body=body)


@st.composite
def any_requests(draw: st.DrawFn, installation: str = "onsite") -> tuple[str, Request]:
    """A valid request, a near-miss or anything at all, with which of the three it is."""
    kind = draw(st.sampled_from(["valid", "mutated", "anything"]))
    if kind == "valid":
        return kind, draw(valid_requests(installation))[1]
    if kind == "mutated":
        return kind, draw(mutated_requests(installation))[0]
    return kind, draw(anything(installation))
