"""Tests of the office profile (``zhengshou.toml``): lookup, validation, template, CLI, demo."""

from __future__ import annotations

import dataclasses
import logging
import re
import tomllib
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zhengshou_analysis import profile as profile_module
from zhengshou_analysis.cli import main
from zhengshou_analysis.exceptions import InputError
from zhengshou_analysis.profile import (
    DEFAULT_PROFILE,
    PROFILE_KEYS,
    PROFILE_NAME,
    SCENARIO_KEYS,
    Profile,
    ProfileError,
    load_profile,
    parse_profile,
    render_profile_doc,
    render_profile_template,
    write_profile_template,
)
from zhengshou_analysis.settings import DEFAULT_POLICY, Escalation, Policy

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"


def _write(folder: Path, text: str, name: str = PROFILE_NAME) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _problems(text: str) -> ProfileError:
    with pytest.raises(ProfileError) as info:
        parse_profile(text, source="office/zhengshou.toml")
    return info.value


# ------------------------------------------------------------------------------------ lookup
def test_lookup_order(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    raw, here, elsewhere = tmp_path / "raw", tmp_path / "here", tmp_path / "elsewhere"
    given_file = _write(elsewhere, '[office]\nname = "given"\n', "mine.toml")
    _write(raw, '[office]\nname = "raw"\n')
    _write(here, '[office]\nname = "cwd"\n')
    caplog.set_level(logging.INFO, logger="zhengshou_analysis.profile")

    assert load_profile(given_file, raw_dir=raw, cwd=here).office_name == "given"
    assert load_profile(raw_dir=raw, cwd=here).office_name == "raw"
    assert load_profile(raw_dir=raw, cwd=here).source == raw / PROFILE_NAME
    assert load_profile(raw_dir=tmp_path / "no_profile", cwd=here).office_name == "cwd"
    assert load_profile(cwd=here).office_name == "cwd"
    assert load_profile(raw_dir=tmp_path, cwd=tmp_path) is DEFAULT_PROFILE
    assert Profile.default() is DEFAULT_PROFILE
    assert DEFAULT_PROFILE.source is None
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert "given with --profile" in messages
    assert "in the ledger folder" in messages
    assert "in the current folder" in messages
    assert "built-in defaults" in messages


def test_lookup_defaults_to_the_current_folder(tmp_path: Path, monkeypatch) -> None:
    _write(tmp_path, '[office]\nname = "here"\n')
    monkeypatch.chdir(tmp_path)
    assert load_profile().office_name == "here"


def test_missing_explicit_profile_names_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ProfileError) as info:
        load_profile(missing, raw_dir=DEMO)
    assert str(missing) in str(info.value)
    assert info.value.file == str(missing)
    assert isinstance(info.value, InputError)


def test_unreadable_profile(tmp_path: Path) -> None:
    path = tmp_path / PROFILE_NAME
    path.write_bytes("[office]\nname = '港北区'\n".encode("gbk"))
    with pytest.raises(ProfileError, match="UTF-8"):
        load_profile(path)


# ------------------------------------------------------------------------------------ validation
@pytest.mark.parametrize(
    ("text", "path", "allowed"),
    [
        # unknown keys, with the valid ones listed
        ("[offices]\n", "offices", "office, headers, zones, policy, forecast"),
        ("[office]\nnmae = 'x'\n", "office.nmae", "did you mean name"),
        ("[policy]\npayment_days = 3\n", "policy.payment_days", "payment_term_days, escalation"),
        ("[forecast]\nhorizon = 3\n", "forecast.horizon", "horizon_months, seed, scenarios"),
        (
            "[[forecast.scenarios]]\nname = 'a'\ninflow = 0.8\n",
            "forecast.scenarios[0].inflow",
            "inflow_factor",
        ),
        # wrong types: a boolean is not an integer
        ("[policy]\npayment_term_days = true\n", "policy.payment_term_days", "integer >= 0"),
        ("[forecast]\nseed = '2021'\n", "forecast.seed", "(string)"),
        ("[forecast]\nhorizon_months = 12.5\n", "forecast.horizon_months", "<= 120"),
        ("[office]\nname = 3\n", "office.name", "non-empty string"),
        ("[office]\nname = ' '\n", "office.name", "non-empty string"),
        ("policy = 3\n", "policy", "must be a table"),
        ("[forecast]\nscenarios = 3\n", "forecast.scenarios", "[[forecast.scenarios]]"),
        (
            "[[forecast.scenarios]]\nname = 'a'\ninflow_factor = nan\n",
            "forecast.scenarios[0].inflow_factor",
            "finite",
        ),
        ("[[forecast.scenarios]]\ninflow_factor = 0.8\n", "forecast.scenarios[0].name", "required"),
        (
            "[[forecast.scenarios]]\nname = 'a'\n[[forecast.scenarios]]\nname = 'a'\n",
            "forecast.scenarios[1].name",
            "duplicate",
        ),
        # headers: tables and columns of schemas.TABLES
        ("[headers.site]\nzone = ['街道']\n", "headers.site", "did you mean sites"),
        ("[headers.sites]\nzone_name = ['街道']\n", "headers.sites.zone_name", "site_name, zone"),
        ("[headers.sites]\norigin = ['来源']\n", "headers.sites.origin", "cannot be mapped"),
        ("[headers.sites]\nzone = '街道'\n", "headers.sites.zone", "array of header words"),
        ("[headers.sites]\nzone = ['']\n", "headers.sites.zone[0]", "empty header word"),
        ("[headers.sites]\nzone = ['街道', '  ']\n", "headers.sites.zone[1]", "empty header word"),
        ("[headers.sites]\nzone = [1]\n", "headers.sites.zone[0]", "must be a string"),
        ("[headers.sites]\nsite_name = ['联系电话']\n", "headers.sites.site_name[0]", "personal"),
        (
            "[headers.sites]\nzone = ['街道']\nsite_name = ['街道']\n",
            "headers.sites.site_name[0]",
            "headers.sites.zone",
        ),
        ("[headers.sites]\nzone = ['安置区名称']\n", "headers.sites.zone[0]", "sites.site_name"),
        ("headers = 1\n", "headers", "must be a table"),
        # zones: one 片区 per alias
        (
            "[zones]\n'城东片区' = ['东片']\n'城西片区' = ['东片']\n",
            'zones."城西片区"[0]',
            "already claimed by 片区 '城东片区'",
        ),
        (
            "[zones]\n'城东片区' = ['城西片区']\n'城西片区' = []\n",
            'zones."城东片区"[0]',
            "already claimed",
        ),
        ("[zones]\n'城东片区' = '城东'\n", 'zones."城东片区"', "array of aliases"),
        ("[zones]\n'城东片区' = ['']\n", 'zones."城东片区"[0]', "non-empty string"),
        # escalation: [int >= 1, number >= 1] pairs from 1, strictly increasing
        ("[policy]\nescalation = [[2, 1.5]]\n", "policy.escalation[0]", "start at overdue month 1"),
        (
            "[policy]\nescalation = [[1, 1.5], [1, 2.0]]\n",
            "policy.escalation[1]",
            "increase strictly",
        ),
        (
            "[policy]\nescalation = [[1, 1.5], [13, 2.0], [7, 3.0]]\n",
            "policy.escalation[2]",
            "7 after 13",
        ),
        ("[policy]\nescalation = [[1, 0.5]]\n", "policy.escalation[0][1]", "number >= 1"),
        ("[policy]\nescalation = [[1, true]]\n", "policy.escalation[0][1]", "number >= 1"),
        ("[policy]\nescalation = [[1.5, 2]]\n", "policy.escalation[0][0]", "integer >= 1"),
        ("[policy]\nescalation = [1, 1.5]\n", "policy.escalation[0]", "pair"),
        ("[policy]\nescalation = []\n", "policy.escalation", "[[1, 1.5], [13, 2.0]]"),
        # periods: negative or zero
        ("[policy]\npayment_term_days = -1\n", "policy.payment_term_days", "integer >= 0"),
        (
            "[policy]\ndefault_transition_months = 0\n",
            "policy.default_transition_months",
            "integer >= 1",
        ),
        ("[forecast]\nhorizon_months = 0\n", "forecast.horizon_months", "integer >= 1"),
        ("[forecast]\nseed = -1\n", "forecast.seed", "integer >= 0"),
        (
            "[[forecast.scenarios]]\nname = 'a'\nlump_month = 0\n",
            "forecast.scenarios[0].lump_month",
            "integer >= 1",
        ),
        (
            "[[forecast.scenarios]]\nname = 'a'\ndelivery_delay_months = -6\n",
            "forecast.scenarios[0].delivery_delay_months",
            "integer >= 0",
        ),
        # age bands
        ("[policy]\nage_bands_months = [1, 3]\n", "policy.age_bands_months[0]", "start at 0"),
        ("[policy]\nage_bands_months = [0, 6, 3]\n", "policy.age_bands_months[2]", "strictly"),
        ("[policy]\nage_bands_months = [0, -3]\n", "policy.age_bands_months[1]", ">= 0"),
    ],
)
def test_each_problem_names_the_file_the_key_and_what_is_allowed(
    text: str, path: str, allowed: str
) -> None:
    exc = _problems(text)
    message = str(exc)
    assert "office/zhengshou.toml" in message  # the file
    assert f"  {path}: " in message, message  # the key path
    assert allowed in message, message  # what is allowed
    assert path in [p for p, _ in exc.problems]


def test_toml_syntax_error_has_line_and_column() -> None:
    exc = _problems("[policy]\npayment_term_days = = 30\n")
    assert "line 2, column" in str(exc)
    assert "office/zhengshou.toml" in str(exc)


def test_every_problem_is_reported_at_once() -> None:
    text = (
        "colour = 'red'\n"
        "[office]\nname = true\n"
        "[headers.sites]\nzone_name = ['街道']\n"
        "[policy]\npayment_term_days = true\nescalation = [[1, 1.5], [1, 2.0]]\n"
        "[forecast]\nhorizon_months = 0\n"
    )
    exc = _problems(text)
    paths = [p for p, _ in exc.problems]
    assert paths == [
        "colour",
        "office.name",
        "headers.sites.zone_name",
        "policy.payment_term_days",
        "policy.escalation[1]",
        "forecast.horizon_months",
    ]
    lines = str(exc).splitlines()
    assert "6 problems" in lines[0]
    assert len(lines) == 7  # one line per problem


def test_parameter_errors_of_policy_and_scenario_name_the_key(monkeypatch) -> None:
    # should a check of the declaration ever let a value through, the classes' own checks still
    # end in a ProfileError that names the key
    monkeypatch.setattr(profile_module, "_collect_problems", lambda data: [])
    exc = _problems(
        "[policy]\nescalation = [[2, 1.5]]\n"
        "[[forecast.scenarios]]\nname = 'a'\ninflow_factor = -1.0\n"
    )
    paths = [p for p, _ in exc.problems]
    assert paths == ["policy.escalation", "forecast.scenarios[0]"]
    assert "inflow_factor must be >= 0" in str(exc)


def test_profile_built_in_python_is_validated_too() -> None:
    with pytest.raises(ProfileError, match=r"forecast\.horizon_months"):
        Profile(horizon_months=0)
    with pytest.raises(ProfileError, match=r"headers\.sites\.zone_name"):
        Profile(headers={"sites": {"zone_name": ("街道",)}})


# ------------------------------------------------------------------------------------ the profile
def test_a_full_profile(tmp_path: Path) -> None:
    text = """
[office]
name = "港北区"
[headers.sites]
zone = ["所在街道"]
site_name = ["安置点"]
[zones]
"城东片区" = ["城东", "东片"]
[policy]
payment_term_days = 30
escalation = [[1, 1.5], [13, 2]]
default_transition_months = 24
age_bands_months = [0, 3, 6, 12]
[forecast]
horizon_months = 12
seed = 2021
[[forecast.scenarios]]
name = "资金到位八折"
inflow_factor = 0.8
[[forecast.scenarios]]
name = "专项债"
lump_yuan = 50000000
lump_month = 3
"""
    from zhengshou_analysis.forecast.scenarios import Scenario

    p = load_profile(_write(tmp_path, text))
    assert p.office_name == "港北区"
    assert p.headers == {"sites": {"zone": ("所在街道",), "site_name": ("安置点",)}}
    assert p.zones == {"城东片区": ("城东", "东片")}
    assert p.policy == Policy(
        escalation=Escalation(((1, 1.5), (13, 2.0))), default_transition_months=24
    )
    assert p.scenarios == (
        Scenario("资金到位八折", inflow_factor=0.8),
        Scenario("专项债", lump_yuan=5e7, lump_month=3),
    )
    assert p.scenario_set == p.scenarios
    assert p.source == tmp_path / PROFILE_NAME
    # read-only
    with pytest.raises(TypeError):
        p.headers["sites"] = {}  # type: ignore[index]
    with pytest.raises(TypeError):
        p.zones["城东片区"] = ()  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.seed = 1  # type: ignore[misc]
    # hashable, by content
    assert {p: 1}[parse_profile(text)] == 1
    # round trip through its own template
    again = parse_profile(render_profile_template(p))
    assert again == p
    assert again.fingerprint == p.fingerprint


def test_no_scenarios_means_the_built_in_set() -> None:
    from zhengshou_analysis.forecast.scenarios import DEFAULT_SCENARIOS

    assert DEFAULT_PROFILE.scenarios is None
    assert DEFAULT_PROFILE.scenario_set == DEFAULT_SCENARIOS


def test_declaration_matches_the_classes() -> None:
    from zhengshou_analysis.forecast.scenarios import Scenario

    scenario_defaults = {f.name: f.default for f in dataclasses.fields(Scenario)}
    assert [k.name for k in SCENARIO_KEYS] == list(scenario_defaults)
    for key in SCENARIO_KEYS[1:]:
        assert key.default == scenario_defaults[key.name], key.name
    declared = {k.path: k.default for k in PROFILE_KEYS}
    assert declared["policy.payment_term_days"] == DEFAULT_POLICY.payment_term_days
    assert declared["policy.escalation"] == [list(t) for t in DEFAULT_POLICY.escalation.tiers]
    assert declared["policy.default_transition_months"] == DEFAULT_POLICY.default_transition_months
    assert declared["policy.age_bands_months"] == list(DEFAULT_POLICY.age_bands_months)
    assert declared["forecast.horizon_months"] == DEFAULT_PROFILE.horizon_months
    assert declared["forecast.seed"] == DEFAULT_PROFILE.seed


def test_fingerprint_is_of_the_content(tmp_path: Path) -> None:
    text = "[office]\nname = '港北区'\n[policy]\npayment_term_days = 45\n"
    layout = (
        '# 港北区的配置\n\n[office]   # 单位\n  name   =   "港北区"\n\n\n'
        "[policy]\n# 付款期限\npayment_term_days=45   # 天\n"
    )
    a, b = load_profile(_write(tmp_path / "a", text)), load_profile(_write(tmp_path / "b", layout))
    assert a.fingerprint == b.fingerprint
    assert a == b  # the source does not count
    assert hash(a) == hash(b)
    assert a.source != b.source
    changed = parse_profile(text.replace("45", "46"))
    assert changed.fingerprint != a.fingerprint
    assert changed != a
    assert len(a.fingerprint) == 64
    assert DEFAULT_PROFILE.fingerprint != a.fingerprint
    # integer-valued numbers: 2 and 2.0 are the same multiplier
    assert (
        parse_profile("[policy]\nescalation = [[1, 1.5], [13, 2]]\n").fingerprint
        == DEFAULT_PROFILE.fingerprint
    )


# ------------------------------------------------------------------------------------ template
def test_template_round_trip(tmp_path: Path) -> None:
    path = write_profile_template(tmp_path)
    assert path == tmp_path / PROFILE_NAME
    loaded = load_profile(path)
    assert loaded == Profile.default()
    assert dataclasses.replace(loaded, source=None) == DEFAULT_PROFILE
    assert loaded.fingerprint == DEFAULT_PROFILE.fingerprint
    text = path.read_text(encoding="utf-8")
    # every key is written, with its default or (unset by default) as a commented example
    for key in PROFILE_KEYS:
        assert f"{key.name} = " in text, key.path
    for key in SCENARIO_KEYS:
        assert f"# {key.name} = " in text, key.name
    for section in ("[office]", "[headers]", "[zones]", "[policy]", "[forecast]"):
        assert section in text
    assert "# [headers.sites]" in text
    assert "#   sites（安置区台账）: site_id, site_name, zone" in text
    # the commented examples are valid when uncommented
    uncommented = "\n".join(
        line.removeprefix("# ") if re.match(r'# (\[|"?\w+"? = )', line) else line
        for line in text.splitlines()
    )
    example = tomllib.loads(uncommented)
    parse_profile(uncommented)
    assert example["headers"]["sites"] == {"zone": ["所在街道"], "site_name": ["安置点"]}
    assert example["forecast"]["scenarios"][0]["name"] == "资金到位八折"


def test_write_template_refuses_to_overwrite(tmp_path: Path) -> None:
    path = _write(tmp_path, "# mine\n")
    with pytest.raises(ProfileError, match="--force"):
        write_profile_template(tmp_path)
    assert path.read_text(encoding="utf-8") == "# mine\n"
    write_profile_template(tmp_path, force=True)
    assert load_profile(path) == DEFAULT_PROFILE


def _normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


_key_text = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=8
).filter(_normal)


@st.composite
def _policies(draw) -> Policy:
    starts = sorted(draw(st.sets(st.integers(2, 240), max_size=4)))
    mults = draw(
        st.lists(
            st.floats(1, 10, allow_nan=False), min_size=len(starts) + 1, max_size=len(starts) + 1
        )
    )
    bands = sorted(draw(st.sets(st.floats(0.1, 240, allow_nan=False), max_size=5)))
    return Policy(
        payment_term_days=draw(st.integers(0, 3650)),
        escalation=Escalation(tuple(zip([1, *starts], mults, strict=True))),
        default_transition_months=draw(st.none() | st.integers(1, 240)),
        age_bands_months=(0.0, *bands),
    )


@st.composite
def _profiles(draw) -> Profile:
    from zhengshou_analysis.forecast.scenarios import Scenario

    zone_names = draw(st.lists(_key_text, max_size=3, unique_by=_normal))
    aliases = draw(st.lists(_key_text, max_size=4, unique_by=_normal))
    used = {_normal(z) for z in zone_names}
    zones = {z: [] for z in zone_names}
    for i, alias in enumerate(a for a in aliases if _normal(a) not in used):
        if zone_names:
            zones[zone_names[i % len(zone_names)]].append(alias)
    names = draw(st.lists(_key_text, max_size=3, unique=True))
    scenarios = tuple(
        Scenario(
            name,
            inflow_factor=draw(st.floats(0, 5, allow_nan=False)),
            lump_yuan=draw(st.floats(-1e9, 1e9, allow_nan=False)),
            lump_month=draw(st.integers(1, 120)),
            delivery_delay_months=draw(st.integers(0, 60)),
        )
        for name in names
    )
    return Profile(
        office_name=draw(st.none() | _key_text),
        zones=zones,
        policy=draw(_policies()),
        horizon_months=draw(st.integers(1, 120)),
        seed=draw(st.integers(0, 2**32)),
        scenarios=scenarios or None,
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_profiles())
def test_template_round_trip_of_any_valid_profile(profile: Profile) -> None:
    again = parse_profile(render_profile_template(profile))
    assert again == profile
    assert again.fingerprint == profile.fingerprint


def test_profile_doc_is_current() -> None:
    committed = (ROOT / "docs" / "profile.md").read_text(encoding="utf-8")
    assert committed == render_profile_doc(), "run: zhengshou profile-doc --out docs/profile.md"
    for key in PROFILE_KEYS:
        assert f"`{key.path}`" in committed
    for key in SCENARIO_KEYS:
        assert f"`{key.name}`" in committed


# ------------------------------------------------------------------------------------ CLI
def test_init_writes_and_refuses_to_overwrite(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["init"]) == 0
    path = tmp_path / PROFILE_NAME
    assert load_profile(path) == DEFAULT_PROFILE
    path.write_text("[office]\nname = '港北区'\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["init"]) == 2
    err = capsys.readouterr().err
    assert "--force" in err
    assert PROFILE_NAME in err
    assert load_profile(path).office_name == "港北区"  # left alone
    assert main(["init", ".", "--force"]) == 0
    assert load_profile(path) == DEFAULT_PROFILE
    assert main(["init", str(tmp_path / "new" / "office")]) == 0
    assert (tmp_path / "new" / "office" / PROFILE_NAME).is_file()


BAD = "[policy]\npayment_term_days = true\n[forecast]\nhorizon_months = 0\n"


def test_invalid_profile_leaves_no_output(tmp_path: Path, capsys) -> None:
    bad = _write(tmp_path, BAD, "bad.toml")
    out = tmp_path / "out"
    assert main(["clean", str(DEMO), "--out", str(out), "--profile", str(bad)]) == 2
    assert not out.exists()
    err = capsys.readouterr().err
    assert str(bad) in err
    assert "policy.payment_term_days" in err
    assert "forecast.horizon_months" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["figures", "{raw}", "--year", "2022"],
        ["report", "--year", "2022", "--data", "{raw}", "--out", "{out}"],
        ["batch", "--data", "{raw}", "--out", "{out}"],
        ["clean", "{raw}", "--out", "{out}"],
    ],
)
def test_every_command_checks_the_profile_first(tmp_path: Path, argv, capsys) -> None:
    raw, out = tmp_path / "raw", tmp_path / "out"
    _write(raw, BAD)  # found by the lookup in the ledger folder
    args = [a.format(raw=raw, out=out) for a in argv]
    assert main(args) == 2
    assert not out.exists()
    err = capsys.readouterr().err
    assert str(raw / PROFILE_NAME) in err
    assert "policy.payment_term_days" in err
    # and the explicit --profile wins over the ledger folder's
    good = _write(tmp_path, "[office]\nname = 'x'\n", "good.toml")
    bad = _write(tmp_path, BAD, "bad.toml")
    assert main([*args, "--profile", str(bad)]) == 2
    assert str(bad) in capsys.readouterr().err
    del good


def test_the_loaded_profile_is_kept_on_args(tmp_path: Path, monkeypatch) -> None:
    from zhengshou_analysis import cli

    seen = {}

    def fake_figures(args) -> int:
        seen["profile"] = args.profile_obj
        return 0

    monkeypatch.setattr(cli, "_cmd_figures", fake_figures)
    assert main(["figures", str(DEMO), "--year", "2022"]) == 0
    assert seen["profile"].office_name == "XX区"  # the demo folder's own profile
    mine = _write(tmp_path, "[office]\nname = '港北区'\n")
    assert main(["figures", str(DEMO), "--year", "2022", "--profile", str(mine)]) == 0
    assert seen["profile"].office_name == "港北区"
    assert seen["profile"].source == mine


# ------------------------------------------------------------------------------------ demo
def test_the_demo_profile_loads() -> None:
    from zhengshou_analysis.demo import SYNTHETIC_LABEL, render_demo_profile
    from zhengshou_analysis.demo.world import DEFAULT_CONFIG
    from zhengshou_analysis.ledger.ingest import list_raw_files

    path = DEMO / PROFILE_NAME
    text = path.read_text(encoding="utf-8")
    assert text == render_demo_profile()
    assert SYNTHETIC_LABEL in text.splitlines()[0]
    demo = load_profile(raw_dir=DEMO)
    assert demo.source == path
    assert demo.office_name == DEFAULT_CONFIG.district
    assert demo.zones == {z: (DEFAULT_CONFIG.zone_short[z],) for z in DEFAULT_CONFIG.zones}
    assert demo.policy == DEFAULT_POLICY
    assert (demo.horizon_months, demo.seed, demo.scenarios) == (12, 2021, None)
    # the ledger reader does not take the profile for a ledger
    assert path not in list_raw_files(DEMO)
