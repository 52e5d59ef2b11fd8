"""Experiment patches for the api-server, chosen by $CRASH_PATCH (comma-separated); loaded only
when bench/crash/trials.py --patch puts this directory on the server's PYTHONPATH.

serialize_in_thread: FastAPI serializes a sync endpoint's response (pydantic dump_json) on the
    event-loop thread. Airflow's collection responses are `Iterable[...]` fields holding a lazy
    SQLAlchemy ScalarResult, so rows are fetched and relationships selectin-loaded *there*, on
    the endpoint's DB connection, while other requests' endpoints run in worker threads. This
    patch runs that serialization in the threadpool instead.
materialize: consume Iterable response fields into lists in the threadpool before
    serialization (no generator/SQL runs inside pydantic-core dump_json).
sqla_pure: load SQLAlchemy's pure-Python modules instead of its Cython extensions.
gc_off: gc.disable() in the api-server (a crash "Garbage-collecting" shows corruption found by
    the collector, it does not say who corrupted; with GC off a corrupted object may still crash
    elsewhere).
"""
import os
import sys

PATCHES = set(filter(None, os.environ.get("CRASH_PATCH", "").split(",")))
IS_API = "api-server" in " ".join(sys.argv) or "api_server" in " ".join(sys.argv)

if "gc_off" in PATCHES and IS_API:
    import gc
    gc.disable()

if "serialize_in_thread" in PATCHES and IS_API:
    import importlib.abc
    import importlib.machinery

    def _patch_routing(mod):
        from starlette.concurrency import run_in_threadpool
        orig = mod.serialize_response

        async def serialize_response(*, field=None, response_content, is_coroutine=True, **kw):
            if field is not None and not is_coroutine:
                import anyio.from_thread  # noqa: F401
                def work():
                    value, errors = field.validate(response_content, {}, loc=("response",))
                    if errors:
                        return None
                    ser = field.serialize_json if kw.get("dump_json") else field.serialize
                    return ser(value, include=kw.get("include"), exclude=kw.get("exclude"),
                               by_alias=kw.get("by_alias", True),
                               exclude_unset=kw.get("exclude_unset", False),
                               exclude_defaults=kw.get("exclude_defaults", False),
                               exclude_none=kw.get("exclude_none", False))
                out = await run_in_threadpool(work)
                if out is not None:
                    return out
            return await orig(field=field, response_content=response_content,
                              is_coroutine=is_coroutine, **kw)

        mod.serialize_response = serialize_response
        print("[crash-patch] fastapi.routing.serialize_response runs in the threadpool",
              file=sys.stderr, flush=True)

    class _Finder(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name != "fastapi.routing":
                return None
            sys.meta_path.remove(self)
            spec = importlib.machinery.PathFinder.find_spec(name, path)
            loader = spec.loader
            orig_exec = loader.exec_module

            def exec_module(module):
                orig_exec(module)
                _patch_routing(module)

            loader.exec_module = exec_module
            return spec

    sys.meta_path.insert(0, _Finder())

if "sqla_pure" in PATCHES:
    # SQLAlchemy 2.1 ships each Cython module (sqlalchemy/*/_*_cy) also as plain Python next to
    # the compiled .so; load the .py so that no SQLAlchemy Cython code runs. (2.1 has no switch
    # for this: DISABLE_SQLALCHEMY_CEXT_RUNTIME is a 2.0 setting.) In every process, not only the
    # api-server: harmless, and `airflow` subprocesses see the same code.
    import importlib.abc
    import importlib.machinery
    import importlib.util

    class _PureSqla(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if not (name.startswith("sqlalchemy.") and name.endswith("_cy")) or not path:
                return None
            for d in path:
                src = os.path.join(d, name.rsplit(".", 1)[1] + ".py")
                if os.path.exists(src):
                    return importlib.util.spec_from_file_location(
                        name, src, loader=importlib.machinery.SourceFileLoader(name, src))
            return None

    sys.meta_path.insert(0, _PureSqla())

if "materialize" in PATCHES and IS_API:
    # Consume every lazily-validated `Iterable[...]` field (pydantic-core ValidatorIterator over
    # a SQLAlchemy ScalarResult) in the endpoint's worker thread, into a list, before FastAPI
    # serializes the response: dump_json then iterates a list, not a generator that runs SQL.
    import importlib.abc
    import importlib.machinery

    def _patch_routing_materialize(mod):
        from pydantic import BaseModel
        from starlette.concurrency import run_in_threadpool
        orig = mod.serialize_response

        def materialize(obj):
            if isinstance(obj, BaseModel):
                for name, value in list(obj.__dict__.items()):
                    if type(value).__name__ == "ValidatorIterator":
                        obj.__dict__[name] = [materialize(v) for v in value]
            return obj

        async def serialize_response(*, response_content=None, is_coroutine=True, **kw):
            if not is_coroutine and isinstance(response_content, BaseModel):
                response_content = await run_in_threadpool(materialize, response_content)
            return await orig(response_content=response_content, is_coroutine=is_coroutine,
                              **kw)

        mod.serialize_response = serialize_response
        print("[crash-patch] Iterable fields are materialized in the threadpool",
              file=sys.stderr, flush=True)

    class _FinderM(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name != "fastapi.routing":
                return None
            sys.meta_path.remove(self)
            spec = importlib.machinery.PathFinder.find_spec(name, path)
            orig_exec = spec.loader.exec_module

            def exec_module(module):
                orig_exec(module)
                _patch_routing_materialize(module)

            spec.loader.exec_module = exec_module
            return spec

    sys.meta_path.insert(0, _FinderM())
