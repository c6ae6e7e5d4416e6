"""Every script in examples/ runs, prints its result and writes its pictures."""

import os
import subprocess
import sys

import pytest

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")
SCRIPTS = sorted(f for f in os.listdir(EXAMPLES) if f.endswith(".py") and not f.startswith("_"))


def test_all_recipes_are_here():
    assert {"toy_4x4.py", "grey_k2.py", "rgb_k3_k10.py", "china_16_colors.py", "blobs.py", "digits.py",
            "elbow.py", "volume_classes.py"} <= set(SCRIPTS)


@pytest.mark.parametrize("script", SCRIPTS)
def test_example_runs(script, tmp_path):
    proc = subprocess.run([sys.executable, os.path.join(EXAMPLES, script), "-o", str(tmp_path)],
                          capture_output=True, text=True, timeout=300, cwd=EXAMPLES)
    assert proc.returncode == 0, proc.stderr
    if script != "toy_4x4.py":
        assert any(f.endswith(".png") for f in os.listdir(tmp_path))


def test_digits_accuracy_matches_scikit_learn(tmp_path):
    proc = subprocess.run([sys.executable, os.path.join(EXAMPLES, "digits.py"), "-o", str(tmp_path)],
                          capture_output=True, text=True, timeout=300, cwd=EXAMPLES, check=True)
    accuracy = float(proc.stdout.split("digits: ")[1].split()[0])
    assert accuracy >= 0.79  # scikit-learn's KMeans reaches about 0.79 on this recipe


def test_blobs_recovered(tmp_path):
    proc = subprocess.run([sys.executable, os.path.join(EXAMPLES, "blobs.py"), "-o", str(tmp_path)],
                          capture_output=True, text=True, timeout=300, cwd=EXAMPLES, check=True)
    assert float(proc.stdout.split("blobs: ")[1].split()[0]) > 0.95
