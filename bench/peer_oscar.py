"""The peer: a minimal django-oscar shop with the same 30 products, for ``bench/run.py --peer``.

    .venv/bin/python bench/peer_oscar.py            # install and build it, print where it is
    .venv/bin/python bench/peer_oscar.py --serve    # ... and serve it (gunicorn, 2 workers)

django-oscar comes from PyPI into a virtualenv of its own under ``bench/out/oscar-venv``
(with ``sorl-thumbnail``, its documented thumbnailer, and gunicorn); nothing of it touches
the project's environment. The shop follows Oscar's "building your own shop" settings
(``oscar.INSTALLED_APPS``, its middleware and context processors), Haystack on Whoosh (the
catalogue page is a search: Haystack's simple backend lists nothing for it), SQLite, ``DEBUG = False``, 30 products per catalogue page, prices in CNY. Each
build starts from an empty database: ``migrate``, then one product class, one partner and
30 standalone products with a stock record each, the titles and prices given.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
VENV = OUT / "oscar-venv"
PROJECT = OUT / "oscar-shop"
REQUIREMENTS = ("django-oscar[sorl-thumbnail]", "Whoosh", "gunicorn")

SETTINGS = '''
from pathlib import Path

import oscar
from oscar.defaults import *  # noqa: F401,F403 - Oscar's documented way

BASE = Path(__file__).resolve().parent.parent
SECRET_KEY = "bench-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
SITE_ID = 1
INSTALLED_APPS = oscar.INSTALLED_APPS + ["sorl.thumbnail"]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "oscar.apps.basket.middleware.BasketMiddleware",
    "django.contrib.flatpages.middleware.FlatpageFallbackMiddleware",
]
ROOT_URLCONF = "shop.urls"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [],
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.debug",
        "django.template.context_processors.request",
        "django.contrib.auth.context_processors.auth",
        "django.template.context_processors.i18n",
        "django.contrib.messages.context_processors.messages",
        "oscar.apps.search.context_processors.search_form",
        "oscar.apps.checkout.context_processors.checkout",
        "oscar.apps.communication.notifications.context_processors.notifications",
        "oscar.core.context_processors.metadata",
    ]},
}]
AUTHENTICATION_BACKENDS = ("oscar.apps.customer.auth_backends.EmailBackend",
                           "django.contrib.auth.backends.ModelBackend")
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE / "shop.db"}}
HAYSTACK_CONNECTIONS = {"default": {"ENGINE": "haystack.backends.whoosh_backend.WhooshEngine",
                                    "PATH": str(BASE / "whoosh_index")}}
LANGUAGE_CODE = "zh-hans"
USE_I18N = True
USE_TZ = True
STATIC_URL = "/static/"
MEDIA_ROOT = BASE / "media"
MEDIA_URL = "/media/"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
OSCAR_DEFAULT_CURRENCY = "CNY"
OSCAR_PRODUCTS_PER_PAGE = 30
'''

URLS = '''
from django.apps import apps
from django.urls import include, path

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include(apps.get_app_config("oscar").urls[0])),
]
'''

WSGI = '''
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
application = get_wsgi_application()
'''

SEED = '''
import json
import os
import sys
from decimal import Decimal

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
django.setup()

from oscar.apps.catalogue.models import Product, ProductClass  # noqa: E402
from oscar.apps.partner.models import Partner, StockRecord  # noqa: E402

rows = json.load(open(sys.argv[1], encoding="utf-8"))
kind = ProductClass.objects.create(name="Goods", requires_shipping=True, track_stock=True)
partner = Partner.objects.create(name="Bench")
urls = []
for n, row in enumerate(rows):
    product = Product.objects.create(title=row["title"], upc=f"BENCH-{n:03d}", product_class=kind,
                                     structure="standalone", is_public=True, description="")
    StockRecord.objects.create(product=product, partner=partner, partner_sku=f"BENCH-{n:03d}",
                               price=Decimal(row["price"]) / 100, price_currency="CNY", num_in_stock=100)
    urls.append(product.get_absolute_url())
print(json.dumps(urls))
'''


def python() -> Path:
    return VENV / "bin" / "python"


def install() -> None:
    """The virtualenv and its packages from PyPI, once."""
    if not python().exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    done = subprocess.run([str(python()), "-c", "import oscar, sorl, whoosh, gunicorn"], capture_output=True)
    if done.returncode != 0:
        subprocess.run([str(python()), "-m", "pip", "install", "-q", *REQUIREMENTS], check=True)


def build(rows: list[dict]) -> dict:
    """A fresh shop with ``rows`` (dicts with ``title`` and ``price`` in minor units).

    Returns ``{"catalogue": path, "product": path, "project": dir}``.
    """
    install()
    package = PROJECT / "shop"
    package.mkdir(parents=True, exist_ok=True)
    for name, body in (("__init__.py", ""), ("settings.py", SETTINGS), ("urls.py", URLS), ("wsgi.py", WSGI)):
        (package / name).write_text(body.lstrip(), encoding="utf-8")
    (PROJECT / "seed.py").write_text(SEED.lstrip(), encoding="utf-8")
    (PROJECT / "rows.json").write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    (PROJECT / "shop.db").unlink(missing_ok=True)
    shutil.rmtree(PROJECT / "whoosh_index", ignore_errors=True)
    env = env_for()
    subprocess.run([str(python()), "-m", "django", "migrate", "--noinput", "-v", "0"], cwd=PROJECT, env=env,
                   check=True)
    seeded = subprocess.run([str(python()), "seed.py", "rows.json"], cwd=PROJECT, env=env, check=True,
                            capture_output=True, text=True)
    urls = json.loads(seeded.stdout.strip().splitlines()[-1])
    subprocess.run([str(python()), "-m", "django", "rebuild_index", "--noinput", "-v", "0"], cwd=PROJECT,
                   env=env, check=True)
    return {"catalogue": "/catalogue/", "product": urls[0], "project": str(PROJECT)}


def env_for() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SIYU_", "VIRTUAL_ENV", "PYTHON"))}
    env.update({"DJANGO_SETTINGS_MODULE": "shop.settings", "PYTHONPATH": str(PROJECT)})
    return env


def app_args() -> list[str]:
    return ["--chdir", str(PROJECT), "shop.wsgi"]


def gunicorn_args(port: int, workers: int) -> list[str]:
    return [str(python()), "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}", *app_args()]


def versions() -> dict[str, str]:
    done = subprocess.run([str(python()), "-c", "import django, oscar; print(django.get_version(), "
                           "oscar.get_version())"], capture_output=True, text=True)
    parts = done.stdout.split()
    return {"Django": parts[0], "django-oscar": parts[1]} if len(parts) == 2 else {}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--serve", action="store_true")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args(argv)
    rows = [{"title": f"好物 {n}", "price": 2800 + 1700 * n} for n in range(30)]
    built = build(rows)
    print(f"oscar shop in {built['project']}: catalogue {built['catalogue']}, product {built['product']}")
    if args.serve:
        os.execve(str(python()), gunicorn_args(args.port, 2), env_for())
    return 0


if __name__ == "__main__":
    sys.exit(main())
