"""The wheel carries what an installed quizapp needs (issue 9, Packaging).

`pip install .` once gave a quizapp whose `demo` looked for site-packages/question_banks and
whose `db upgrade` had no migrations. Here the wheel is built from a copy of the checkout,
installed into a fresh virtual environment, and run from an empty directory, so nothing of the
checkout is on sys.path: `quizapp --help`, `db upgrade` and `demo --simulate` must work there.
Its dependencies come from this test's environment (fast); QUIZAPP_WHEEL_TEST_INDEX=1 installs
them from the package index instead, which also proves the declared dependency list complete.
"""
from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
KEEP_OUT = shutil.ignore_patterns(".git", ".venv", "instance", "build", "dist", "*.egg-info", "__pycache__",
                                  ".pytest_cache", ".hypothesis", "tests", "benchmarks", "docs")


def _run(args, cwd, env, timeout=900):
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(the fresh venv's bin directory, an empty working directory, a clean environment)."""
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"
    shutil.copytree(ROOT, source, ignore=KEEP_OUT)  # a copy: building writes build/ beside the sources
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", str(source), "-w", str(tmp / "dist")],
                 tmp, os.environ.copy())
    assert built.returncode == 0, built.stderr[-3000:]
    wheel = next((tmp / "dist").glob("quizapp-*.whl"))
    venv.create(tmp / "venv", with_pip=False)  # this pip installs into it (--python): no ensurepip wait
    bin_dir = tmp / "venv" / "bin"
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("QUIZAPP_", "PYTHON", "VIRTUAL_ENV", "FLASK_"))}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    pip = [sys.executable, "-m", "pip", "--python", str(bin_dir / "python"), "install", "-q",
           "--disable-pip-version-check"]
    if os.environ.get("QUIZAPP_WHEEL_TEST_INDEX") == "1":
        install = _run([*pip, str(wheel)], tmp, env)  # dependencies from the package index: slow, complete
    else:
        # The dependencies from this test's own environment, as a plain sys.path entry: a
        # .pth line adds the folder but does not run the .pth files inside it, so the
        # checkout's editable-install hook stays inactive and only the wheel provides quizapp.
        purelib = sysconfig.get_paths()["purelib"]
        site = next((tmp / "venv" / "lib").glob("python*/site-packages"))
        (site / "zz_test_dependencies.pth").write_text(purelib + "\n", encoding="utf-8")
        install = _run([*pip, "--no-deps", str(wheel)], tmp, env)
    assert install.returncode == 0, install.stderr[-3000:]
    work = tmp / "work"
    work.mkdir()
    return bin_dir, work, env


def test_the_installed_package_is_the_wheel_not_the_checkout(installed):
    bin_dir, work, env = installed
    where = _run([str(bin_dir / "python"), "-c", WHERE], work, env)
    assert where.returncode == 0, where.stderr
    package, banks, migrations, path = where.stdout.splitlines()
    path = ast.literal_eval(path)
    inside = str(bin_dir.parent)
    assert package.startswith(inside) and "site-packages" in package
    assert banks.startswith(inside) and int(banks.split()[-1]) >= 5  # the shipped banks, found in the package
    assert migrations.startswith(inside) and int(migrations.split()[-1]) >= 5  # every migration
    assert ROOT not in [Path(entry or work).resolve() for entry in path]  # "" is the empty working directory


WHERE = """
import sys, quizapp
from quizapp import paths
print(quizapp.__file__)
print(paths.QUESTION_BANKS, len(list(paths.QUESTION_BANKS.glob("*.yaml"))))
print(paths.MIGRATIONS, len(list((paths.MIGRATIONS / "versions").glob("0*.py"))))
print(sys.path)
"""


def test_help_db_upgrade_and_demo_run_from_the_wheel(installed, tmp_path):
    bin_dir, work, env = installed
    quizapp = str(bin_dir / "quizapp")
    demo_env = {**env, "QUIZAPP_DEMO": "1", "QUIZAPP_DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}"}

    helped = _run([quizapp, "--help"], work, demo_env)
    assert helped.returncode == 0 and "demo" in helped.stdout and "Traceback" not in helped.stderr, helped.stderr
    upgraded = _run([quizapp, "db", "upgrade"], work, demo_env)
    assert upgraded.returncode == 0, upgraded.stderr[-2000:]
    demo = _run([quizapp, "demo", "--simulate"], work, demo_env)
    assert demo.returncode == 0, demo.stderr[-2000:]
    assert "已导入题库" in demo.stdout and "初赛、复赛、决赛均已结束" in demo.stdout
    assert "组织者登录" in demo.stdout and "单位联络员登录：用户名 lianluo01" in demo.stdout

    # The printed liaison login works in the installed app and shows that unit's page.
    check = _run([str(bin_dir / "python"), "-c", LIAISON_SIGN_IN], work, {**demo_env, "TMP_DB": str(tmp_path)})
    assert check.returncode == 0 and check.stdout.strip() == "200 县纪委监委机关", check.stdout + check.stderr[-2000:]


LIAISON_SIGN_IN = """
import re
from quizapp import create_app
app = create_app({"WTF_CSRF_ENABLED": False})
client = app.test_client()
signed = client.post("/login", data={"username": "lianluo01", "password": "liaison-demo-2018"})
assert signed.status_code == 302, signed.status_code
page = client.get("/unit/")
print(page.status_code, "县纪委监委机关" if "县纪委监委机关" in page.get_data(as_text=True) else "?")
"""


def test_configuration_errors_are_one_chinese_line(installed, tmp_path):
    bin_dir, work, env = installed
    quizapp = str(bin_dir / "quizapp")
    plain = {**env, "QUIZAPP_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}  # no secret key, no demo
    for args, env_ in ((["--help"], plain), (["db", "upgrade"], plain), (["sweep"], plain),
                       (["sweep"], {**plain, "QUIZAPP_SECRET_KEY": "short"}),
                       (["sweep"], {**env, "QUIZAPP_DEMO": "1", "QUIZAPP_DATABASE_URL": "nosuchdb://x"})):
        result = _run([quizapp, *args], work, env_)
        lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
        assert result.returncode != 0, (args, result.stdout)
        assert len(lines) == 1 and lines[0].startswith("错误：") and "Traceback" not in result.stderr, (args, lines)
    assert _run([quizapp, "bank", "--help"], work, plain).returncode == 0  # needs no app, so no key
