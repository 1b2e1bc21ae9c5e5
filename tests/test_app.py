import gc

from spacematch import create_app, get_store
from spacematch.config import from_environment


def test_config_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv("SPACEMATCH_SECRET_KEY", "from-env")
    monkeypatch.setenv("SPACEMATCH_DATABASE_URL", f"sqlite:///{tmp_path}/env.sqlite3")
    monkeypatch.setenv("SPACEMATCH_MATCH_WEIGHTS", '{"size": 1, "price": 1, "place": 1}')
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-env"
    assert app.config["MATCH_WEIGHTS"] == {"size": 1, "price": 1, "place": 1}
    assert get_store(app).url.endswith("env.sqlite3")
    # test_config wins over the environment
    app = create_app({"SECRET_KEY": "from-test", "DATABASE_URL": "sqlite://"})
    assert app.config["SECRET_KEY"] == "from-test"


def test_environment_coercion():
    found = from_environment(
        {"FLAG": False, "N": 1}, {"SPACEMATCH_FLAG": "yes", "SPACEMATCH_N": "7", "OTHER": "x"}
    )
    assert found == {"FLAG": True, "N": 7}


def test_default_store_is_sqlite_in_instance_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("SPACEMATCH_DATABASE_URL", raising=False)
    app = create_app({"SECRET_KEY": "x"})
    url = get_store(app).url
    assert url.startswith("sqlite:///") and url.endswith("instance/spacematch.sqlite3")


def test_sqlite_runs_in_wal_mode(app):
    store = get_store(app)
    if not store.is_sqlite:
        return
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_postgres_url_uses_psycopg3():
    from spacematch.db import Store

    store = Store("postgresql://u:p@127.0.0.1:1/db")
    assert store.engine.dialect.driver == "psycopg"


def test_server_app_freezes_what_lives_as_long_as_the_process(monkeypatch, store_url):
    """``spacematch.wsgi``: gunicorn's entry point loads the lazily imported modules, then moves
    everything alive out of the collector's full passes (the 70-110 ms stalls under load)."""
    import sys

    from spacematch.wsgi import LAZY_MODULES, create_server_app

    monkeypatch.setenv("SPACEMATCH_DATABASE_URL", store_url)
    monkeypatch.setenv("SPACEMATCH_SECRET_KEY", "test-secret")
    gc.unfreeze()
    app = create_server_app()
    try:
        assert gc.get_freeze_count() > 10_000
        assert set(LAZY_MODULES) <= set(sys.modules)
        assert app.config["DATABASE_URL"] == store_url
        response = app.test_client().get("/api/areas?q=Centrum")
        assert response.status_code == 200 and response.get_json()["areas"]
    finally:
        gc.unfreeze()
        get_store(app).dispose()


def test_server_app_refuses_a_store_that_is_not_migrated(monkeypatch, tmp_path):
    import pytest

    from spacematch.db import Store
    from spacematch.migrations import head, triggers
    from spacematch.wsgi import create_server_app

    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    monkeypatch.setenv("SPACEMATCH_DATABASE_URL", url)
    monkeypatch.setenv("SPACEMATCH_SECRET_KEY", "test-secret")
    with pytest.raises(RuntimeError, match=rf"schema revision none; .* needs {head()} with"):
        create_server_app()  # an empty store
    store = Store(url)
    store.create_schema()
    with store.engine.begin() as conn:
        triggers.drop(conn)  # as a table rebuild by a careless revision would
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = 'ffff'")
    with pytest.raises(RuntimeError, match=r"revision ffff, which this version .* does not know"):
        create_server_app()  # a newer store than this code
    with store.engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE alembic_version SET version_num = '{head()}'")
    with pytest.raises(RuntimeError, match=r"schema lacks its triggers; .* Run `flask --app"):
        create_server_app()
    assert store.create_schema().endswith("need triggers restored")
    store.dispose()
    gc.unfreeze()
    try:
        assert create_server_app().config["DATABASE_URL"] == url  # now it starts
    finally:
        gc.unfreeze()
