"""Currency-neutral names (issue 12): the rename map, the re-runnable rename tool and its --check on this tree,
the deprecation layer for old names (files, model files, CSV headers, --set), the instance's currency in
every money label, and the refusal of journals written before the rename."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from cli_harness import assert_one_line_error, run_main

from gplopt import load_instance
from gplopt.currency import RENAMED, DeprecatedName, rename_keys
from gplopt.errors import InstanceError

ROOT = Path(__file__).resolve().parent.parent
OLD_OF = {new: old for old, new in RENAMED.items() if "_cny_" in old or old.endswith("_cny")}
SYNONYMS = {"power_cost_per_kw", "energy_cost_per_kwh"}   # the cost model's and provenance's names of one quantity


def _tool() -> Any:
    spec = importlib.util.spec_from_file_location("rename_currency", ROOT / "tools" / "rename_currency.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _old_names(node: Any, keep: set[str] = frozenset()) -> Any:   # type: ignore[assignment]
    """Data written with the names of schema 1.1 (the inverse of the map; synonyms take their first old name)."""
    inverse: dict[str, str] = {}
    for old, new in RENAMED.items():
        inverse.setdefault(new, old)
    if isinstance(node, dict):
        return {(k if k in keep else inverse.get(k, k)): _old_names(v, keep) for k, v in node.items()}
    if isinstance(node, list):
        return [_old_names(x, keep) for x in node]
    return node


@pytest.fixture(scope="module")
def old_beijing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("old") / "beijing_old.json"
    p.write_text(json.dumps(_old_names(json.loads((ROOT / "instances" / "beijing.json").read_text()))))
    return p


# ------------------------------------------------------------------------------------------ map and tool
def test_tree_has_no_old_money_names_or_fixed_currency_labels() -> None:
    """The CI guard: ``python tools/rename_currency.py --check`` passes, so no merged branch brings a ``cny``
    name or a hard-coded CNY label back."""
    problems = _tool().check(ROOT)
    assert problems == [], "\n".join(problems[:20]) + "\nrun: python tools/rename_currency.py"


def test_map_renames_every_cny_name_to_a_distinct_neutral_one() -> None:
    assert all("cny" in old for old in RENAMED)
    assert not any("cny" in new.lower() for new in RENAMED.values())
    assert not set(RENAMED) & set(RENAMED.values())          # applying it twice changes nothing
    targets = list(RENAMED.values())
    shared = {n for n in targets if targets.count(n) > 1}
    assert shared == SYNONYMS, "two old names map to one new name: allowed only for the same quantity"


def test_tool_renames_whole_words_is_idempotent_and_check_flags_fixed_labels(tmp_path: Path) -> None:
    tool = _tool()
    (tmp_path / "gplopt").mkdir()
    (tmp_path / "docs").mkdir()
    (tmp_path / "gplopt" / "a.py").write_text('x = d["net_benefit_cny"] + d["my_net_benefit_cny2"]\n'
                                              'LABEL = "kW per MCNY/yr"\n')
    (tmp_path / "docs" / "b.md").write_text("`incentive.price_cny_per_kwh` and storage_cost_per_kw_cny\n")
    (tmp_path / "data.json").write_text('{"voll_cny_per_kwh": 10, "charger_cost_cny": 1, '
                                        '"charger_cost_cny_per_year": 2}')
    (tmp_path / "docs" / "currency.md").write_text("price_cny_per_kwh stays: the list of old names\n")
    assert tool.check(tmp_path)                                  # leftovers found before the rename
    changed = tool.rename(tmp_path)
    assert set(changed) == {"gplopt/a.py", "docs/b.md", "data.json"}
    assert (tmp_path / "gplopt" / "a.py").read_text().startswith('x = d["net_benefit"] + d["my_net_benefit_cny2"]')
    assert (tmp_path / "docs" / "b.md").read_text() == "`incentive.price_per_kwh` and storage_cost_per_kw\n"
    assert json.loads((tmp_path / "data.json").read_text()) == {
        "voll_per_kwh": 10, "charger_cost_annual": 1, "charger_cost_per_year": 2}
    assert (tmp_path / "docs" / "currency.md").read_text().startswith("price_cny_per_kwh")   # exempt
    assert tool.rename(tmp_path) == {}                           # re-running changes nothing
    problems = tool.check(tmp_path)
    assert problems == ["gplopt/a.py:2: hard-coded currency 'MCNY' (labels use the instance's currency)"]


def test_docs_list_every_renamed_field() -> None:
    text = (ROOT / "docs" / "currency.md").read_text(encoding="utf-8")
    missing = [f"{old} -> {new}" for old, new in RENAMED.items() if f"| `{old}` | `{new}` |" not in text]
    assert not missing, missing


# ------------------------------------------------------------------------------------------ deprecation layer
def test_old_names_load_as_the_same_instance_with_one_notice_per_field(old_beijing: Path) -> None:
    with pytest.warns(DeprecatedName) as got:
        old = load_instance(old_beijing)
    assert old == load_instance(ROOT / "instances" / "beijing.json")
    msgs = [str(w.message) for w in got]
    assert "field 'incentive.price_cny_per_kwh' is deprecated; use 'price_per_kwh'" in msgs
    assert msgs.count("field 'network.buses[*].voll_cny_per_kwh' is deprecated; use 'voll_per_kwh'") == 1
    assert len(msgs) == len(set(msgs)) == 6


def test_cli_old_name_file_gives_identical_numbers_and_warns_on_stderr(old_beijing: Path) -> None:
    new = run_main("evaluate", ROOT / "instances" / "beijing.json", "--years", "1", "--json", limit_s=120)
    old = run_main("evaluate", old_beijing, "--years", "1", "--json", limit_s=120)
    assert new.code == old.code == 0, (new.err, old.err)

    def numbers(out: str) -> Any:
        d = json.loads(out)
        d.pop("seconds", None)
        return d

    assert numbers(old.out) == numbers(new.out)
    assert new.err == ""
    lines = old.err.splitlines()
    assert "warning: field 'economics.storage_power_cost_cny_per_kw' is deprecated; use 'storage_power_cost_per_kw'" \
        in lines
    assert len(lines) == 6 and all(x.startswith("warning: field '") for x in lines)


def test_set_with_an_old_name_is_the_new_one_with_a_notice() -> None:
    path = ROOT / "instances" / "beijing.json"
    new = run_main("validate", path, "--json", "--set", "incentive.price_per_kwh=2")
    old = run_main("validate", path, "--json", "--set", "incentive.price_cny_per_kwh=2")
    assert new.code == old.code == 0
    assert json.loads(old.out) == json.loads(new.out)
    assert json.loads(new.out)["gpl"]["incentive_per_kwh"] == 2
    assert old.err.strip() == "warning: field 'incentive.price_cny_per_kwh' is deprecated; use 'price_per_kwh'"


def test_both_names_of_one_field_exit_2_naming_it(tmp_path: Path) -> None:
    data = json.loads((ROOT / "instances" / "beijing.json").read_text())
    data["incentive"] = {"price_per_kwh": 1.5, "price_cny_per_kwh": 2.0}
    p = tmp_path / "both.json"
    p.write_text(json.dumps(data))
    res = run_main("validate", p)
    assert_one_line_error(res, "incentive.price_cny_per_kwh", "absent when 'price_per_kwh' is given", "both given")
    with pytest.raises(InstanceError, match="economics.storage_hours|both given"):
        rename_keys({"economics": {"storage_om_cny_per_kwh_year": 1, "storage_om_per_kwh_year": 1}})


def test_old_model_files_and_csv_headers_are_read_with_a_notice(tmp_path: Path) -> None:
    models = tmp_path / "models"
    (models / "chargers").mkdir(parents=True)
    (models / "participation").mkdir()
    charger = json.loads((ROOT / "gplopt" / "models" / "chargers" / "bidirectional_ac.json").read_text())
    (models / "chargers" / "old_ac.json").write_text(json.dumps({**_old_names(charger), "name": "old_ac"}))
    curve = json.loads((ROOT / "gplopt" / "models" / "participation" / "beijing_assumed.json").read_text())
    rows = [f"{g['price_per_kwh']},{g['v2g']},{g['load_reduction']}" for g in curve["grades"]]
    (models / "participation" / "old_curve.csv").write_text("price_cny_per_kwh,v2g,load_reduction\n"
                                                           + "\n".join(rows) + "\n")
    shutil.copy(ROOT / "instances" / "beijing.json", tmp_path / "case.json")
    res = run_main("validate", tmp_path / "case.json", "--json", "--set", "gpl.charger_type=old_ac",
                   "--set", "gpl.participation=old_curve")
    ref = run_main("validate", ROOT / "instances" / "beijing.json", "--json")
    assert res.code == ref.code == 0, res.err
    got, want = json.loads(res.out)["gpl"], json.loads(ref.out)["gpl"]
    assert got["charger_cost_per_year"] == want["charger_cost_per_year"]
    assert got["participation_v2g"] == want["participation_v2g"]
    assert "old_ac.json: capital_fixed_cny' is deprecated; use 'capital_fixed'" in res.err
    assert "old_curve.csv: header price_cny_per_kwh' is deprecated; use 'price_per_kwh'" in res.err


# ------------------------------------------------------------------------------------------ currency
def test_currency_must_be_an_iso_code(tmp_path: Path) -> None:
    res = run_main("validate", ROOT / "instances" / "beijing.json", "--set", "currency=usd")
    assert_one_line_error(res, "currency", "ISO 4217", "usd")


def test_usd_instance_labels_every_money_figure_in_usd() -> None:
    path = ROOT / "instances" / "beijing.json"
    table = run_main("ecc", path, "--years", "2", "--set", "currency=USD", limit_s=120)
    assert table.code == 0, table.err
    assert "USD/yr" in table.out and "kW per MUSD/yr" in table.out and "USD/kW/yr" in table.out
    assert "CNY" not in table.out
    inspect = run_main("validate", path, "--set", "currency=USD")
    assert "USD/kWh" in inspect.out and "USD/yr per charger" in inspect.out and "CNY" not in inspect.out
    js = run_main("validate", path, "--json", "--set", "currency=USD")
    assert json.loads(js.out)["currency"] == "USD"


def test_usd_result_reports_label_money_in_usd(tmp_path: Path) -> None:
    """A report of a result written in USD labels its money in USD; a result written before the rename (old
    names, no currency) still renders, in the default currency."""
    from gplopt.report import build_report

    src = ROOT / "docs" / "results" / "tornado"
    texts = {}
    for name in ("usd", "old"):
        d = tmp_path / name
        shutil.copytree(src, d)
        res = json.loads((d / "result.json").read_text())
        res = {**res, "currency": "USD", "notes": []} if name == "usd" else _old_names({k: v for k, v in res.items()
                                                                           if k != "currency"})
        (d / "result.json").write_text(json.dumps(res))
        texts[name] = "\n".join(body for _, body in build_report(d).sections)
    usd = texts["usd"]
    assert "kW per million USD/yr" in usd and "USD/kW +" in usd and "USD/kWh/yr" in usd
    assert "CNY" not in usd            # (the instance's notes, in words, are left out here: they name CNY)
    assert "kW per million CNY/yr" in texts["old"] and "CNY/kW +" in texts["old"]


def test_screen_refuses_feeders_in_different_currencies() -> None:
    from gplopt.screen import one_currency

    a = load_instance(ROOT / "instances" / "beijing.json")
    b = load_instance(ROOT / "instances" / "beijing.json", ["currency=EUR"])
    assert one_currency([Path("a.json"), Path("a2.json")], [a, a]) == "CNY"
    with pytest.raises(InstanceError, match="one currency.*a.json: CNY, b.json: EUR"):
        one_currency([Path("a.json"), Path("b.json")], [a, b])


# ------------------------------------------------------------------------------------------ journals
def test_journal_written_before_the_rename_is_refused(tmp_path: Path) -> None:
    """A format-2 journal (records with the old money keys) is refused by its format, never read back."""
    from gplopt.checkpoint import FORMAT, checksum

    j = tmp_path / "run.jsonl"
    first = run_main("evaluate", ROOT / "instances" / "beijing.json", "--years", "1", "--journal", j, "--json",
                     limit_s=120)
    assert first.code == 0, first.err
    lines = j.read_text().splitlines()
    header = json.loads(lines[0])
    assert header["format"] == FORMAT == 3
    header = {**{k: v for k, v in header.items() if k != "sum"}, "format": 2}
    j.write_text(json.dumps({**header, "sum": checksum(header)}) + "\n" + "\n".join(lines[1:]) + "\n")
    res = run_main("evaluate", ROOT / "instances" / "beijing.json", "--years", "1", "--journal", j)
    assert_one_line_error(res, "a format-3 journal", "format-2")
