"""The whole comparison: zoo, spectra, detectors, evaluation, blur study, report.

:func:`run_comparison` is the experiment behind ``examples/compare_generators.py``.
On its own data (the default) it

1. builds the simulated generator zoo from the bundled photos with the shipped
   weights (:func:`analysis.zoo.build_zoo`): ProGAN-like train and validation
   images, and a test set of every family (reused when already built);
2. computes every family's spectra, fingerprints, profiles and peak table
   (:func:`analysis.compare.compare_generators`);
3. trains small CNNDetection ResNets on the ProGAN-like train split with the
   paper's blur + JPEG augmentation at each probability ``p`` and seed;
4. fits the spectral detectors on the same split, keeps the best on the
   validation split, and fits the fusion of it with one CNN on the validation
   split;
5. evaluates every detector on every family's test images
   (:mod:`analysis.metrics`);
6. runs the blur study (:mod:`analysis.blur`): where each family's fakes differ
   from its reals, what share of that the augmentation removes, and AP against
   ``p`` with the spread over seeds;
7. draws the figures and writes the report (:mod:`analysis.report`).

With ``data`` (a test set in the CNNDetection layout) and ``weights`` (a
checkpoint such as the official ``blur_jpg_prob0.5.pth``), the same analysis runs
on real data: no training, spectra and peaks of the real sets, the evaluation of
the given weights, and the band analysis.
"""

import contextlib
import dataclasses
import json
import os
import sys
import time

import numpy as np

__all__ = ["ComparisonRun", "RunSettings", "run_comparison"]


@dataclasses.dataclass(frozen=True)
class RunSettings:
    """Sizes of a run on the simulated zoo.

    Attributes
    ----------
    size : int
        Side of the zoo's images, pixels.
    n_train, n_val, n_test : int
        Images per class: ProGAN-like train and validation images, test images
        of every family.
    arch : str
        CNN architecture (:func:`detectors.list_detectors`).
    crop : int
        Random training crop, pixels (the paper: 224 of 256).
    batch_size, epochs, lr : int, int, float
        CNN training; the paper's Adam and BCE, learning rate divided by 10
        after ``patience`` epochs without progress, at most ``epochs`` epochs.
    patience : int
        Epochs without a better validation accuracy before the rate drops.
    spectral : tuple of str
        Spectral detectors tried (names in :mod:`detectors.spectral`).
    """

    size: int = 128
    n_train: int = 300
    n_val: int = 50
    n_test: int = 60
    arch: str = "resnet_tiny"
    crop: int = 64
    batch_size: int = 32
    epochs: int = 10
    lr: float = 2e-3
    patience: int = 2
    spectral: tuple = ("DurallDetector", "FrankDetector", "DzanicDetector",
                       "PeakDetector")


DEFAULT = RunSettings()
QUICK = RunSettings(size=64, n_train=24, n_val=10, n_test=6, crop=48,
                    batch_size=16, epochs=1, patience=1,
                    spectral=("DurallDetector", "PeakDetector"))


@dataclasses.dataclass
class ComparisonRun:
    """Outcome of :func:`run_comparison`.

    Attributes
    ----------
    out_dir : str
        Output folder.
    report : str
        Path of ``report.html``.
    results : dict
        Everything the report shows (as written to ``results.json``).
    seconds : float
        Wall time of the run.
    """

    out_dir: str
    report: str
    results: dict
    seconds: float


class _Stages:
    """Stage timer and progress messages on stderr."""

    def __init__(self, progress, total):
        self.progress, self.total, self.done = progress, total, 0
        self.times = {}
        self._name, self._start = None, None

    def start(self, key, message):
        self.stop()
        self.done += 1
        self._name, self._start = key, time.perf_counter()
        if self.progress:
            print(f"[{self.done}/{self.total}] {message}", file=sys.stderr,
                  flush=True)

    def stop(self):
        if self._name is not None:
            self.times[self._name] = round(time.perf_counter() - self._start, 2)
            self._name = None


@contextlib.contextmanager
def _torch_threads(n):
    """Run torch on ``n`` intra-op threads inside the block."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _metric_rows(table, *, detector, setting, family, prob=None, seed=None):
    """Per-generator rows of a MetricsTable in the report's layout."""
    rows = []
    for r in table.rows:
        if r["testset"] in ("mean", "all"):
            continue
        rows.append({
            "detector": detector, "setting": setting, "family": family,
            "prob": prob, "seed": seed, "generator": r["testset"],
            "ap": r["avg precision"], "auc": r["roc_auc"], "acc": r["accuracy"],
            "acc_real": r["real_acc"], "acc_fake": r["fake_acc"],
            "best_acc": r["best_acc"], "n_real": r["n_real"], "n_fake": r["n_fake"],
            "confusion": [[r["tn"], r["fp"]], [r["fn"], r["tp"]]],
        })
    return rows


def _evaluate(scores, samples, name, metrics_dir, **row):
    from analysis.metrics import evaluate_scores

    scores = np.asarray(scores, dtype=np.float64)
    ok = np.isfinite(scores)
    labels = np.array([s.label for s in samples])[ok]
    gens = np.array([s.generator for s in samples])[ok]
    table = evaluate_scores(labels, scores[ok], gens)
    safe = name.replace(" ", "_").replace("=", "").replace("/", "_")
    table.to_csv(os.path.join(metrics_dir, f"{safe}.csv"), overwrite=True)
    table.to_json(os.path.join(metrics_dir, f"{safe}.json"), overwrite=True)
    return _metric_rows(table, detector=name, **row)


def _build_zoo(zoo_dir, settings, seed, progress, families):
    from analysis.zoo import FAMILIES, build_zoo

    train_root = os.path.join(zoo_dir, "progan_train")
    test_root = os.path.join(zoo_dir, "families")
    build_zoo(train_root, families=["progan"], size=settings.size,
              n_per_split={"train": settings.n_train, "val": settings.n_val},
              seed=seed, progress=progress)
    build_zoo(test_root, families=list(families or FAMILIES), size=settings.size,
              n_per_split={"test": settings.n_test}, seed=seed, progress=progress)
    return train_root, os.path.join(test_root, "test")


def _train_config(settings, prob, seed, out_dir):
    from detectors.train import TrainConfig

    return TrainConfig(
        out_dir=out_dir, arch=settings.arch, blur_prob=prob, jpeg_prob=prob,
        load_size=None, crop_size=settings.crop, batch_size=settings.batch_size,
        lr=settings.lr, max_epochs=settings.epochs, patience=settings.patience,
        min_lr=settings.lr / 100 * 0.999, num_workers=0, seed=seed, device="cpu",
    )


def _trained(cfg):
    """Whether ``cfg.out_dir`` holds a finished run of the same settings."""
    from detectors.train import CONFIG_NAME

    best = os.path.join(cfg.out_dir, "best.pth")
    config_path = os.path.join(cfg.out_dir, CONFIG_NAME)
    if not (os.path.isfile(best) and os.path.isfile(config_path)):
        return False
    with open(config_path, encoding="utf-8") as fh:
        stored = json.load(fh)
    return all(stored.get(k) == v for k, v in cfg.to_dict().items())


def _train_cnn(settings, prob, seed, out_dir, train, val):
    """Train one CNN unless an identical run is already in ``out_dir``."""
    from detectors.train import train_detector

    cfg = _train_config(settings, prob, seed, out_dir)
    if _trained(cfg):
        return
    if os.path.isdir(out_dir):
        for name in os.listdir(out_dir):
            os.remove(os.path.join(out_dir, name))
    train_detector(cfg, train_samples=train, val_samples=val, progress=False)


def _train_queue(spec_path):
    """Worker process: train the jobs listed in a JSON file, one after another."""
    import torch

    from detectors import list_dataset

    torch.set_num_threads(1)
    with open(spec_path, encoding="utf-8") as fh:
        spec = json.load(fh)
    settings = RunSettings(**{k: tuple(v) if isinstance(v, list) else v
                              for k, v in spec["settings"].items()})
    train = list_dataset(spec["root"], split="train", generators=["progan"])
    val = list_dataset(spec["root"], split="val", generators=["progan"])
    for prob, seed, folder in spec["jobs"]:
        _train_cnn(settings, prob, seed, folder, train, val)


def _train_all(settings, jobs, train_root, train, val, workers):
    """Train every ``(prob, seed, folder)`` job, in ``workers`` processes.

    Each process runs torch on one thread. They are fresh interpreters started
    with ``python -c``: no fork after torch's thread pool exists, and the
    calling script is not imported again (as ``spawn`` would do).
    """
    import subprocess

    todo = [job for job in jobs
            if not _trained(_train_config(settings, job[0], job[1], job[2]))]
    if workers <= 1 or len(todo) <= 1:
        with _torch_threads(1):
            for prob, seed, folder in todo:
                _train_cnn(settings, prob, seed, folder, train, val)
        return
    package_root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [package_root, *filter(None, [env.get("PYTHONPATH")])])
    code = ("import sys; from analysis.experiment import _train_queue; "
            "_train_queue(sys.argv[1])")
    folder = os.path.dirname(todo[0][2])
    os.makedirs(folder, exist_ok=True)
    procs = []
    for i in range(min(workers, len(todo))):
        spec_path = os.path.join(folder, f"queue{i}.json")
        with open(spec_path, "w", encoding="utf-8") as fh:
            json.dump({"settings": dataclasses.asdict(settings), "root": train_root,
                       "jobs": todo[i::workers]}, fh)
        log_path = os.path.join(folder, f"queue{i}.log")
        with open(log_path, "w", encoding="utf-8") as log:
            proc = subprocess.Popen([sys.executable, "-c", code, spec_path],
                                    stdout=log, stderr=subprocess.STDOUT, env=env)
        procs.append((proc, log_path))
    failed = []
    for proc, log_path in procs:
        if proc.wait() != 0:
            with open(log_path, encoding="utf-8") as fh:
                failed.append(fh.read()[-2000:])
    if failed:
        raise RuntimeError("CNN training failed in a worker process:\n"
                           + "\n".join(failed))


def _score(model, samples, cfg):
    from detectors import score_images

    out = score_images(model, [s.path for s in samples], cfg=cfg, batch_size=64,
                       device="cpu", precision="fp32", progress=False,
                       on_error="ignore")
    return out.probabilities, out.logits


def _spectral_detector(name):
    import detectors

    return getattr(detectors, name)()


def _fit_spectral(settings, train, val, progress):
    """Fit each spectral detector on train, keep the best AP on val."""
    from sklearn.metrics import average_precision_score

    x_train = [s.path for s in train]
    y_train = np.array([s.label for s in train])
    x_val = [s.path for s in val]
    y_val = np.array([s.label for s in val])
    scores = {}
    fitted = {}
    for name in settings.spectral:
        det = _spectral_detector(name).fit(x_train, y_train)
        proba = det.predict_proba(x_val)[:, 1]
        scores[name] = float(average_precision_score(y_val, proba))
        fitted[name] = det
    best = max(scores, key=lambda k: (scores[k], k))
    return best, fitted[best], scores


def _galleries(samples, probs, detector):
    from .report import gallery_items

    preds = [{"generator": s.generator, "path": s.path, "label": s.label,
              "score": float(p)} for s, p in zip(samples, probs, strict=True)
             if np.isfinite(p)]
    return {"detector": detector,
            "misclassified": gallery_items(preds, per_generator=8),
            "sorted": gallery_items(preds, mode="sorted", max_items=20)}


def run_comparison(out_dir, *, data=None, weights=None, quick=False, seeds=None,
                   probs=(0.0, 0.1, 0.5), progress=True, seed=0, settings=None,
                   families=None, max_images=None, workers=None):
    """Run the generator comparison and write the report.

    Parameters
    ----------
    out_dir : str or os.PathLike
        Output folder: ``report.html``, ``results.json``, CSV tables, figures,
        spectra, metrics, checkpoints and (zoo mode) the zoo itself under
        ``zoo/``, reused by later runs with the same settings.
    data : str or os.PathLike, optional
        A test set in the CNNDetection layout (generator folders with
        ``0_real`` and ``1_fake``). Default: the simulated zoo.
    weights : str or os.PathLike, optional
        With ``data``: a detector checkpoint to evaluate (e.g. the official
        ``blur_jpg_prob0.5.pth``).
    quick : bool, optional
        A tiny run for tests (small images, a few of each, one epoch).
    seeds : sequence of int, optional
        Seeds of the CNN trainings; default (0, 1, 2) for a full run, (0,)
        quick.
    probs : sequence of float, optional
        Blur/JPEG augmentation probabilities of the CNN trainings.
    progress : bool, optional
        Print stage messages and progress bars on stderr.
    seed : int, optional
        Seed of the zoo (photo split, crops, generator noise).
    settings : RunSettings, optional
        Sizes of a zoo run; default :data:`DEFAULT` or :data:`QUICK`.
    families : sequence of str, optional
        Zoo families in the test set (default all twelve); the detectors are
        always trained on the ProGAN-like family.
    max_images : int, optional
        With ``data``: at most this many images per generator and class.
    workers : int, optional
        Processes for the spectra and the CNN trainings (default every core);
        each training process runs torch on one thread.

    Returns
    -------
    ComparisonRun

    Raises
    ------
    ValueError
        If ``weights`` is given without ``data``, or ``probs`` is empty.

    Notes
    -----
    Zoo mode, defaults: 128 px images; 300 + 300 ProGAN-like train images, 50 +
    50 validation, 60 + 60 test images per family; "resnet_tiny" trained on 64
    px random crops (batch 32, Adam from 2e-3 divided by 10 after 2 epochs
    without progress, at most 10 epochs), scored on the full 128 px image;
    blur and JPEG each with probability p, sigma uniform in [0, 3], quality
    30..100, as two independent draws (the paper's augmentation); seeds 0, 1
    and 2. On two CPU cores it takes three to five minutes, half of it the nine
    trainings; the zoo is built once and reused by later runs. These are far
    smaller networks, images and sets than the paper's; the report's numbers
    describe this simulation, and the report says where they agree with the
    paper and where not.

    The fusion stacks the CNN trained at p = 0.1 (the largest p when 0.1 is not
    run; first seed) with the best spectral detector, fitted on the validation
    split; a note in the report compares its pooled test AP with its parts'.
    """
    t0 = time.perf_counter()
    out_dir = os.fspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    if weights is not None and data is None:
        raise ValueError("weights needs data: give the test set it is evaluated on")
    probs = tuple(float(p) for p in probs)
    if not probs:
        raise ValueError("probs must hold at least one probability")
    if data is not None:
        return _run_on_data(out_dir, data, weights, quick, progress, max_images, t0)

    settings = settings or (QUICK if quick else DEFAULT)
    seeds = tuple(seeds) if seeds is not None else ((0,) if quick else (0, 1, 2))
    return _run_on_zoo(out_dir, settings, seeds, probs, progress, seed, t0, quick,
                       families, workers)


def _run_on_zoo(out_dir, settings, seeds, probs, progress, seed, t0, quick,
                families, workers):
    from detectors import FusionDetector, list_dataset, load_checkpoint
    from detectors.preprocess import PreprocessConfig

    from .blur import ap_against_prob, blur_study
    from .compare import _check_workers, compare_generators
    from .figures import report_figures
    from .report import write_report

    stages = _Stages(progress, 7)
    metrics_dir = os.path.join(out_dir, "metrics")
    os.makedirs(metrics_dir, exist_ok=True)

    stages.start("zoo", "zoo: building the simulated generator sets "
                 "(reused if present)")
    train_root, test_root = _build_zoo(os.path.join(out_dir, "zoo"), settings, seed,
                                       progress, families)
    train = list_dataset(train_root, split="train", generators=["progan"])
    val = list_dataset(train_root, split="val", generators=["progan"])
    test = list_dataset(test_root)

    stages.start("spectra", "spectra: residual spectra, fingerprints, "
                 "profiles, peaks")
    comparison = compare_generators(test_root, progress=progress, workers=workers)
    comparison.save(os.path.join(out_dir, "spectra"))

    stages.start("cnn", f"CNN: training {len(probs) * len(seeds)} detectors "
                 f"(p = {', '.join(f'{p:g}' for p in probs)}; seeds {list(seeds)})")
    eval_cfg = PreprocessConfig(crop=None)
    evaluation, cnn_scores, models = [], {}, {}
    # One thread: the tiny network gains nothing from two, and on a loaded
    # machine two spinning OpenMP threads made a step 50 times slower.
    jobs = [(p, s, os.path.join(out_dir, "models", f"cnn_p{p:g}_s{s}"))
            for p in probs for s in seeds]
    _train_all(settings, jobs, train_root, train, val, _check_workers(workers))
    with _torch_threads(1):
        for p, s, folder in jobs:
            model = load_checkpoint(os.path.join(folder, "best.pth"))
            models[(p, s)] = model
            proba, _ = _score(model, test, eval_cfg)
            cnn_scores[(p, s)] = proba
            evaluation += _evaluate(proba, test, f"cnn p={p:g} seed {s}",
                                    metrics_dir, setting=f"cnn p={p:g}",
                                    family="cnn", prob=p, seed=s)

    stages.start("spectral", "spectral detectors and fusion (fitted on the "
                 "ProGAN-like splits)")
    best_name, best_det, val_aps = _fit_spectral(settings, train, val, progress)
    x_test = [t.path for t in test]
    spec_proba = best_det.predict_proba(x_test)[:, 1]
    evaluation += _evaluate(spec_proba, test, f"spectral {best_name}", metrics_dir,
                            setting=f"spectral {best_name}", family="spectral")
    # The fusion stacks the paper's released setting, p = 0.1, when it was run.
    p_fuse = 0.1 if 0.1 in probs else max(probs)
    s_fuse = seeds[0]
    with _torch_threads(1):
        _, val_logits = _score(models[(p_fuse, s_fuse)], val, eval_cfg)
        _, test_logits = _score(models[(p_fuse, s_fuse)], test, eval_cfg)
    fusion = FusionDetector(spectral=_spectral_detector(best_name),
                            cv=min(5, settings.n_val), random_state=0)
    y_val = np.array([v.label for v in val])
    fusion.fit([v.path for v in val], y_val, cnn_logits=val_logits)
    fused = fusion.predict_proba(x_test, cnn_logits=test_logits)[:, 1]
    fusion_name = f"fusion cnn p={p_fuse:g} + {best_name}"
    evaluation += _evaluate(fused, test, fusion_name, metrics_dir,
                            setting=fusion_name, family="fusion")
    fusion_note = _fusion_check(test, test_logits, spec_proba, fused,
                                cnn_name=f"CNN p={p_fuse:g} seed {s_fuse}",
                                spectral_name=best_name)

    stages.start("blur", "blur study: band discrimination, removed "
                 "evidence, AP against p")
    profiles, freqs = comparison.band_profiles()
    study_probs = tuple(p for p in probs if p > 0) or (0.1, 0.5)
    study = blur_study(profiles, freqs, probs=study_probs)
    cnn_rows = [r for r in evaluation if r["family"] == "cnn"]

    stages.start("figures", "figures")
    results = {
        "summary": {
            "mode": "simulated zoo" + (" (quick)" if quick else ""),
            "image size": f"{settings.size} px",
            "images per class": (f"train {settings.n_train}, val {settings.n_val} "
                                 f"(progan); test {settings.n_test} per family"),
            "CNN": (f"{settings.arch}, {settings.crop} px random crops, batch "
                    f"{settings.batch_size}, at most {settings.epochs} epochs; "
                    "scored on full images"),
            "augmentation probabilities": ", ".join(f"{p:g}" for p in probs),
            "seeds": ", ".join(str(s) for s in seeds),
            "spectral detectors (val AP)": ", ".join(
                f"{k} {v:.3f}" for k, v in val_aps.items()),
            "fusion weights (CNN, spectral)": ", ".join(
                f"{w:.2f}" for w in fusion.weights_),
            "zoo": os.path.relpath(os.path.join(out_dir, "zoo"), out_dir),
        },
        "generators": comparison.generators,
        "evaluation": evaluation,
        "blur_study": study.to_dict(),
        "ap_vs_prob": ap_against_prob(cnn_rows),
        "galleries": _galleries(test, cnn_scores[(p_fuse, s_fuse)],
                                f"cnn p={p_fuse:g} seed {s_fuse}"),
        "notes": [
            "Simulated data: small generators trained on bundled photos stand in "
            "for the paper's generators, and a small ResNet on small crops for "
            "its ResNet-50; compare trends, not absolute numbers.",
            fusion_note,
        ],
        **comparison.to_results(),
    }
    figures = comparison.plot(out_dir)
    figures.update(report_figures(_without_spectra(results), out_dir,
                                  main_setting=f"cnn p={p_fuse:g}"))
    results["figures"] = figures

    stages.start("report", "report")
    stages.stop()
    results["summary"]["stage seconds"] = ", ".join(
        f"{k} {v:.0f}" for k, v in stages.times.items())
    seconds = time.perf_counter() - t0
    results["summary"]["total seconds"] = round(seconds, 1)
    report = write_report(out_dir, results,
                          title="Why super-resolution evades a blur-trained "
                                "detector: a simulated generator zoo")
    return ComparisonRun(out_dir=out_dir, report=report,
                         results=_reload(out_dir), seconds=seconds)


def _fusion_check(test, cnn_logits, spectral_proba, fused, *, cnn_name,
                  spectral_name):
    # Pooled over every test family: data the fusion was not fitted on.
    from sklearn.metrics import average_precision_score

    y = np.array([t.label for t in test])
    aps = {cnn_name: average_precision_score(y, cnn_logits),
           spectral_name: average_precision_score(y, spectral_proba)}
    fusion_ap = average_precision_score(y, fused)
    best = max(aps, key=aps.get)
    parts = ", ".join(f"{k} {v:.3f}" for k, v in aps.items())
    verdict = ("at least as good as each part" if fusion_ap >= aps[best] else
               f"below its best part ({best}) by {aps[best] - fusion_ap:.3f}")
    return (f"Fusion on the held-out test images of every family (pooled AP): "
            f"fusion {fusion_ap:.3f}; {parts}. The fusion is {verdict}.")


def _without_spectra(results):
    # The comparison draws its own peak and distance figures.
    return {k: v for k, v in results.items() if k not in ("peaks", "distances")}


def _reload(out_dir):
    from .report import load_results

    return load_results(out_dir)


def _run_on_data(out_dir, data, weights, quick, progress, max_images, t0):
    from detectors import list_dataset, load_checkpoint

    from .blur import blur_study
    from .compare import compare_generators
    from .figures import report_figures
    from .report import write_report

    stages = _Stages(progress, 4 + (weights is not None))
    metrics_dir = os.path.join(out_dir, "metrics")
    os.makedirs(metrics_dir, exist_ok=True)
    if quick and max_images is None:
        max_images = 8

    stages.start("spectra", f"spectra of {os.fspath(data)}")
    comparison = compare_generators(data, max_images=max_images, progress=progress)
    comparison.save(os.path.join(out_dir, "spectra"))

    evaluation, galleries = [], None
    if weights is not None:
        stages.start("scoring", f"scoring with {os.fspath(weights)}")
        model = load_checkpoint(weights)
        samples = list_dataset(data)
        if max_images:
            # Score the images the spectra were computed on.
            used = {p for g in comparison.groups.values() for p in g.paths}
            samples = [s for s in samples if s.path in used]
        proba, _ = _score(model, samples, None)
        name = f"weights {os.path.basename(os.fspath(weights))}"
        evaluation = _evaluate(proba, samples, name, metrics_dir, setting=name,
                               family="cnn")
        galleries = _galleries(samples, proba, name)

    stages.start("blur", "blur study: band discrimination and removed "
                     "evidence")
    profiles, freqs = comparison.band_profiles()
    study = blur_study(profiles, freqs, probs=(0.1, 0.5))

    stages.start("report", "figures and report")
    results = {
        "summary": {
            "mode": "data set",
            "data": os.fspath(data),
            "weights": os.fspath(weights) if weights else "none",
            "common size": f"{comparison.size[0]} x {comparison.size[1]} px",
            "images per class cap": max_images or "none",
        },
        "generators": comparison.generators,
        "evaluation": evaluation,
        "blur_study": study.to_dict(),
        "notes": ["No training on real data: AP against the augmentation "
                  "probability needs detectors trained at several probabilities."],
        **comparison.to_results(),
    }
    if galleries:
        results["galleries"] = galleries
    figures = comparison.plot(out_dir)
    figures.update(report_figures(_without_spectra(results), out_dir))
    results["figures"] = figures
    stages.stop()
    seconds = time.perf_counter() - t0
    results["summary"]["total seconds"] = round(seconds, 1)
    title = f"Spectral comparison of {os.path.basename(os.fspath(data))}"
    report = write_report(out_dir, results, title=title)
    return ComparisonRun(out_dir=out_dir, report=report, results=_reload(out_dir),
                         seconds=seconds)
