"""`tenge-ledger trace COLOR --format html` (SPEC §5, §6.1): one self-contained page an auditor opens.

The page is checked three ways: as text (a band per edge and per spend category, every party and
transaction id, nothing fetched from anywhere, names escaped), through the CLI (the file written is
the page of the JSON trace), and in a real headless Chromium (the diagram renders, the page's own
script runs, and the browser reports no console message and no failed load).
"""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path
from typing import Any

import pytest

from e2e_support import cli, sqlite_url
from ledger.app import Ledger
from ledger.render.trace_html import LABEL_CHARS, MAX_NODES_PER_COLUMN, render_trace_html
from tests.support import Script, road_world

EVIL_NAME = 'Evil <script>alert("owned")</script> & Sons "LLP" ' + "with a name far too long to fit a label " * 2
BROWSER_TIMEOUT_S = 120


# --- worlds, built through the real path -------------------------------------------------------------


def small_world() -> tuple[Script, dict[str, str]]:
    """Payments two levels down, a released and an outstanding reservation, spends in three
    categories (one category twice at one holder), a return; the contractor's name is hostile."""
    s, n = road_world()
    registration = next(r for r in s.records if r["type"] == "register_party" and r["party"] == n["contractor"])
    registration["name"] = EVIL_NAME
    c = n["color"]
    s.transfer(c, n["admin"], n["contractor"], "300000.00", id="TX-1", contract="C-1", kind="advance")
    s.reserve(c, n["admin"], n["contractor"], "50000.00", "C-1", id="RS-1")
    s.add("accept", id="ACC-1", contract="C-1", amount="50000.00", final=True, evidence_sha256="ab" * 32)
    s.add("release", id="REL-1", reservation="RS-1")
    s.transfer(c, n["contractor"], n["sub"], "120000.25", id="TX-2", invoice="INV-1")
    s.spend(c, n["contractor"], "10000.00", id="SP-1", category="fuel")
    s.spend(c, n["sub"], "20000.00", id="SP-2", category="materials")
    s.spend(c, n["sub"], "5000.50", id="SP-3", category="materials")
    s.spend(c, n["sub"], "1000.00", id="SP-4", category="wages")
    s.return_(c, n["admin"], "100000.00", id="RET-1", reason="savings")
    s.reserve(c, n["admin"], n["contractor"], "7000.00", "C-1", id="RS-2")
    return s, n


def trace_of(s: Script, color: str) -> dict[str, Any]:
    ledger = Ledger("memory://")
    outcomes = ledger.execute(s.commands())
    assert all(o.status == "applied" for o in outcomes), [o for o in outcomes if o.status != "applied"]
    read = ledger.read_side()
    position = read.catch_up()
    return read.trace(color, position, None)


@pytest.fixture(scope="module")
def small() -> tuple[dict[str, Any], str]:
    s, n = small_world()
    document = trace_of(s, n["color"])
    return document, render_trace_html(document)


# --- reading the page ----------------------------------------------------------------------------------


def svg_of(page: str) -> ET.Element:
    """The diagram, parsed as XML: this also proves the SVG is well formed."""
    found = re.findall(r"<svg\b.*?</svg>", page, re.S)
    assert len(found) == 1, "exactly one diagram"
    return ET.fromstring(found[0])


def bands(svg: ET.Element, kind: str) -> list[ET.Element]:
    """Bands whose class list is exactly `band <kind...>` (kind 'edge', 'sink spent', ...)."""
    return [p for p in svg.iter("path") if (p.get("class") or "").replace(" back", "") == f"band {kind}"]


def assert_self_contained(page: str) -> None:
    """Nothing on the page can make a browser fetch anything from anywhere."""
    assert "http://" not in page and "https://" not in page
    for attribute, value in re.findall(r"""(?<![\w-])(src|href|xlink:href|action|srcset|poster|data)\s*=\s*["']([^"']*)""", page):
        assert value.startswith("#") or value.startswith("data:"), f"{attribute}={value!r} points outside the page"
    assert not re.search(r"""=\s*["']?//""", page), "a protocol-relative reference"
    assert not re.search(r"url\(\s*['\"]?(?!#|data:)", page), "a CSS url() to a resource"
    assert "@import" not in page and "<iframe" not in page and "<link rel=\"stylesheet\"" not in page
    assert "default-src 'none'" in page, "the Content-Security-Policy forbids any fetch"


# --- the page as text ------------------------------------------------------------------------------------


def test_page_draws_a_band_per_edge_and_per_spend_category(small):
    document, page = small
    svg = svg_of(page)
    edges = bands(svg, "edge")
    assert len(edges) == len(document["edges"]) == 2
    assert {(b.get("data-src"), b.get("data-dst")) for b in edges} == {(x["from"], x["to"]) for x in document["edges"]}
    categories = {(s["holder"], s["category"]) for s in document["spends"]}
    spent = bands(svg, "sink spent")
    assert len(spent) == len(categories) == 3  # the sub's two materials spends are one band
    assert {(b.get("data-src"), b.get("data-dst")) for b in spent} == {(h, f"sink-spent-{c}") for h, c in categories}
    admin = document["holders"][0]["party"]
    assert [(b.get("data-src"), b.get("data-dst")) for b in bands(svg, "sink returned")] == [(admin, "sink-returned")]
    assert [(b.get("data-src"), b.get("data-dst")) for b in bands(svg, "sink reserved")] == [(admin, "sink-reserved")]
    assert len(bands(svg, "sink held")) == 3  # every holder still holds something
    nodes = [g for g in svg.iter("g") if (g.get("class") or "").startswith("node ")]
    assert {g.get("data-node") for g in nodes if g.get("class") == "node holder"} == {h["party"] for h in document["holders"]}


def test_band_widths_are_proportional_to_amounts(small):
    document, page = small
    svg = svg_of(page)
    amounts = {(x["from"], x["to"]): x["amount_tiyn"] for x in document["edges"]}
    ratios = [float(b.get("stroke-width")) / amounts[b.get("data-src"), b.get("data-dst")] for b in bands(svg, "edge")]
    held = {h["party"]: h["balance_tiyn"] for h in document["holders"]}
    ratios += [float(b.get("stroke-width")) / held[b.get("data-src")] for b in bands(svg, "sink held")]
    assert min(ratios) == pytest.approx(max(ratios), rel=0.02)


def test_page_names_every_party_transaction_and_amount(small):
    document, page = small
    for holder in document["holders"]:
        assert holder["party"] in page
        assert f'id="holder-{holder["party"]}"' in page
    transactions = {t for x in document["edges"] for t in x["transactions"]}
    transactions |= {s["transaction"] for s in document["spends"]}
    transactions |= {t for s in document["spends"] for p in s["paths"] for t in p["transactions"]}
    assert {"TX-1", "RS-1", "REL-1", "TX-2", "SP-1", "SP-4"} <= transactions
    for transaction in transactions:
        assert f"<code>{transaction}</code>" in page, transaction
    for amount in ("1000000.00", "350000.00", "120000.25", "25000.50", "7000.00", "100000.00"):
        assert amount in page, amount  # format_kzt, exactly
    for spend in document["spends"]:
        for path in spend["paths"]:
            assert " → ".join(f"<code>{t}</code>" for t in path["transactions"]) in page
    assert 'class="conservation ok"' in page and "Conservation holds" in page


def test_page_fetches_nothing_and_escapes_names(small):
    _, page = small
    assert page.startswith("<!DOCTYPE html>")
    assert_self_contained(page)
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt; &amp; Sons &quot;LLP&quot;" in page
    assert page.count("<script") == 1  # the page's own few lines only


def test_page_for_a_color_without_payments_shows_the_administrator_holding_it_all():
    s, n = road_world()
    document = trace_of(s, n["color"])
    page = render_trace_html(document)
    svg = svg_of(page)
    assert bands(svg, "edge") == [] and bands(svg, "sink spent") == []
    [held] = bands(svg, "sink held")
    assert held.get("data-src") == n["admin"]
    assert "No payments yet" in page and 'class="conservation ok"' in page
    assert_self_contained(page)


def test_page_with_hundreds_of_holders_stays_legible():
    s, n = road_world()
    c = n["color"]
    for i in range(40):
        contractor = s.party("contractor")
        s.contract(f"CM-{i}", c, n["admin"], contractor, "20000.00")
        s.transfer(c, n["admin"], contractor, f"{1000 + i}.00", contract=f"CM-{i}")
        for j in range(5):
            sub = s.party("supplier")
            s.contract(f"CS-{i}-{j}", c, contractor, sub, "200.00")
            s.transfer(c, contractor, sub, f"{10 + j}.00", contract=f"CS-{i}-{j}")
            if j == 0:
                s.spend(c, sub, "1.00", category="materials")
    document = trace_of(s, c)
    assert len(document["holders"]) == 241
    page = render_trace_html(document)
    svg = svg_of(page)
    assert float(svg.get("height")) < 2000, "the diagram's height stays bounded"
    nodes = [g for g in svg.iter("g") if (g.get("class") or "").startswith("node ")]
    assert len(nodes) <= 3 * MAX_NODES_PER_COLUMN
    assert len([g for g in nodes if g.get("class") == "node others"]) == 2
    assert "the tables list every holder" in page
    for holder in document["holders"]:
        assert f'id="holder-{holder["party"]}"' in page


def test_page_survives_odd_documents():
    """Zero amounts, a payment back up the tree, a holder no payment reached, broken conservation."""
    zero = {"party": "000000000000", "name": "", "depth": None, "received_tiyn": 0, "paid_on_tiyn": 0, "spent_tiyn": 0,
            "returned_tiyn": 0, "reserved_tiyn": 0, "balance_tiyn": 0}
    admin = dict(zero, party="111111111111", name="A" * 300, depth=0, received_tiyn=500, paid_on_tiyn=300, balance_tiyn=200)
    payee = dict(zero, party="222222222222", depth=1, received_tiyn=300, paid_on_tiyn=100, balance_tiyn=200)
    document = {
        "color": "ROAD-2025-041-000001-98", "pilot": "ROAD", "allocated": "4.00", "allocated_tiyn": 400,
        "as_of": "@9", "position": 9, "holders": [admin, payee, zero],
        "edges": [{"from": admin["party"], "to": payee["party"], "amount_tiyn": 300, "transactions": ["T-1"]},
                  {"from": payee["party"], "to": admin["party"], "amount_tiyn": 100, "transactions": ["T-2"]},
                  {"from": admin["party"], "to": zero["party"], "amount_tiyn": 0, "transactions": ["T-3"]}],
        "spends": [],
        "conservation": {"allocated_tiyn": 400, "held_tiyn": 400, "reserved_tiyn": 0, "spent_tiyn": 0,
                         "returned_tiyn": 0, "ok": False},
    }
    page = render_trace_html(document)
    svg = svg_of(page)
    assert [b.get("class") for b in bands(svg, "edge") if "back" in b.get("class")] == ["band edge back"]
    assert 'class="conservation broken"' in page and "BROKEN" in page
    labels = [t.text or "" for t in svg.iter("tspan") if t.get("class") == "name"]
    assert "A" * 300 in page and max(len(label) for label in labels) <= LABEL_CHARS  # cut in the drawing only
    assert "T-3" in page
    zero_everything = dict(document, allocated_tiyn=0, holders=[dict(zero, depth=0)], edges=[],
                           conservation=dict(document["conservation"], allocated_tiyn=0, held_tiyn=0, ok=True))
    svg_of(render_trace_html(zero_everything))


# --- the CLI -----------------------------------------------------------------------------------------------


def test_cli_writes_the_page_of_the_trace(capsys, tmp_path):
    s, n = small_world()
    url = sqlite_url(tmp_path / "ledger.sqlite")
    assert cli(capsys, "--store", url, "import", s.write(tmp_path / "world.jsonl")).code == 0
    out = tmp_path / "out" / "trace.html"
    out.parent.mkdir()
    run = cli(capsys, "--store", url, "trace", n["color"], "--format", "html", "--out", out)
    assert run.code == 0, run.err
    assert run.out == "" and str(out) in run.err
    as_json = cli(capsys, "--store", url, "trace", n["color"], "--format", "json")
    assert out.read_text(encoding="utf-8") == render_trace_html(as_json.json())
    earlier = cli(capsys, "--store", url, "trace", n["color"], "--as-of", "@8", "--format", "html", "--out", tmp_path / "early.html")
    assert earlier.code == 0, earlier.err
    early = (tmp_path / "early.html").read_text(encoding="utf-8")
    assert "TX-1" in early and "TX-2" not in early and "@8" in early


# --- a real browser ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if not found:
        pytest.skip("no Chromium on this machine (install Debian's `chromium`; .ci/run does) — the browser test cannot run")
    return found


def run_browser(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=BROWSER_TIMEOUT_S, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def browser_problems(stderr: str, page: Path) -> list[str]:
    """Console messages of the page (errors, CSP violations, uncaught exceptions) and failed loads."""
    problems = []
    for line in stderr.splitlines():
        if "CONSOLE" in line or "Uncaught" in line:
            problems.append(line)
        elif "ERR_" in line and (page.name in line or "file://" in line):
            problems.append(line)
    return problems


def test_page_renders_in_headless_chromium_without_errors(small, chromium, tmp_path):
    document, page = small
    path = tmp_path / "trace.html"
    path.write_text(page, encoding="utf-8")
    url = path.as_uri()

    dumped = run_browser(chromium, tmp_path / "profile-dom", "--dump-dom", url)
    assert browser_problems(dumped.stderr, path) == []
    dom = dumped.stdout
    assert re.search(r'<svg class="sankey"[^>]*data-ready="1"', dom), "the page's script ran to its end"
    assert dom.count('class="band edge"') == len(document["edges"])
    assert dom.count('class="band sink spent"') == len({(s["holder"], s["category"]) for s in document["spends"]})
    assert "&lt;script&gt;alert" in dom and "<script>alert" not in dom

    shot = tmp_path / "trace.png"
    shown = run_browser(chromium, tmp_path / "profile-shot", f"--screenshot={shot}", "--window-size=1200,900",
                        "--hide-scrollbars", url + "#flow")
    assert browser_problems(shown.stderr, path) == []
    width, height, pixels = decode_png(shot.read_bytes())
    assert (width, height) == (1200, 900)
    assert shot.stat().st_size > 20_000, "a blank screenshot compresses to almost nothing"
    assert len(pixels) > 200, "the screenshot has the diagram's many colours"
    for colour in ("#1f5f8b", "#2a9d8f", "#c77d1a", "#2e7d32"):  # depth 0, 1, 2 and the spends sink
        assert bytes.fromhex(colour[1:]) in pixels, f"no {colour} node painted"


def decode_png(data: bytes) -> tuple[int, int, set[bytes]]:
    """Width, height and the set of RGB colours of an 8-bit, non-interlaced RGB(A) PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, chunks, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            chunks.append(body)
    assert header is not None
    width, height, depth, colour_type, _, _, interlace = header
    assert depth == 8 and colour_type in (2, 6) and interlace == 0, header
    step = 3 if colour_type == 2 else 4
    raw, stride = zlib.decompress(b"".join(chunks)), width * step
    previous, colours = bytearray(stride), set()
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        _unfilter(kind, line, previous, step)
        colours.update(bytes(line[i:i + 3]) for i in range(0, stride, step))
        previous = line
    return width, height, colours


def _unfilter(kind: int, line: bytearray, previous: bytearray, step: int) -> None:
    """Undo one scanline's PNG filter in place (RFC 2083 §6)."""
    if kind == 1:
        for i in range(step, len(line)):
            line[i] = (line[i] + line[i - step]) & 255
    elif kind == 2:
        line[:] = bytes((a + b) & 255 for a, b in zip(line, previous))
    elif kind == 3:
        for i in range(len(line)):
            line[i] = (line[i] + ((line[i - step] if i >= step else 0) + previous[i]) // 2) & 255
    elif kind == 4:
        for i in range(len(line)):
            a, b = (line[i - step], previous[i - step]) if i >= step else (0, 0)
            up = previous[i]
            p = a + up - b
            pa, pb, pc = abs(p - a), abs(p - up), abs(p - b)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else up if pb <= pc else b)) & 255
    else:
        assert kind == 0, kind
