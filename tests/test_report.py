import base64
import csv
import io
import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser

import numpy as np
import pytest
from PIL import Image

from analysis.blur import ap_against_prob, blur_study
from analysis.cli import main as cli_main
from analysis.figures import report_figures
from analysis.report import (
    _fmt,
    explain,
    gallery_items,
    load_results,
    render_html,
    summarise_evaluation,
    write_report,
)

GENERATORS = ["progan", "crn", "san", "stargan"]
PROBS = (0.0, 0.1, 0.5)


def _evaluation(rng):
    rows = []
    for p in PROBS:
        for seed in (0, 1):
            for g in GENERATORS:
                # SAN loses AP with augmentation, the others barely move.
                base = 0.95 if g != "san" else 0.85 - 0.4 * p
                ap = float(np.clip(base + rng.normal(scale=0.01), 0, 1))
                tn, fn = rng.integers(5, 10, size=2)
                rows.append({
                    "detector": f"cnn p={p:g} seed {seed}", "setting": f"cnn p={p:g}",
                    "family": "cnn", "prob": p, "seed": seed, "generator": g,
                    "ap": ap, "auc": ap - 0.01, "acc": 0.8, "acc_real": tn / 10,
                    "acc_fake": 1 - fn / 10, "best_acc": 0.9, "n_real": 10,
                    "n_fake": 10,
                    "confusion": [[int(tn), int(10 - tn)], [int(fn), int(10 - fn)]],
                })
    return rows


def _profiles(rng, n, freqs, bump=None):
    base = (freqs + 0.02) ** -2.0 * np.exp(0.3 * rng.normal(size=(n, freqs.size)))
    if bump is not None:
        base[:, np.abs(freqs - bump) < 0.04] *= 3.0
    return base


def _results(folder, rng):
    evaluation = _evaluation(rng)
    freqs = np.linspace(0.01, 0.5, 30)
    bumps = {"progan": 0.25, "crn": 0.1, "san": 0.44, "stargan": 0.3}
    study = blur_study(
        {g: (_profiles(rng, 30, freqs), _profiles(rng, 30, freqs, b))
         for g, b in bumps.items()}, freqs, probs=(0.1, 0.5))

    # Gallery images: tiny PNGs with distinct colours.
    predictions = []
    for g in GENERATORS:
        for i in range(6):
            path = os.path.join(folder, "images", g, f"{i}.png")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            arr = rng.integers(0, 256, size=(24, 32, 3), dtype=np.uint8)
            Image.fromarray(arr).save(path)
            predictions.append({"generator": g, "path": path, "label": i % 2,
                                "score": float(rng.uniform())})
    results = {
        "summary": {"images per class": 10, "mode": "test"},
        "generators": GENERATORS,
        "evaluation": evaluation,
        "blur_study": study.to_dict(),
        "ap_vs_prob": ap_against_prob(evaluation),
        "peaks": [{"generator": g, "class": c, "factor": 2, "x2": 3.5, "x4": 1.0,
                   "x8": 0.25, "jpeg_grid": 0.01} for g in GENERATORS
                  for c in ("real", "fake")],
        "distances": {"names": GENERATORS, "matrix": np.eye(4)[::-1].tolist(),
                      "method": "test"},
        "galleries": {
            "detector": "cnn p=0.5 seed 0",
            "misclassified": gallery_items(predictions, per_generator=3),
            "sorted": gallery_items(predictions, mode="sorted", max_items=4),
        },
        "notes": ["A note with <html> characters & more."],
    }
    results["figures"] = report_figures(results, folder)
    return results


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("report"))
    rng = np.random.default_rng(0)
    results = _results(folder, rng)
    page = write_report(folder, results, title="Test report")
    return folder, page, results


class _Tables(HTMLParser):
    """Collect every table with an id as a list of rows of cell texts."""

    def __init__(self):
        super().__init__()
        self.tables, self._id, self._row, self._cell = {}, None, None, None
        self.images, self.external = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and "id" in attrs:
            self._id = attrs["id"]
            self.tables[self._id] = []
        elif tag == "tr" and self._id:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = ""
        if tag == "img":
            self.images.append(attrs.get("src", ""))
        for key in ("src", "href"):
            value = attrs.get(key) or ""
            if value and not value.startswith(("data:", "#")):
                self.external.append(value)

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(self._cell.strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[self._id].append(self._row)
            self._row = None
        elif tag == "table":
            self._id = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def _parse(page):
    with open(page, encoding="utf-8") as fh:
        text = fh.read()
    parser = _Tables()
    parser.feed(text)
    return text, parser


def test_report_files_exist_and_page_is_self_contained(report_dir):
    folder, page, _ = report_dir
    for name in ("report.html", "results.json", "evaluation.csv",
                 "evaluation_summary.csv", "blur_study.csv", "peaks.csv"):
        assert os.path.getsize(os.path.join(folder, name)) > 0, name
    text, parser = _parse(page)
    assert "<script" not in text.lower()
    assert "<link" not in text.lower()
    assert not re.search(r"url\(\s*['\"]?(?!data:)", text)
    assert parser.external == []
    # Every figure and thumbnail is an embedded PNG that decodes.
    assert len(parser.images) >= 6 + 4 * 3
    for src in parser.images:
        assert src.startswith("data:image/png;base64,")
        img = Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1])))
        img.load()
        assert img.size[0] > 0
    # Escaping: the note's markup shows as text.
    assert "&lt;html&gt; characters &amp; more" in text


def test_html_tables_match_json_and_csv(report_dir):
    folder, page, _ = report_dir
    _, parser = _parse(page)
    res = load_results(folder)
    summary = res["evaluation_summary"]
    assert len(summary) == len(PROBS) * len(GENERATORS)

    # Pivot table of AP: one row per generator, one column per setting.
    head, *rows = parser.tables["ap_table"]
    settings = [h.removeprefix("AP ") for h in head[1:]]
    lookup = {(r["setting"], r["generator"]): r for r in summary}
    assert [r[0] for r in rows] == GENERATORS
    for row in rows:
        for s, cell in zip(settings, row[1:], strict=True):
            assert cell == _fmt(lookup[(s, row[0])]["ap"])

    # Full table: every metric of every (setting, generator).
    head, *rows = parser.tables["summary_table"]
    keys = ["setting", "generator", "n_seeds", "ap", "ap_std", "auc", "acc",
            "acc_real", "acc_fake", "best_acc"]
    assert len(rows) == len(summary)
    for row, entry in zip(rows, summary, strict=True):
        assert row == [_fmt(entry[k]) for k in keys]

    # The means are the means of the per-seed rows.
    for entry in summary:
        seeds = [r["ap"] for r in res["evaluation"]
                 if r["setting"] == entry["setting"]
                 and r["generator"] == entry["generator"]]
        assert entry["ap"] == pytest.approx(np.mean(seeds), abs=1e-12)

    # CSV keeps full precision: equal to the JSON numbers exactly.
    with open(os.path.join(folder, "evaluation_summary.csv"), encoding="utf-8") as fh:
        csv_rows = list(csv.DictReader(fh))
    for row, entry in zip(csv_rows, summary, strict=True):
        assert (row["setting"], row["generator"]) == (entry["setting"],
                                                      entry["generator"])
        for k in ("ap", "ap_std", "auc", "acc_real", "acc_fake"):
            assert float(row[k]) == entry[k]
    with open(os.path.join(folder, "evaluation.csv"), encoding="utf-8") as fh:
        per_seed = list(csv.DictReader(fh))
    assert [float(r["ap"]) for r in per_seed] == [r["ap"] for r in res["evaluation"]]


def test_blur_table_matches_json_and_csv(report_dir):
    folder, page, _ = report_dir
    _, parser = _parse(page)
    res = load_results(folder)
    gens = res["blur_study"]["generators"]
    head, *rows = parser.tables["blur_table"]
    assert head[4:6] == ["removed p=0.1", "removed p=0.5"]
    with open(os.path.join(folder, "blur_study.csv"), encoding="utf-8") as fh:
        csv_rows = {r["generator"]: r for r in csv.DictReader(fh)}
    for row in rows:
        d = gens[row[0]]
        assert row[1] == _fmt(d["peak_separability"])
        assert row[2] == _fmt(d["peak_frequency"])
        assert row[4] == _fmt(d["removed"]["0.1"])
        assert row[5] == _fmt(d["removed"]["0.5"])
        assert float(csv_rows[row[0]]["removed_p0.5"]) == d["removed"]["0.5"]
        # The AP columns come from ap_vs_prob.
        ap = res["ap_vs_prob"][row[0]]
        assert row[-1] == _fmt(ap["mean"][ap["probs"].index(0.5)])


def test_explanation_reports_the_computed_numbers(report_dir):
    folder, page, _ = report_dir
    text, _ = _parse(page)
    res = load_results(folder)
    paras = res["explanation"]
    removed = res["blur_study"]["generators"]["san"]["removed"]["0.5"]
    first = paras[0]["text"]
    # SAN's bump sits at 0.44 cycles/px, the highest of the four: largest share.
    assert "the largest share of all 4 generators" in first
    assert f"{100 * removed:.1f} %" in first
    assert f"{100 * removed:.1f} %" in text
    # Sigma ~ U[0, 3]: a blurred image keeps half the power only below about
    # 0.09 cycles/px (0.47 is kept at 0.1 on average, 0.77 at 0.05).
    assert "keeps half of it only below 0.09" in first
    verdicts = [p["verdict"] for p in paras if p["verdict"]]
    # SAN has the lowest AP and loses 0.2 with augmentation: both agree.
    assert verdicts[:2] == ["agrees", "agrees"]


def _ap(mean_by_prob, std=0.01, n=3):
    out = {}
    for g, means in mean_by_prob.items():
        out[g] = {"probs": [0.0, 0.1, 0.5], "mean": list(means),
                  "std": [std] * 3, "n": [n] * 3}
    return {"ap_vs_prob": out}


def test_explanation_says_when_data_contradict_the_paper():
    res = _ap({"san": (0.80, 0.95, 0.99), "a": (0.9, 0.7, 0.9), "b": (0.9, 0.7, 0.9),
               "c": (0.9, 0.7, 0.9)})
    verdicts = {p["text"].split(".")[0]: p["verdict"] for p in explain(res)
                if p["verdict"]}
    assert verdicts["Paper: SAN is one of the hardest test sets (AP 63"] \
        == "contradicts"
    assert verdicts["Paper: augmentation hurts SAN"] == "contradicts"
    assert verdicts["Paper: p = 0"] == "contradicts"


def test_explanation_is_inconclusive_within_the_spread_or_with_one_seed():
    within = _ap({"san": (0.80, 0.79, 0.78), "x": (1, 1, 1), "y": (1, 1, 1)},
                 std=0.05)
    one_seed = _ap({"san": (0.80, 0.7, 0.6), "x": (1, 1, 1), "y": (1, 1, 1)},
                   std=0.0, n=1)
    for res, phrase in ((within, "within the spread"), (one_seed, "one seed")):
        para = next(p for p in explain(res) if "augmentation hurts" in p["text"])
        assert para["verdict"] == "inconclusive"
        assert phrase in para["text"]
    assert "not available" in explain({})[0]["text"]


def test_summarise_evaluation_and_gallery_selection():
    rows = [{"setting": "s", "generator": "g", "ap": a, "auc": 0.5, "prob": 0.1}
            for a in (0.5, 0.7, 0.9)]
    out = summarise_evaluation(rows)[0]
    assert out["ap"] == pytest.approx(0.7)
    assert out["ap_std"] == pytest.approx(0.2)
    assert out["acc"] is None and out["n_seeds"] == 3

    preds = [{"generator": "g", "path": f"{i}.png", "label": lab, "score": s}
             for i, (lab, s) in enumerate([(0, 0.9), (0, 0.6), (1, 0.05), (1, 0.8),
                                           (0, 0.1)])]
    wrong = gallery_items(preds, per_generator=2)["g"]
    assert [e["path"] for e in wrong] == ["2.png", "0.png"]
    ordered = gallery_items(preds, mode="sorted", max_items=3)["g"]
    assert [e["score"] for e in ordered] == [0.05, 0.6, 0.9]
    assert ordered[-1]["of"] == 5
    with pytest.raises(ValueError, match="mode"):
        gallery_items(preds, mode="best")


def test_cli_rerenders_from_results_json(report_dir, tmp_path, capsys):
    folder, _, _ = report_dir
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    res = json.loads((copy / "results.json").read_text())
    res["title"] = "Renamed report"
    (copy / "results.json").write_text(json.dumps(res))
    os.remove(copy / "report.html")
    assert cli_main(["report", str(copy)]) == 0
    page = (copy / "report.html").read_text()
    assert "<title>Renamed report</title>" in page
    assert str(copy / "report.html") in capsys.readouterr().out
    # Tables and figures are rebuilt from the stored numbers and files.
    assert page.count("data:image/png;base64,") >= 6

    assert cli_main(["report", str(tmp_path / "nowhere")]) == 1
    assert "results.json" in capsys.readouterr().err


def test_missing_images_render_as_placeholders(tmp_path):
    res = {"figures": {"x": {"path": "figures/none.png", "caption": "gone"}},
           "galleries": {"detector": "d", "misclassified": {"g": [
               {"path": "nope.png", "label": 1, "score": 0.1, "rank": 0, "of": 1}]}}}
    page = render_html(res, base_dir=str(tmp_path))
    assert "figures/none.png not found" in page
    assert '<div class="missing">missing</div>' in page


# --------------------------------------------------------------------- Chromium

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

# A page's console output reaches Chromium's stderr log as
# '[pid:tid:time:INFO:CONSOLE:<line>] "<message>", source: <url> (<line>)'
# (console.error included, uncaught exceptions as "Uncaught ..."). Chromium's own
# start-up noise in a container (D-Bus, VA-API, sandbox warnings, even at ERROR
# level) never carries the CONSOLE tag, so only CONSOLE lines and "Uncaught"
# count as errors of the page.
_CONSOLE = re.compile(r":CONSOLE[:(\]]|Uncaught")


def _render(html_path, tmp_path):
    shot = tmp_path / "shot.png"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
           "--disable-quic", "--no-first-run", "--disable-background-networking",
           "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}",
           "--window-size=1280,1800", "--hide-scrollbars",
           "--enable-logging=stderr", "--v=0", f"file://{os.path.abspath(html_path)}"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    console = [line for line in proc.stderr.splitlines() if _CONSOLE.search(line)]
    return proc, shot, console


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed "
                    "(Debian: apt-get install chromium)")
def test_chromium_renders_report_without_console_errors(report_dir, tmp_path):
    _, page, _ = report_dir
    proc, shot, console = _render(page, tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert console == []
    pixels = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert pixels.shape == (1800, 1280)
    # A blank page has zero variance; the report's header, tables and figures
    # give a standard deviation of tens of grey levels.
    assert pixels.std() > 20


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed "
                    "(Debian: apt-get install chromium)")
def test_chromium_console_filter_catches_page_errors(tmp_path):
    # Control for the test above: a page that fails must be caught.
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><html><body><p>x</p><script>"
                   "throw new Error('broken page')</script></body></html>")
    _, _, console = _render(bad, tmp_path)
    assert any("broken page" in line for line in console)
