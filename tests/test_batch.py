"""Many images: inputs, parallel batch runs, manifest, resume, and the shared palette."""

import json
import os

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from PIL import Image

import kmseg
from kmseg.batch._inputs import expand_inputs
from kmseg.cli import main

from exactness import assert_exact_kmeans
from images import quadrants


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "photos"
    (root / "sub").mkdir(parents=True)
    for i, seed in enumerate((0, 1, 2)):
        Image.fromarray(quadrants(seed=seed)).save(root / f"p{i}.png")
    Image.fromarray(quadrants(seed=3)).save(root / "sub" / "deep.png")
    (root / "notes.txt").write_text("not an image")
    return root


def test_expand_inputs(folder):
    flat = expand_inputs([str(folder)])
    assert [os.path.basename(p) for p, _ in flat] == ["p0.png", "p1.png", "p2.png"]
    deep = expand_inputs([str(folder)], recursive=True)
    assert ("sub" in [rel for _, rel in deep]) and len(deep) == 4
    assert len(expand_inputs([str(folder / "p*.png"), str(folder / "p0.png")])) == 3  # no duplicates
    with pytest.raises(kmseg.KmsegError, match="no such file, folder or matching pattern"):
        expand_inputs([str(folder / "none*.png")])


@pytest.mark.parametrize("jobs,workers", [(1, "threads"), (2, "threads"), (2, "processes")])
def test_segment_many_matches_segment(folder, tmp_path, jobs, workers):
    out = tmp_path / f"out{jobs}"
    summary = kmseg.segment_many([str(folder)], 4, str(out), jobs=jobs, workers=workers, recursive=True)
    assert summary.count("ok") == 4 and not summary.failed
    labels = np.asarray(Image.open(out / "p1_labels.png"))
    assert_array_equal(labels, kmseg.segment(folder / "p1.png", 4).labels)
    assert (out / "sub" / "deep_recolor.png").exists()
    lines = [json.loads(line) for line in (out / "manifest.jsonl").read_text().splitlines()]
    assert len(lines) == 4 and {r["status"] for r in lines} == {"ok"}
    assert all(r["k"] == 4 and r["inertia"] > 0 and r["seconds"] >= 0 for r in lines)


@pytest.mark.parametrize("jobs", [1, 2])
def test_segment_many_regions_matches_segment_regions(folder, tmp_path, jobs):
    out = tmp_path / f"regions{jobs}"
    summary = kmseg.segment_many([str(folder)], 3, str(out), jobs=jobs, regions=True, n_superpixels=60)
    assert summary.count("ok") == 3 and not summary.failed
    for i in range(3):
        expected = kmseg.segment_regions(folder / f"p{i}.png", 3, n_superpixels=60)
        assert_array_equal(np.asarray(Image.open(out / f"p{i}_labels.png")), expected.labels)
    assert {r["k"] for r in summary.records} == {3}
    # a threshold instead of k, and min_size: as segment_regions gives them
    summary = kmseg.segment_many([str(folder / "p0.png")], 8, str(out / "t"), jobs=jobs, regions=True,
                                 threshold=0.5, min_size=20, n_superpixels=60)
    expected = kmseg.segment_regions(folder / "p0.png", threshold=0.5, min_size=20, n_superpixels=60)
    assert summary.records[0]["k"] == expected.n_segments
    assert_array_equal(np.asarray(Image.open(out / "t" / "p0_labels.png")), expected.labels)


@pytest.mark.parametrize("kwargs, message", [
    (dict(shared_palette=True), "regions=True has no shared palette"),
    (dict(color_space="lab", n_init=2), "regions=True takes no color_space, n_init"),
    (dict(threshold=3.0), "threshold=3.0 must be a probability"),
    (dict(n_clusters="auto"), "n_clusters='auto' must be an integer"),
    # each of these failed every image in turn, one record each, instead of the call
    (dict(min_size=-1), "min_size=-1 must be >= 0"),
    (dict(cost="mean"), "cost='mean'"),
    (dict(n_superpixels=0), "n_superpixels=0"),
    (dict(edge_weight=50), "edge_weight shapes the hand-made merge cost"),
])
def test_segment_many_regions_checks_its_parameters_first(folder, tmp_path, kwargs, message):
    kwargs = {"n_clusters": 3, **kwargs}
    with pytest.raises(kmseg.KmsegError, match=message):
        kmseg.segment_many([str(folder)], output_dir=str(tmp_path / "o"), regions=True, **kwargs)
    assert not (tmp_path / "o").exists()  # refused before any output


def test_batch_command_regions(folder, tmp_path, capsys):
    out = tmp_path / "cli"
    assert main(["batch", str(folder), "-o", str(out), "--regions", "--threshold", "0.5", "--quiet"]) == 0
    assert_array_equal(np.asarray(Image.open(out / "p2_labels.png")),
                       kmseg.segment_regions(folder / "p2.png", threshold=0.5).labels)
    assert "3 segmented" in capsys.readouterr().out
    assert main(["batch", str(folder), "-o", str(out), "--regions", "--n-init", "2"]) == 2  # a usage error
    assert "--regions takes no --n-init" in capsys.readouterr().err


def test_local_workers_are_what_was_asked():
    from kmseg.batch import _local, _run

    assert _local.LocalExecutor(2).workers == "threads"
    assert _local.LocalExecutor(2, "processes").workers == "processes"
    assert _local.LocalExecutor(1).workers == "threads"  # one worker: the caller's own thread
    with pytest.raises(kmseg.KmsegError, match="workers"):
        _run.executor(2, "tcp://127.0.0.1:1", workers="bogus")


def test_thread_workers_keep_each_files_warnings(tmp_path, monkeypatch):
    """Threads decoding at once each get their own file's decoder warnings: in
    strict mode exactly the files whose decoder warns fail, each for its own name.
    The decoder here warns late, after a pause that lets the other thread run."""
    import time
    import warnings

    from kmseg.io import _read

    real = _read._read_pillow

    def slow_decoder(path, *args):
        out = real(path, *args)
        time.sleep(0.005)
        if "warns" in os.path.basename(path):
            warnings.warn(f"decoder trouble in {os.path.basename(path)}")
        time.sleep(0.005)
        return out

    monkeypatch.setattr(_read, "_read_pillow", slow_decoder)
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(12):
        for name in (f"good{i}", f"warns{i}"):
            Image.fromarray(quadrants(seed=i)).save(folder / f"{name}.png")
    with kmseg.config_context(strict=True):
        summary = kmseg.segment_many([str(folder)], 2, str(tmp_path / "out"), outputs=("labels",), jobs=2)
    failed = {os.path.basename(r["input"]): r["reason"] for r in summary.failed}
    assert sorted(failed) == sorted(f"warns{i}.png" for i in range(12))
    assert all(f"decoder trouble in {name}" in reason for name, reason in failed.items())
    assert summary.count("ok") == 12


def test_warnings_of_other_threads_are_not_a_files_notes(tmp_path, monkeypatch):
    """While one thread decodes (strict mode), warnings raised by another thread are
    neither taken for the file's decoder warnings nor lost."""
    import threading
    import time
    import warnings

    from kmseg.io import _read

    real = _read._read_pillow
    decoding = threading.Event()

    def slow_decoder(*args):
        decoding.set()
        time.sleep(0.2)
        return real(*args)

    def other_work():
        decoding.wait(5)
        warnings.warn("another thread's trouble", UserWarning)
        warnings.warn("another thread's kmseg note", kmseg.KmsegWarning)

    monkeypatch.setattr(_read, "_read_pillow", slow_decoder)
    Image.fromarray(quadrants()).save(tmp_path / "a.png")
    other = threading.Thread(target=other_work)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        other.start()
        with kmseg.config_context(strict=True):
            image = kmseg.read_image(tmp_path / "a.png")  # not refused for the other thread's warning
        other.join()
    assert image.shape == (40, 60, 3)
    assert sorted(str(w.message) for w in seen) == ["another thread's kmseg note", "another thread's trouble"]


def test_thread_warnings_record_this_threads_warnings_only():
    """The recorder the web server wraps each computation in: this thread's
    warnings, kmseg's own included; another thread's meanwhile go on."""
    import threading
    import warnings

    from kmseg.io._read import thread_warnings

    def other_thread():
        warnings.warn("from the elbow sweep", kmseg.KmsegWarning)

    with warnings.catch_warnings(record=True) as outside:
        warnings.simplefilter("always")
        with thread_warnings(kmseg_warnings=True) as caught:
            warnings.warn("from this computation", kmseg.KmsegWarning)
            other = threading.Thread(target=other_thread)
            other.start()
            other.join()
            warnings.warn("a library's note", UserWarning)
    assert [str(m) for m in caught] == ["from this computation", "a library's note"]
    assert [str(w.message) for w in outside] == ["from the elbow sweep"]


def test_thread_warnings_of_two_threads_at_once():
    """Batch workers decode side by side: two threads record at the same time,
    each its own warnings, and the filters and handler come back as they were."""
    import threading
    import warnings

    from kmseg.io._read import thread_warnings

    first_in, second_in = threading.Event(), threading.Event()
    caught = {}

    def worker(name, mine, other):
        with thread_warnings() as got:
            mine.set()
            assert other.wait(5), "the other thread could not record meanwhile"
            warnings.warn(f"from {name}", UserWarning)
            caught[name] = got

    handler, filters = warnings.showwarning, list(warnings.filters)
    threads = [threading.Thread(target=worker, args=("a", first_in, second_in)),
               threading.Thread(target=worker, args=("b", second_in, first_in))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {name: [str(m) for m in got] for name, got in caught.items()} == {"a": ["from a"], "b": ["from b"]}
    assert warnings.showwarning is handler and warnings.filters == filters


def test_bad_file_reported_and_resume_skips_done(folder, tmp_path):
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    out = tmp_path / "out"
    first = kmseg.segment_many([str(folder)], 3, str(out), jobs=1)
    assert first.count("ok") == 3 and len(first.failed) == 1
    assert "broken.png" in first.failed[0]["input"] and first.failed[0]["reason"]
    assert not [f for f in os.listdir(out) if f.startswith("broken")]  # nothing partial
    (out / "p2_labels.png").unlink()  # as if the run had been killed before p2 was done
    again = kmseg.segment_many([str(folder)], 3, str(out), jobs=1, resume=True)
    assert again.count("skipped") == 2 and again.count("ok") == 1 and len(again.failed) == 1
    assert (out / "p2_labels.png").exists()


def test_shared_palette_is_exact_over_all_pixels():
    a, b = quadrants(seed=5, noise=20), quadrants(seed=6, noise=30)[:, ::-1]
    palette = kmseg.fit_palette([a, b], 5, n_init=1, random_state=0, tol=0)
    pixels = np.concatenate([a.reshape(-1, 3), b.reshape(-1, 3)])
    assert_exact_kmeans(pixels, palette.centers, palette.inertia, tol=0)
    every = kmseg.KMeans(5, n_init=1, random_state=0).fit(pixels.astype(float))
    assert palette.inertia <= every.inertia_ * (1 + 0.02)
    seg_a, seg_b = palette.apply(a), palette.apply(b)
    assert_array_equal(seg_a.palette, seg_b.palette)  # label i is the same colour in both
    assert seg_a.counts.sum() + seg_b.counts.sum() == palette.counts.sum()


def test_partial_fit_equals_fit_palette():
    """PaletteFitter keeps scikit-learn's contract: parameters stored as given,
    partial_fit and fit return the estimator, fitted attributes end in '_'."""
    imgs = [quadrants(seed=s) for s in (7, 8, 9)]
    fitter = kmseg.PaletteFitter(4, n_init="bad")
    assert fitter.n_init == "bad" and not hasattr(fitter, "n_images_")
    with pytest.raises(kmseg.KmsegError, match="n_init='bad' must be an integer"):
        fitter.partial_fit(imgs[0])
    fitter = kmseg.PaletteFitter(4)
    for img in imgs:
        assert fitter.partial_fit(img) is fitter
    reference = kmseg.fit_palette(imgs, 4)
    assert fitter.n_images_ == 3
    assert_allclose(fitter.cluster_centers_, reference.centers)
    assert_array_equal(fitter.palette_, reference.palette)
    assert_array_equal(fitter.counts_, reference.counts)
    again = kmseg.PaletteFitter(4).fit(imgs)
    assert again.n_images_ == 3 and again.inertia_ == fitter.inertia_ == reference.inertia
    assert_array_equal(again.predict(imgs[0]), reference.apply(imgs[0]).labels)
    assert again.fit(imgs[:1]).n_images_ == 1  # fit starts afresh
    with pytest.raises(kmseg.KmsegError, match="no image given: partial_fit or fit the PaletteFitter first"):
        kmseg.PaletteFitter(4).to_palette()
    assert not hasattr(kmseg.PaletteFitter(4), "palette_")  # unfitted: no fitted attribute
    with pytest.raises(kmseg.KmsegError, match="fit takes an iterable of images"):
        kmseg.PaletteFitter(4).fit(imgs[0])
    from sklearn.base import clone

    copy = clone(kmseg.PaletteFitter(4, n_init=2))
    assert copy.get_params()["n_init"] == 2 and not hasattr(copy, "n_images_")


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_batch_command_shared_palette(folder, tmp_path, capsys, jobs):
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")  # left out, reported, the rest done
    out = tmp_path / "shared"
    assert main(["batch", str(folder), "-o", str(out), "-k", "4", "--shared-palette", "--jobs", jobs,
                 "--outputs", "labels,palette", "--quiet"]) == 1
    palettes = [json.loads((out / f"p{i}_palette.json").read_text())["colors"] for i in range(3)]
    colours = [[c["rgb"] for c in p] for p in palettes]
    assert colours[0] == colours[1] == colours[2]  # label i: the same colour in every image
    captured = capsys.readouterr()
    assert "3 segmented, 0 skipped (outputs exist), 1 failed" in captured.out
    assert "broken.png" in captured.err and "Traceback" not in captured.err
    expected = kmseg.fit_palette(sorted(str(p) for p in folder.glob("p*.png")), 4)
    assert [c["rgb"] for c in palettes[0]] == expected.palette.tolist()


@pytest.mark.parametrize("jobs", [1, 2])
def test_shared_palette_of_only_unreadable_files_reports_each(tmp_path, jobs):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "a.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    (folder / "b.jpg").write_bytes(b"not a jpeg")
    summary = kmseg.segment_many([str(folder)], 4, str(tmp_path / "out"), jobs=jobs, shared_palette=True)
    reasons = {os.path.basename(r["input"]): r["reason"] for r in summary.failed}
    assert sorted(reasons) == ["a.png", "b.jpg"] and summary.count("ok") == 0
    assert all(name in reason for name, reason in reasons.items())


def test_dask_palette_tree_leaves_out_unreadable_images_only(tmp_path):
    """The reduction behind a shared palette on Dask, run here: an unreadable image
    adds nothing, but a merge that fails (out of memory) stops the fit instead of
    passing as one more unreadable image (which would drop every image below it)."""
    from kmseg.batch import _dask

    (tmp_path / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    good = quadrants(seed=2)
    config = kmseg.get_config()
    assert _dask._leaf(config, str(tmp_path / "bad.png"), skip_bad=True) == []
    assert isinstance(_dask._leaf(config, str(tmp_path / "bad.png")), kmseg.KmsegError)
    leaves = [_dask._leaf(config, image, skip_bad=True) for image in (good, str(tmp_path / "bad.png"))]
    fitter = _dask._fit(_dask._merge(*leaves), kmseg.PaletteFitter(3))
    assert fitter.palette_.tolist() == kmseg.fit_palette([good], 3).palette.tolist()
    assert _dask._fit(_dask._merge([], []), kmseg.PaletteFitter(3)) is None  # nothing readable
    failed = _dask._fit(_dask._merge(_dask._merge(*leaves), MemoryError()), kmseg.PaletteFitter(3))
    assert isinstance(failed, MemoryError)


def test_batch_command_exit_1_on_failure(folder, tmp_path, capsys):
    (folder / "broken.jpg").write_bytes(b"no jpeg")
    assert main(["batch", str(folder), "-o", str(tmp_path / "o"), "--jobs", "1", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "broken.jpg" in err and "Traceback" not in err


def test_an_images_palette_colours_are_small_and_travel_whole():
    """What workers send for a shared palette is an image's distinct colours (a few bytes
    each), not the 128 MB table that adds many images up, and it pickles to the same."""
    import pickle
    import sys

    from sklearn.datasets import load_sample_image

    from kmseg.pipeline._palette import PaletteColors

    img = load_sample_image("china.jpg")
    colors = PaletteColors.of_image(img)
    n = len(colors.histogram()[1])
    assert sys.getsizeof(colors) < 64 * n + 10_000  # codes and counts, 16 bytes a colour, and some
    back = pickle.loads(pickle.dumps(colors))
    assert back.n_images == 1
    for a, b in zip(back.histogram(), colors.histogram()):
        assert_array_equal(a, b)


def test_palette_histograms_compact_exactly(monkeypatch):
    from kmseg.histogram import _histogram
    from kmseg.pipeline._palette import PaletteColors

    imgs = [quadrants(seed=s, noise=25) for s in (10, 11, 12, 13)]
    imgs += [img.astype(np.uint16) * 257 for img in imgs]  # another dtype: merged as unit RGB colours
    reference = kmseg.fit_palette(imgs, 6, n_init=1)
    monkeypatch.setattr(_histogram, "COMPACT_ROWS", 10)  # merge after every image
    fitter = kmseg.PaletteFitter(6, n_init=1)
    for img in imgs:
        fitter.partial_fit(img)
    assert_allclose(fitter.cluster_centers_, reference.centers, rtol=1e-12)
    total = PaletteColors()
    for img in imgs:
        total += PaletteColors.of_image(img)
    colors, counts = total.histogram()
    assert counts.sum() == 8 * 40 * 60 and total.n_images == 8


def test_same_stem_from_two_places_is_refused_before_any_work(folder, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "p0.png").write_bytes((folder / "p1.png").read_bytes())
    with pytest.raises(kmseg.KmsegError, match="would both write"):
        kmseg.segment_many([str(folder / "p0.png"), str(other / "p0.png")], 3, str(tmp_path / "o"))
    assert not (tmp_path / "o").exists()


def test_dask_scheduler_without_dask_says_what_to_install(folder, tmp_path, monkeypatch, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "distributed", None)  # as if Dask were not installed
    with pytest.raises(ImportError, match=r'pip install "dask\[distributed\]"'):
        kmseg.fit_palette([str(folder / "p0.png")], 3, scheduler="local")
    assert main(["batch", str(folder), "-o", str(tmp_path / "o"), "--cluster", "local", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == ('kmseg: error: a Dask scheduler needs Dask: pip install "dask[distributed]" '
                           '(or pip install ".[dask]" in a clone of kmseg)')


def test_shared_palette_auto_equals_fitting_its_k():
    """'auto' takes the sweep's own fit of the chosen k: the same palette as asking for that k."""
    imgs = [quadrants(seed=s, noise=10) for s in (20, 21)]
    auto = kmseg.fit_palette(imgs, "auto", n_init=2)
    fixed = kmseg.fit_palette(imgs, auto.n_colors, n_init=2)
    assert 2 <= auto.n_colors <= 10
    assert_allclose(auto.centers, fixed.centers, rtol=1e-12)
    assert_array_equal(auto.counts, fixed.counts)
    assert auto.inertia == pytest.approx(fixed.inertia, rel=1e-12)


@pytest.mark.parametrize("workers", ["threads", "processes"])
def test_ctrl_c_leaves_complete_files_and_resume_finishes(tmp_path, workers):
    """A real interrupted run (SIGINT, as Ctrl-C sends): exit 130, no temporary or
    partial file, and --resume writes exactly what an uninterrupted run writes."""
    import signal
    import subprocess
    import sys
    import time

    folder = tmp_path / "in"
    folder.mkdir()
    rng = np.random.default_rng(1)
    for i in range(40):
        Image.fromarray(rng.integers(0, 256, size=(240, 320, 3), dtype=np.uint8)).save(folder / f"{i:02d}.png")
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "kmseg", "batch", str(folder), "-o", str(out), "-k", "4", "--jobs", "2",
           "--quiet", "--outputs", "labels,palette"] + (["--processes"] if workers == "processes" else [])
    # the run gets Ctrl-C's default handling even where the suite was started in the
    # background by a shell without job control (which starts its children ignoring SIGINT)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    manifest = out / "manifest.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if manifest.exists() and len(manifest.read_text().splitlines()) >= 4:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err
    done = len(manifest.read_text().splitlines())
    assert 4 <= done < 40
    names = os.listdir(out)
    assert not [n for n in names if n.startswith(".kmseg-")]  # no temporary file left
    for name in names:
        if name.endswith("_labels.png"):
            with Image.open(out / name) as im:
                im.load()  # every file there is complete
    assert main(["batch", str(folder), "-o", str(out), "-k", "4", "--jobs", "2", "--quiet",
                 "--outputs", "labels,palette", "--resume"]) == 0
    clean = tmp_path / "clean"
    assert main(["batch", str(folder), "-o", str(clean), "-k", "4", "--jobs", "1", "--quiet",
                 "--outputs", "labels,palette"]) == 0
    for name in sorted(os.listdir(clean)):
        if name.endswith(".png"):
            assert (out / name).read_bytes() == (clean / name).read_bytes(), name
    resumed = [json.loads(line) for line in manifest.read_text().splitlines()][done:]
    assert sorted(os.path.basename(r["input"]) for r in resumed) == sorted(os.listdir(folder))
    assert {r["status"] for r in resumed} == {"ok", "skipped"}  # each image once: done or skipped


def test_sigkill_at_random_moments_then_resume_is_an_uninterrupted_run(tmp_path):
    """SIGKILL (nothing to clean up with) at random moments, some of them while a file
    is being written; then --resume: the folder is exactly the uninterrupted run's,
    manifest aside, with no temporary file left."""
    import random
    import signal
    import subprocess
    import sys
    import time

    folder = tmp_path / "in"
    folder.mkdir()
    rng = np.random.default_rng(7)
    for i in range(12):
        Image.fromarray(rng.integers(0, 256, size=(200, 240, 3), dtype=np.uint8)).save(folder / f"{i:02d}.png")
    args = ["batch", str(folder), "-k", "4", "--jobs", "2", "--quiet"]
    assert main(args + ["-o", str(tmp_path / "clean")]) == 0
    expected = {n: (tmp_path / "clean" / n).read_bytes() for n in os.listdir(tmp_path / "clean")}
    del expected["manifest.jsonl"]
    for seed in range(4):
        moment = random.Random(seed)
        out = tmp_path / f"killed{seed}"
        proc = subprocess.Popen([sys.executable, "-m", "kmseg", *args, "-o", str(out)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        manifest, done = out / "manifest.jsonl", moment.randrange(12)  # images done before the kill
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            if manifest.exists() and len(manifest.read_text().splitlines()) >= done:
                break
            time.sleep(0.002)
        if seed % 2:  # then at once, or as soon as a file is being written
            until = time.monotonic() + 1
            while proc.poll() is None and time.monotonic() < until:
                if any(n.startswith(".kmseg-") for n in os.listdir(out)):
                    break
        proc.kill()
        proc.wait(timeout=60)
        assert main(args + ["-o", str(out), "--resume"]) == 0
        names = sorted(os.listdir(out))
        assert not [n for n in names if n.startswith(".kmseg-")], (seed, names)
        names.remove("manifest.jsonl")
        assert names == sorted(expected), seed
        for name in names:
            assert (out / name).read_bytes() == expected[name], (seed, name)


def test_leftovers_of_dead_writers_are_removed_and_never_taken_for_files(folder, tmp_path):
    """A kmseg temporary file is removed when its writer is gone (or it is an hour old);
    a live writer's, and every file that is not kmseg's, are left alone."""
    import signal
    import subprocess
    import sys
    import time

    from kmseg.io._write import _host_tag, temporary_file

    out = tmp_path / "out"
    out.mkdir()
    killed = ("import os, signal, sys\nfrom kmseg.io import _write\n"
              "_write.os.replace = lambda a, b: os.kill(os.getpid(), signal.SIGKILL)  # killed mid-write\n"
              "_write.save_bytes(sys.argv[1], b'half')\n")
    proc = subprocess.run([sys.executable, "-c", killed, str(out / "p0_labels.png")], timeout=60)
    assert proc.returncode == -signal.SIGKILL
    dead, = os.listdir(out)
    assert dead.startswith(".kmseg-tmp-") and dead.endswith("-p0_labels.png")
    fd, live = temporary_file(str(out), "p1_labels.png")  # being written now, by this process
    os.close(fd)
    other_host = f"{(int(_host_tag(), 16) + 1) % (1 << 32):08x}"
    hour_ago = time.time() - 3700
    files = {f".kmseg-tmp-{other_host}-1-abcdefgh-p2_labels.png": (None, True),  # another machine's: kept
             f".kmseg-tmp-{other_host}-1-stuvwxyz-p2_recolor.png": (hour_ago, False),  # ... unless stale
             ".kmseg-ab_cd123.png": (hour_ago, True),  # its name does not say it is kmseg's
             ".kmseg-notes.txt": (hour_ago, True)}
    for name, (mtime, _) in files.items():
        (out / name).write_bytes(b"x")
        if mtime is not None:
            os.utime(out / name, (mtime, mtime))
    inputs = [os.path.basename(p) for p, _ in expand_inputs([str(out)])]
    assert inputs == [".kmseg-ab_cd123.png"]  # kmseg's temporaries are no input images
    summary = kmseg.segment_many([str(folder)], 3, str(out), jobs=1, resume=True)
    assert summary.count("ok") == 3
    left = {n for n in os.listdir(out) if n.startswith(".")}
    assert left == {os.path.basename(live)} | {n for n, (_, kept) in files.items() if kept}
    assert (out / "p0_labels.png").read_bytes().startswith(b"\x89PNG")
    os.remove(live)


@pytest.mark.parametrize("kwargs, message", [
    (dict(shared_palette=True, spatial_weight=1.0), "shared_palette=True takes no spatial_weight"),
    (dict(shared_palette=True, n_init=0), "n_init=0 must be >= 1"),
    (dict(n_init=0), "n_init=0 must be >= 1"),
    (dict(tol=-1), "tol=-1.0 must be a finite number >= 0"),
    (dict(bands=True, recolor="x.tif"), "segment_many takes no recolor"),
    (dict(threshold=0.5), "parameters of segment_regions: pass regions=True"),
])
def test_segment_many_checks_its_parameters_before_any_image(folder, tmp_path, kwargs, message):
    with pytest.raises(kmseg.KmsegError, match=message):
        kmseg.segment_many([folder], 3, tmp_path / "out", jobs=1, **kwargs)
    assert not (tmp_path / "out").exists()
