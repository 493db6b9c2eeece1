"""Hypothesis strategies for SaveImageStream requests, composed from small pieces.

A `Save` is what a request means (Type, Image, Description); a `Request` is one way of
putting it on the wire. Valid-request strategies return both, so a property can check the
journal decodes back to what was meant. `tests/oracle.py` judges requests independently.
"""

from __future__ import annotations

import base64
import json
import os
import struct
import zlib
from dataclasses import dataclass, field, replace
from urllib.parse import quote, urlencode

from hypothesis import settings
from hypothesis import strategies as st

SAVE_PATH = "/api/v1/Agents/BLOB/SaveImageStream"
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
BLOB_LINK_TYPES = [
    "PersonImage",
    "ProjectImage",
    "EventImage",
    "Thumbnail",
    "StatusMonitorImage",
    "BatchTask",
    "ProductImage",
    "ProductThumbnail",
    "QuoteLineImage",
    "QuoteLineThumbnail",
    "AccessToken",
    "RefreshToken",
    "Dashboard",
    "DashboardTile",
    "ChatTopicImage",
    "FormsBackgroundImage",
    "ContactImage",
    "DashboardHtmlTileData",
    "ExtraTableIcon",
]
TYPE_NUMBERS = {name: i for i, name in enumerate(BLOB_LINK_TYPES, start=1)}
JSON_MEDIA = ("application/json", "text/json", "application/json-patch+json", "application/merge-patch+json")
XML_MEDIA = ("application/xml", "text/xml")
FORM_MEDIA = ("application/x-www-form-urlencoded",)
RESPONSE_MEDIA = (*JSON_MEDIA[:2], *XML_MEDIA, *JSON_MEDIA[2:])
DC_NS = "http://schemas.datacontract.org/2004/07/SuperOffice.Services"


def budget(ci: int) -> settings:
    """Examples for one test: `ci` under the ci profile, the profile's own number otherwise (make fuzz)."""
    return settings(max_examples=ci) if PROFILE == "ci" else settings()


@dataclass(frozen=True, slots=True)
class Save:
    """What a valid request means, whatever its encoding."""

    type: str | None
    image: bytes
    description: str | None


@dataclass(frozen=True, slots=True)
class Request:
    """One request on the wire. Headers are a list so casing, order and duplicates survive."""

    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    query: str = ""
    installation: str = "onsite"
    notes: tuple[str, ...] = field(default=(), compare=False)

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def without(self, name: str) -> Request:
        return replace(self, headers=tuple((k, v) for k, v in self.headers if k.lower() != name.lower()))

    def with_header(self, name: str, value: str) -> Request:
        return replace(self.without(name), headers=(*self.without(name).headers, (name, value)))


# ---- small pieces --------------------------------------------------------------------------


def casings(word: str) -> st.SearchStrategy[str]:
    """The word as written, lower, upper, or any mix (names the server matches case-insensitively)."""
    mixed = st.lists(st.booleans(), min_size=len(word), max_size=len(word)).map(
        lambda flips: "".join(c.upper() if f else c.lower() for c, f in zip(word, flips, strict=True))
    )
    return st.one_of(st.just(word), st.just(word.lower()), st.just(word.upper()), mixed)


def _param_sep() -> st.SearchStrategy[str]:
    return st.sampled_from([";", "; ", ";  ", " ;", " ; ", "\t;\t"])


CHARSETS = {
    "utf-8": ("utf-8", "UTF-8", "utf8", '"utf-8"', "Utf-8"),
    "utf-16": ("utf-16", "UTF-16"),
    "iso-8859-1": ("iso-8859-1", "ISO-8859-1", "latin1", "windows-1252"),
}


@st.composite
def content_types(draw: st.DrawFn, family: str, text: str = "") -> tuple[str, str]:
    """A Content-Type value of `family` and the codec to encode the body with."""
    media = draw(st.sampled_from({"json": JSON_MEDIA, "xml": XML_MEDIA, "form": FORM_MEDIA}[family]))
    media = draw(st.sampled_from([media, media.upper(), media.title()]))
    options = ["utf-8"] if family == "form" else ["utf-8", "utf-16"]
    if _fits_latin1(text):
        options.append("iso-8859-1")
    codec = draw(st.sampled_from(options))
    if codec == "utf-8" and draw(st.booleans()):
        return media, "utf-8"  # no charset parameter at all
    label = draw(st.sampled_from(CHARSETS[codec]))
    name = draw(st.sampled_from(["charset", "Charset", "CHARSET"]))
    return f"{media}{draw(_param_sep())}{name}={label}", codec


def _fits_latin1(text: str) -> bool:
    try:
        text.encode("iso-8859-1")
    except UnicodeEncodeError:
        return False
    return True


def _qvalue() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(["1", "1.0", "1.000", "0.9", "0.5", "0.1", "0.001"]),
        st.integers(1, 999).map(lambda n: f"0.{n:03d}".rstrip("0")),
    )


@st.composite
def accepts(draw: st.DrawFn) -> str | None:
    """Every Accept form: absent, one type, lists, q-values, wildcards, unsatisfiable types."""
    pool = [*RESPONSE_MEDIA, "*/*", "application/*", "text/*", "image/png", "text/html", "application/octet-stream"]
    if draw(st.integers(0, 5)) == 0:
        return None
    parts = []
    for media in draw(st.lists(st.sampled_from(pool), min_size=1, max_size=4, unique=True)):
        media = draw(st.sampled_from([media, media.upper()]))
        if draw(st.booleans()):
            media += f"{draw(_param_sep())}q={draw(_qvalue())}"
        parts.append(media)
    return draw(st.sampled_from([",", ", ", " , "])).join(parts)


# ---- images ---------------------------------------------------------------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int, height: int, pixels: bytes) -> bytes:
    rows = b"".join(b"\x00" + (pixels * (3 * width))[: 3 * width] for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(rows))
        + _png_chunk(b"IEND", b"")
    )


def gif(width: int, height: int, pixels: bytes) -> bytes:
    # LZW with a clear code every two literals keeps every code 3 bits wide.
    codes: list[int] = []
    for i in range(width * height):
        if i % 2 == 0:
            codes.append(4)
        codes.append(pixels[i % len(pixels)] & 1)
    codes.append(5)
    bits = "".join(format(c, "03b")[::-1] for c in codes)
    bits += "0" * (-len(bits) % 8)
    data = bytes(int(bits[i : i + 8][::-1], 2) for i in range(0, len(bits), 8))
    blocks = b"".join(bytes([len(data[i : i + 255])]) + data[i : i + 255] for i in range(0, len(data), 255))
    palette = bytes(pixels[:3].ljust(3, b"\x00")) + b"\xff\xff\xff"
    return (
        b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + palette
        + b"\x2c" + struct.pack("<HHHHB", 0, 0, width, height, 0) + b"\x02" + blocks + b"\x00\x3b"
    )  # fmt: skip


def bmp(width: int, height: int, pixels: bytes) -> bytes:
    row = (pixels * (3 * width))[: 3 * width]
    row += b"\x00" * (-len(row) % 4)
    image = row * height
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 24, 0, len(image), 2835, 2835, 0, 0)
    return b"BM" + struct.pack("<IHHI", 14 + 40 + len(image), 0, 0, 54) + info + image


def ico(width: int, height: int, pixels: bytes) -> bytes:
    inner = png(width, height, pixels)
    entry = struct.pack("<BBBBHHII", width % 256, height % 256, 0, 0, 1, 32, len(inner), 22)
    return struct.pack("<HHH", 0, 1, 1) + entry + inner


def svg(width: int, height: int, pixels: bytes) -> bytes:
    colour = pixels[:3].ljust(3, b"\x00").hex()
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
        f'<rect width="{width}" height="{height}" fill="#{colour}"/></svg>'
    ).encode()


# Fixed tiny files for formats too fiddly to build: a 1x1 JPEG (greyscale, written by Pillow) and a
# 1x1 lossless WebP.
JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcpLDAxNDQ0Hyc5PTgy"
    "PC4zNDL/wAALCAABAAEBAREA/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEG"
    "E1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJ"
    "ipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/9oACAEBAAA/ACv/2Q=="
)
WEBP = base64.b64decode("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")
BUILDERS = {"png": png, "gif": gif, "bmp": bmp, "ico": ico, "svg": svg}


@st.composite
def real_images(draw: st.DrawFn) -> bytes:
    """A small valid image of a real format."""
    kind = draw(st.sampled_from([*BUILDERS, "jpeg", "webp"]))
    if kind == "jpeg":
        return JPEG
    if kind == "webp":
        return WEBP
    width, height = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    return BUILDERS[kind](width, height, draw(st.binary(min_size=3, max_size=12)))


def images() -> st.SearchStrategy[bytes]:
    """Real images mostly; random bytes and the empty image too (accepted, with a warning)."""
    return st.one_of(real_images(), real_images(), st.binary(max_size=200), st.just(b""))


# ---- bodies ---------------------------------------------------------------------------------

# Text every encoding can carry: no control characters (XML 1.0 cannot), no surrogates or noncharacters.
description_text = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Cn", "Co"), blacklist_characters="\ufeff")
    | st.sampled_from("\t\n\r <>&'\"+=%;é€𝄞"),
    max_size=40,
)


@st.composite
def saves(draw: st.DrawFn) -> Save:
    type_ = draw(st.one_of(st.sampled_from(BLOB_LINK_TYPES), st.none()))
    # Edge whitespace is where encodings most often disagree, so it is drawn on purpose.
    padded = st.tuples(st.sampled_from([" ", "\n", "\t ", "\r\n"]), description_text).map(lambda p: p[0] + p[1] + p[0])
    description = draw(st.one_of(description_text, padded, st.none()))
    return Save(type_, draw(images()), description)


@st.composite
def base64_text(draw: st.DrawFn, data: bytes) -> str:
    """Base64 of `data`, sometimes with whitespace anywhere (.NET's decoder skips it)."""
    text = base64.b64encode(data).decode("ascii")
    if text and draw(st.booleans()):
        cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=6)))
        pieces, last = [], 0
        for cut in cuts:
            pieces.append(text[last:cut])
            last = cut
        pieces.append(text[last:])
        text = "".join(p + draw(st.sampled_from([" ", "\n", "\r\n", "\t", "  "])) for p in pieces[:-1]) + pieces[-1]
    return text


def _name_style(draw: st.DrawFn, name: str) -> str:
    return draw(st.sampled_from([name, name[0].lower() + name[1:]]) | casings(name))


def _type_value(draw: st.DrawFn, name: str, numbers_as_int: bool) -> object:
    number = TYPE_NUMBERS[name]
    options: list[object] = [name, str(number)]
    if numbers_as_int:
        options.append(number)
    choice = draw(st.sampled_from(options))
    return draw(casings(name)) if choice == name else choice


class XmlChildren:
    """A body value that renders, in XML, as an element holding another element."""

    def __repr__(self) -> str:
        return "<Nested/>"


Pairs = list[tuple[str, object]]


@st.composite
def body_pairs(draw: st.DrawFn, save: Save, family: str) -> Pairs:
    """The properties of `save` as (name, value) pairs: any name casing, any order, any value form."""
    pairs: Pairs = []
    if save.type is not None:
        pairs.append((_name_style(draw, "Type"), _type_value(draw, save.type, numbers_as_int=family == "json")))
    if family == "json" and save.image and draw(st.booleans()):
        pairs.append((_name_style(draw, "Image"), list(save.image)))
    else:
        pairs.append((_name_style(draw, "Image"), draw(base64_text(save.image))))
    if save.description is not None:
        pairs.append((_name_style(draw, "Description"), save.description))
    if draw(st.integers(0, 3)) == 0:  # clients send properties the call does not know; they are ignored
        extra: list[object] = ["ignored", ""] + ([0, None, [1, 2], {"a": 1}, True] if family == "json" else [])
        extra += [XmlChildren()] if family == "xml" else []
        pairs.append(
            (draw(st.sampled_from(["x", "BlobId", "Extra", "ImageData", "__type"])), draw(st.sampled_from(extra)))
        )
    return list(draw(st.permutations(pairs)))


def _xml_escape(text: str) -> str:
    # A bare CR would be read back as LF; a character reference keeps it.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


@st.composite
def render(draw: st.DrawFn, pairs: Pairs, family: str, codec: str) -> bytes:
    """Body bytes for `pairs` (duplicates kept) in `family`, encoded with `codec`."""
    if family == "json":
        ascii_only = draw(st.booleans())
        sep = draw(st.sampled_from([(", ", ": "), (",", ":"), (",\n  ", ": ")]))
        items = sep[0].join(json.dumps(k) + sep[1] + json.dumps(v, ensure_ascii=ascii_only) for k, v in pairs)
        text = "{" + items + "}"
        if draw(st.booleans()):
            text = text.replace("/", "\\/")  # JSON may escape '/' anywhere in a string
        bom = "\ufeff" if codec == "utf-8" and draw(st.integers(0, 7)) == 0 else ""
        return (bom + text).encode(codec)
    if family == "form":
        encoded = [(k, str(v)) for k, v in pairs]
        if draw(st.booleans()):
            return urlencode(encoded, encoding=codec).encode("ascii")
        return "&".join(
            f"{quote(k, safe='', encoding=codec)}={quote(v, safe='', encoding=codec)}" for k, v in encoded
        ).encode()
    root = draw(st.sampled_from(["SaveImageStream", "Request", "root", "BlobRequest", "x"]))
    style = draw(st.sampled_from(["plain", "default-ns", "prefixed"]))
    pre = "so:" if style == "prefixed" else ""
    parts = []
    for name, value in pairs:
        inner = "<Nested>1</Nested>" if isinstance(value, XmlChildren) else _xml_escape(str(value))
        parts.append(f"<{pre}{name}>{inner}</{pre}{name}>")
    ns = {"plain": "", "default-ns": f' xmlns="{DC_NS}"', "prefixed": f' xmlns:so="{DC_NS}"'}[style]
    ns += draw(st.sampled_from(["", ' xmlns:i="http://www.w3.org/2001/XMLSchema-instance"']))
    sep = draw(st.sampled_from(["", "\n  "]))
    text = f"<{pre}{root}{ns}>{sep}{sep.join(parts)}{sep}</{pre}{root}>"
    if draw(st.booleans()):
        text = f'<?xml version="1.0" encoding="{codec}"?>' + text
    return text.encode(codec)


@st.composite
def encoded_bodies(draw: st.DrawFn, save: Save, family: str | None = None) -> tuple[str, bytes, str]:
    """(Content-Type value, body bytes, family) for `save` in any family and charset."""
    family = family or draw(st.sampled_from(["json", "json", "xml", "form"]))
    ctype, codec = draw(content_types(family, save.description or ""))
    return ctype, draw(render(draw(body_pairs(save, family)), family, codec)), family


# ---- credentials ----------------------------------------------------------------------------

token_chars = st.text(
    st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."), min_size=1, max_size=24
)
tickets = token_chars.map(lambda t: "7T:" + t)
bearer_tokens = st.one_of(token_chars.map(lambda t: "8A:Cust12345." + t), token_chars)
users = st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789._-@é"), min_size=1, max_size=12)
passwords = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x24F), max_size=16)


@st.composite
def credentials(draw: st.DrawFn, installation: str) -> tuple[tuple[str, str], ...]:
    """Valid credential headers for the installation: each scheme, in any scheme-name casing."""
    onsite = ["basic", "basic-ticket", "soticket", "bearer", "xsrf"]
    online = ["soticket", "bearer", "xsrf"]
    kind = draw(st.sampled_from(onsite if installation == "onsite" else online))
    auth = draw(casings("Authorization"))
    if kind == "basic":
        raw = f"{draw(users)}:{draw(passwords)}".encode()
        return ((auth, f"{draw(casings('Basic'))} {base64.b64encode(raw).decode()}"),)
    if kind == "basic-ticket":
        return ((auth, f"{draw(casings('Basic'))} {draw(tickets)}"),)
    if kind == "soticket":
        scheme = draw(st.sampled_from(["SOTicket", "SoTicket", "SOTICKET", "soticket"]) | casings("SOTicket"))
        headers: tuple[tuple[str, str], ...] = ((auth, f"{scheme} {draw(tickets)}"),)
        if installation == "online" or draw(st.booleans()):
            headers += ((draw(casings("SO-AppToken")), draw(token_chars)),)
        return headers
    if kind == "bearer":
        return ((auth, f"{draw(casings('Bearer'))} {draw(bearer_tokens)}"),)
    token = draw(token_chars)
    other = draw(st.sampled_from(["", "ASP.NET_SessionId=abc; ", "lang=en; "]))
    return ((draw(casings("X-XSRF-TOKEN")), token), (draw(casings("Cookie")), f"{other}XSRF-TOKEN={token}"))


# ---- whole requests -------------------------------------------------------------------------

paths = st.sampled_from(["", "/Cust12345", "/SuperOffice", "/sod2/Cust1"]).flatmap(
    lambda prefix: st.sampled_from([SAVE_PATH, SAVE_PATH.lower(), SAVE_PATH + "/"]).map(lambda p: prefix + p)
)
locale_headers = st.lists(
    st.sampled_from(
        [("SO-Language", "en"), ("Accept-Language", "nb-NO,en;q=0.5"), ("SO-Culture", "nb"),
         ("SO-TimeZone", "UTC"), ("SO-Browser-TZ-Offset", "60"), ("User-Agent", "SO-TS-WebApi/1.0"),
         ("X-Unknown-Header", "kept")]
    ),
    max_size=3,
    unique=True,
)  # fmt: skip


@st.composite
def valid_requests(draw: st.DrawFn, installation: str = "onsite", family: str | None = None) -> tuple[Save, Request]:
    """A valid SaveImageStream request and what it means."""
    save = draw(saves())
    return save, draw(request_for(save, installation, family))


@st.composite
def request_for(draw: st.DrawFn, save: Save, installation: str = "onsite", family: str | None = None) -> Request:
    """`save` put on the wire in one of its many equivalent forms."""
    ctype, body, _ = draw(encoded_bodies(save, family))
    headers: list[tuple[str, str]] = [(draw(casings("Content-Type")), ctype)]
    accept = draw(accepts())
    if accept is not None:
        headers.append((draw(casings("Accept")), accept))
    headers += draw(credentials(installation))
    headers += draw(locale_headers)
    headers = draw(st.permutations(headers))
    return Request("POST", draw(paths), tuple(headers), body, installation=installation)
