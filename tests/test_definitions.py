"""The code location loads, every piece is wired, and the dbt project parses."""

import dagster as dg

from orchestration.assets.dbt_models import ensure_manifest


def test_definitions_load_with_every_part():
    from orchestration.definitions import defs

    repo = defs.get_repository_def()
    keys = {k.to_user_string() for k in repo.asset_graph.get_all_asset_keys()}
    for expected in ("raw/medical_claim", "raw/eligibility", "raw/observation", "raw/provider",
                     "stg_medical_claim", "measure_cases", "risk_model/coefficients", "published/code_overview",
                     "published/measure_performance", "published/qpp_submissions", "published/site",
                     "code_overview", "labels/icd10_cm", "follow_up_worklist", "follow_up_counts"):
        assert expected in keys, expected
    assert {"ingest_job", "refresh_job", "refit_job", "worklist_export_job"} <= {j.name for j in repo.get_all_jobs()}
    # one delivery per run: the partitions come from the raw assets it selects
    assert defs.resolve_job_def("ingest_job").partitions_def.name == "delivery"
    assert "weekly_worklist_export" in {s.name for s in repo.schedule_defs}
    assert repo.sensor_defs and repo.schedule_defs
    checks = repo.asset_graph.asset_check_keys
    assert any(c.asset_key == dg.AssetKey("measure_cases") for c in checks)


def test_dbt_models_are_grouped_by_layer_with_owners_and_kinds():
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    expected = {
        "stg_medical_claim": ("staging", "team:data-engineering", "view"),
        "base_medical_claim": ("staging", "team:data-engineering", "incremental"),
        "int_pairs__cases": ("intermediate", "team:measures", "table"),
        "measure_cases": ("marts", "team:measures", "table"),
        "measure_codes": ("registry", "team:measures", "table"),
        "measure_performance": ("reporting", "team:reporting", "table"),
        "pairs_parameters": ("seeds", "team:measures", "seed"),
    }
    for name, (group, owner, kind) in expected.items():
        node = graph.get(dg.AssetKey(name))
        assert (node.group_name, list(node.owners)) == (group, [owner]), name
        assert {"dbt", "duckdb", kind} == set(node.kinds), name
    published = graph.get(dg.AssetKey(["published", "measure_performance"]))
    assert published.group_name == "publication"
    assert dg.AssetKey("measure_performance") in published.parent_keys
    assert "default" not in {graph.get(k).group_name for k in graph.get_all_asset_keys()}


def test_dbt_project_parses():
    import json

    manifest = json.loads(ensure_manifest().read_text())
    models = {n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    assert {"stg_medical_claim", "measure_cases", "score_pairs", "rehab_episodes"} <= models


def test_the_refresh_and_refit_select_the_checks_of_the_code_labels():
    """The code labels' dbt source tests are checks on the label assets; the label assets are written by the dbt
    step (no step of their own), so a job that selects every asset leaves those checks out unless it names them,
    and dagster-dbt then logged each test the build ran as an observation with a multi-line warning (a second
    `spine-pipeline run` printed four)."""
    from orchestration.assets.code_labels import KEYS
    from orchestration.definitions import defs

    for job in ("refresh_job", "refit_job"):
        checks = defs.resolve_job_def(job).asset_layer.asset_graph.asset_check_keys
        assert {c.asset_key for c in checks} >= KEYS, job
        assert len([c for c in checks if c.asset_key in KEYS]) == 4, job
